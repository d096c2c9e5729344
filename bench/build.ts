import { venvRoot } from '../src/domain/config.js';
// Build times of the containerize activity on the real stack, as a table:
//   cold      — empty wheelhouse cache and no runtime image: download wheels, build venv, build model
//   warm      — runtime image present, a changed package: only the model layer is built and pushed
//   unchanged — the same package again: the registry already has it
// Ratios are against the cold build of the same run. Run: npx tsx bench/build.ts
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createContainerizeActivities, type ContainerizeOutput } from '../src/activities/containerize.js';
import type { StageOutcome } from '../src/domain/release.js';
import { packageStore } from '../src/activities/index.js';
import { loadConfig } from '../src/adapters/config-loader.js';
import { dockerClient } from '../src/adapters/docker-client.js';
import { loadTemplate } from '../src/adapters/image-builder.js';
import { packDirectory } from '../src/adapters/package-store.js';
import { projectPath } from '../src/adapters/project.js';
import { RegistryClient } from '../src/adapters/registry-client.js';
import { baseImageRef } from '../src/adapters/stack/base-image.js';
import { venvBin } from '../src/adapters/stack/python-env.js';

const config = loadConfig();
const docker = dockerClient(config);
const coldCache = mkdtempSync(path.join(os.tmpdir(), 'paved-bench-cache-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'paved-bench-pkg-'));
cpSync(projectPath('examples', 'arrests'), work, { recursive: true });

const activities = (cacheDir: string) =>
  createContainerizeActivities({
    docker,
    registry: new RegistryClient(config.registry.address),
    store: packageStore(config),
    baseImage: baseImageRef(config),
    cacheDir,
    home: config.home,
    python: venvBin(venvRoot(config), 'python'),
  });

async function build(cacheDir: string): Promise<{ seconds: number; sizeMB: number; cached: boolean }> {
  // Unique content for every build that must not be a cache hit.
  const ref = await packageStore(config).put(await packDirectory(work));
  const t0 = performance.now();
  const out: StageOutcome<ContainerizeOutput> = await new MockActivityEnvironment().run(
    activities(cacheDir).containerizePackage,
    {
      model: 'bench',
      version: 'bench',
      template: 'python-sklearn',
      package: ref,
    },
  );
  return { seconds: (performance.now() - t0) / 1000, sizeMB: out.output.sizeMB, cached: out.output.cached };
}

try {
  const runtime = `paved/runtime-python-sklearn:${loadTemplate('python-sklearn', baseImageRef(config)).key}`;
  await docker
    .getImage(runtime)
    .remove({ force: true })
    .catch(() => undefined);
  writeFileSync(path.join(work, 'bench-nonce.txt'), `cold ${Date.now()}`);
  const cold = await build(coldCache);
  writeFileSync(path.join(work, 'bench-nonce.txt'), `warm ${Date.now()}`);
  const warm = await build(coldCache);
  const unchanged = await build(coldCache);
  const rows: Array<[string, typeof cold]> = [
    ['cold', cold],
    ['warm', warm],
    ['unchanged', unchanged],
  ];
  console.log('build       seconds   image MB   cache hit   vs cold');
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(10)} ${r.seconds.toFixed(1).padStart(8)} ${String(r.sizeMB).padStart(10)} ${String(r.cached).padStart(11)} ${(r.seconds / cold.seconds).toFixed(3).padStart(9)}`,
    );
  }
} finally {
  rmSync(coldCache, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
