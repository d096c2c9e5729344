import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';
import { localModelRuntime } from '../../src/adapters/runtime/local.js';
import { buildModelImage } from '../support/build-image.js';
import { examplePackage } from '../support/packages.js';

// The containerize cache asks the registry. After an image prune on the worker's
// engine the registry still has the image, the release says "already built", and
// the replica must fetch it rather than fail every shadow attempt with "No such image".
const config = loadConfig();
const docker = dockerClient(config);
const runtime = localModelRuntime(config);
const model = `cache-${randomUUID().slice(0, 8)}`;
const started: string[] = [];

afterAll(async () => {
  for (const id of started) await runtime.stop(id);
});

describe('an image built before and pruned since', () => {
  it('is a cache hit, and its replica pulls it from the registry and answers ready', async () => {
    const dir = examplePackage((doc) => {
      doc.name = model;
    });
    const first = await buildModelImage(dir, model, 'v1');
    expect(first.cached).toBe(false);
    await docker.getImage(first.image).remove({ force: true });
    await expect(docker.getImage(first.image).inspect()).rejects.toThrow(/no such image/i);

    const again = await buildModelImage(dir, model, 'v2');
    expect(again).toEqual({ ...first, cached: true });

    const replica = await runtime.start({
      model,
      version: 'v2',
      role: 'try',
      image: again.image,
      binding: null,
      allowPickle: false,
      limits: loadPolicy().model_limits,
    });
    started.push(replica.id);
    const info = await docker.getContainer(replica.id).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe(again.image);
    expect((await docker.getImage(again.image).inspect()).RepoDigests.join(' ')).toContain(
      `paved/${model}@sha256:`,
    );
  });
});
