import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';
import type { RegistryClient } from '../adapters/registry-client.js';
import { pushImage } from '../adapters/docker-push.js';

export interface PublishImageInput {
  image: string;
}

export interface PublishImageResult {
  engineVersion: string;
  ref: string;
  repository: string;
  tag: string;
  digest: string;
}

export interface SmokeActivities {
  publishImage(input: PublishImageInput): Promise<PublishImageResult>;
  readRegistryDigest(input: { repository: string; tag: string }): Promise<string | null>;
}

export interface SmokeDeps {
  docker: Docker;
  registry: RegistryClient;
}

export function createSmokeActivities({ docker, registry }: SmokeDeps): SmokeActivities {
  return {
    /** Tags a local image for the registry and pushes it. Re-running pushes nothing new. */
    async publishImage({ image }) {
      const [name, tag = 'latest'] = image.split(':') as [string, string?];
      const engineVersion = (await docker.version()).Version;
      try {
        await docker.getImage(image).inspect();
      } catch {
        throw ApplicationFailure.nonRetryable(
          `image ${image} is not on the Docker host; run \`npx paved stack up\``,
          'ImageMissing',
        );
      }
      const repository = name;
      const ref = `${registry.address}/${repository}:${tag}`;
      await docker.getImage(image).tag({ repo: `${registry.address}/${repository}`, tag });
      const digest = await pushImage(docker, ref, (progress) => Context.current().heartbeat(progress));
      return { engineVersion, ref, repository, tag, digest };
    },

    async readRegistryDigest({ repository, tag }) {
      return registry.manifestDigest(repository, tag);
    },
  };
}
