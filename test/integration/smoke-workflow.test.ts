import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { baseImageKey, baseImageRef, BASE_IMAGE_REPOSITORY } from '../../src/adapters/stack/base-image.js';
import { connectClient, connectWorker } from '../../src/adapters/temporal-connection.js';
import { createWorker } from '../../src/worker.js';
import { stackSmoke } from '../../src/workflows/smoke.js';

// Real dev server, real worker, real Docker engine, real registry: nothing mocked.
const base = loadConfig();
let client: Client;
let connection: NativeConnection;

beforeAll(async () => {
  client = await connectClient(base);
  connection = await connectWorker(base);
});
afterAll(async () => {
  await client?.connection.close();
  await connection?.close();
});

async function runSmoke() {
  const config = { ...base, temporal: { ...base.temporal, taskQueue: `it-smoke-${randomUUID()}` } };
  const worker = await createWorker(config, connection);
  return worker.runUntil(
    client.workflow.execute(stackSmoke, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `it-smoke/${randomUUID()}`,
      args: [{ image: baseImageRef(base) }],
    }),
  );
}

describe('stackSmoke on the real stack', () => {
  it('pushes the base image and the registry serves the same manifest digest', async () => {
    const result = await runSmoke();
    const registry = new RegistryClient(base.registry.address);
    expect(result.pushedRef).toBe(`${base.registry.address}/${BASE_IMAGE_REPOSITORY}:${baseImageKey(base)}`);
    expect(result.pushedDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.registryDigest).toBe(result.pushedDigest);
    expect(await registry.manifestDigest(BASE_IMAGE_REPOSITORY, baseImageKey(base))).toBe(
      result.pushedDigest,
    );
    expect(await registry.tags(BASE_IMAGE_REPOSITORY)).toContain(baseImageKey(base));
    expect(result.engineVersion).toMatch(/^\d+\.\d+/);
  });

  it('is idempotent: running it again yields the same digest', async () => {
    const first = await runSmoke();
    const second = await runSmoke();
    expect(second.pushedDigest).toBe(first.pushedDigest);
  });

  it('the namespace carries the PavedStage and PavedModel search attributes', async () => {
    const attrs = await client.connection.operatorService.listSearchAttributes({
      namespace: base.temporal.namespace,
    });
    expect(Object.keys(attrs.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['PavedStage', 'PavedModel']),
    );
  });
});
