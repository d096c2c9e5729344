import { Context } from '@temporalio/activity';
import { withHeartbeat } from './heartbeat.js';
import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';
import { pushImage } from '../adapters/docker-push.js';
import {
  buildModelImage,
  ensureRuntimeImage,
  ensureWheelhouse,
  loadTemplate,
  type LoadedTemplate,
} from '../adapters/image-builder.js';
import type { PackageStore } from '../adapters/package-store.js';
import type { RegistryClient } from '../adapters/registry-client.js';
import { logPath } from '../adapters/stack/processes.js';
import type { PackageRef, StageOutcome } from '../domain/release.js';

export interface ContainerizeOutput {
  image: string;
  digest: string;
  cached: boolean;
  template: string;
  templateKey: string;
  runtimeImage: string;
  sizeMB: number;
}

export interface ContainerizeActivities {
  containerizePackage(input: {
    model: string;
    version: string;
    template: string;
    package: PackageRef;
  }): Promise<StageOutcome<ContainerizeOutput>>;
}

export interface ContainerizeDeps {
  docker: Docker;
  registry: RegistryClient;
  store: PackageStore;
  baseImage: string;
  cacheDir: string;
  home: string;
  /** The interpreter whose pip downloads the wheelhouse. */
  python: string;
}

export function createContainerizeActivities(deps: ContainerizeDeps): ContainerizeActivities {
  return {
    /**
     * Builds the model image (template runtime + package) with no network and pushes
     * it. The tag is keyed by package digest and template key, so a retry or an
     * unchanged package finds the image already in the registry: one image, one digest.
     */
    async containerizePackage({ model, template, package: ref }) {
      const ctx = Context.current();
      try {
        await deps.docker.getImage(deps.baseImage).inspect();
      } catch {
        throw ApplicationFailure.nonRetryable(
          `base image ${deps.baseImage} is missing; run \`npx paved stack up\``,
          'BaseImageMissing',
        );
      }
      let t: LoadedTemplate;
      try {
        t = loadTemplate(template, deps.baseImage);
      } catch (err) {
        throw ApplicationFailure.nonRetryable(
          `template ${template}: ${(err as Error).message}`,
          'TemplateInvalid',
        );
      }
      const repository = `paved/${model}`;
      const tag = `pkg-${ref.digest.slice('sha256:'.length, 'sha256:'.length + 12)}-t-${t.key.slice(0, 8)}`;
      const image = `${deps.registry.address}/${repository}:${tag}`;
      const runtimeImage = `paved/runtime-${t.spec.name}:${t.key}`;
      // Anything with access to the registry could have pushed this tag: trust it only
      // when the image says it was built from this very package and template.
      const labels = await deps.registry.imageLabels(repository, tag);
      const trusted =
        labels?.['paved.package.digest'] === ref.digest && labels?.['paved.template.key'] === t.key;
      const existing = trusted ? await deps.registry.manifestDigest(repository, tag) : null;
      if (existing) {
        return {
          stage: 'containerize',
          verdict: { kind: 'pass' },
          output: {
            image,
            digest: existing,
            cached: true,
            template,
            templateKey: t.key,
            runtimeImage,
            sizeMB: await sizeMB(deps.docker, image),
          },
          summary: `image ${repository}:${tag} already built (${existing.slice(0, 19)})`,
        };
      }
      const wheelhouse = await withHeartbeat(
        'wheelhouse',
        ensureWheelhouse(
          t,
          deps.cacheDir,
          deps.python,
          logPath(deps.home, 'wheelhouse'),
          ctx.cancellationSignal,
        ),
      );
      await withHeartbeat(
        'runtime image',
        ensureRuntimeImage(deps.docker, t, deps.baseImage, wheelhouse, (l) => ctx.heartbeat(l)),
      );
      const tarball = await deps.store.fetch(ref);
      await withHeartbeat(
        'model image',
        buildModelImage(
          deps.docker,
          runtimeImage,
          tarball,
          image,
          {
            'paved.model': model,
            'paved.package.digest': ref.digest,
            'paved.template': `${t.spec.name}@${t.spec.version}`,
            'paved.template.key': t.key,
          },
          { onProgress: (l) => ctx.heartbeat(l), signal: ctx.cancellationSignal },
        ),
      );
      const digest = await withHeartbeat(
        'push',
        pushImage(deps.docker, image, (l) => ctx.heartbeat(l)),
      );
      const size = await sizeMB(deps.docker, image);
      return {
        stage: 'containerize',
        verdict: { kind: 'pass' },
        output: { image, digest, cached: false, template, templateKey: t.key, runtimeImage, sizeMB: size },
        summary: `built ${repository}:${tag} (${size} MB, ${digest.slice(0, 19)})`,
      };
    },
  };
}

async function sizeMB(docker: Docker, image: string): Promise<number> {
  try {
    return Math.round((await docker.getImage(image).inspect()).Size / 1e6);
  } catch {
    return 0; // built elsewhere: the registry has it, this engine does not
  }
}
