import { venvRoot } from '../../src/domain/config.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createContainerizeActivities, type ContainerizeOutput } from '../../src/activities/containerize.js';
import { packageStore } from '../../src/activities/index.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { packDirectory } from '../../src/adapters/package-store.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { baseImageRef } from '../../src/adapters/stack/base-image.js';
import { venvBin } from '../../src/adapters/stack/python-env.js';
import type { StageOutcome } from '../../src/domain/release.js';

/** A model directory through the containerize activity as the worker runs it: the image, in the registry. */
export async function buildModelImage(
  dir: string,
  model: string,
  version: string,
): Promise<{ image: string; packageDigest: string; cached: boolean }> {
  const config = loadConfig();
  const ref = await packageStore(config).put(await packDirectory(dir));
  const built: StageOutcome<ContainerizeOutput> = await new MockActivityEnvironment().run(
    createContainerizeActivities({
      docker: dockerClient(config),
      registry: new RegistryClient(config.registry.address),
      store: packageStore(config),
      baseImage: baseImageRef(config),
      cacheDir: config.cacheDir,
      home: config.home,
      python: venvBin(venvRoot(config), 'python'),
    }).containerizePackage,
    { model, version, template: 'python-sklearn', package: ref },
  );
  return { image: built.output.image, packageDigest: ref.digest, cached: built.output.cached };
}
