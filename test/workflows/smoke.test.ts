import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeActivities } from '../../src/activities/smoke.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { stackSmoke } from '../../src/workflows/smoke.js';
import { timeSkippingEnv } from '../support/time-skipping.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const DIGEST = 'sha256:' + 'a'.repeat(64);

async function runSmoke(activities: SmokeActivities) {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
  });
  return worker.runUntil(
    env.client.workflow.execute(stackSmoke, {
      taskQueue,
      workflowId: `smoke-${randomUUID()}`,
      args: [{ image: 'paved/python-base:abc' }],
    }),
  );
}

describe('stackSmoke workflow', () => {
  it('publishes the image and confirms the registry holds the same digest', async () => {
    const calls: string[] = [];
    const result = await runSmoke({
      async publishImage({ image }) {
        calls.push(`publish ${image}`);
        return {
          engineVersion: '20.10',
          ref: '127.0.0.1:5000/paved/python-base:abc',
          repository: 'paved/python-base',
          tag: 'abc',
          digest: DIGEST,
        };
      },
      async readRegistryDigest({ repository, tag }) {
        calls.push(`read ${repository}:${tag}`);
        return DIGEST;
      },
    });
    expect(calls).toEqual(['publish paved/python-base:abc', 'read paved/python-base:abc']);
    expect(result).toEqual({
      engineVersion: '20.10',
      pushedRef: '127.0.0.1:5000/paved/python-base:abc',
      pushedDigest: DIGEST,
      registryDigest: DIGEST,
    });
  });

  it('retries a push that failed once', async () => {
    let attempts = 0;
    const result = await runSmoke({
      async publishImage() {
        attempts += 1;
        if (attempts === 1) throw new Error('connection reset by registry');
        return {
          engineVersion: '20.10',
          ref: 'r',
          repository: 'paved/python-base',
          tag: 'abc',
          digest: DIGEST,
        };
      },
      async readRegistryDigest() {
        return DIGEST;
      },
    });
    expect(attempts).toBe(2);
    expect(result.registryDigest).toBe(DIGEST);
  });

  it('fails without retry when the registry holds another digest', async () => {
    const err = await runSmoke({
      async publishImage() {
        return {
          engineVersion: '20.10',
          ref: 'r',
          repository: 'paved/python-base',
          tag: 'abc',
          digest: DIGEST,
        };
      },
      async readRegistryDigest() {
        return null;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause?.message).toContain(`registry holds nothing for r, but Docker pushed ${DIGEST}`);
  });
});
