import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import protoPackage from '@temporalio/proto';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { examplePackage } from '../support/packages.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { gatewayUrl, PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import { dockerEngine } from '../../src/adapters/stack/docker-engine.js';
import { featureStore } from '../../src/adapters/stack/feature-store.js';
import { registry } from '../../src/adapters/stack/registry.js';
import { temporalServer } from '../../src/adapters/stack/temporal-server.js';
import { connectClient } from '../../src/adapters/temporal-connection.js';
import { startTraffic } from '../../src/cli/traffic.js';
import { faultRow } from './fault-table.js';

const { PendingActivityState } = protoPackage.temporal.api.enums.v1;

const config = loadConfig();
const env = { PAVED_TASK_QUEUE: `faults-outages-${randomUUID()}`, PAVED_USER: 'ci@example.com' };
const workers: SpawnedWorker[] = [];
afterAll(async () => {
  for (const w of workers.splice(0)) await w.kill();
  // Whatever a failed test left stopped is started again for the tests after it.
  for (const part of [dockerEngine, registry, featureStore, temporalServer]) await part.up(config);
});

interface Pending {
  attempt: number;
  state: number;
  failure: string | null;
}

async function pending(handle: WorkflowHandle, activity: string): Promise<Pending | null> {
  const all = await handle.describe().then(
    (d) => d.raw.pendingActivities ?? [],
    () => [],
  );
  const found = all.find((a) => a.activityType?.name === activity);
  if (!found) return null;
  return {
    attempt: found.attempt ?? 1,
    state: found.state ?? 0,
    failure: found.lastFailure?.message ?? null,
  };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 300_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(50);
  }
}

function running(handle: WorkflowHandle, activity: string): Promise<boolean> {
  return until(
    `${activity} running`,
    async () =>
      (await pending(handle, activity))?.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
  );
}

/** The failure an attempt of the activity recorded, once one has. */
async function failureOf(handle: WorkflowHandle, activity: string): Promise<string> {
  const failed = await until(
    `${activity} failing`,
    async () => {
      const p = await pending(handle, activity);
      return p?.failure ? p : null;
    },
    180_000,
  );
  return failed.failure!;
}

/** The outcome `paved release --wait --json` ends its event lines with. */
function finalStatus(stdout: string): string | undefined {
  const events = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { outcome?: { status: string } });
  return events.at(-1)?.outcome?.status;
}

function audit(model: string, version: string) {
  return paved(['audit', `${model}/${version}`, '--json'], env).then(
    (r) => JSON.parse(r.stdout) as Array<{ action: string }>,
  );
}

describe('parts of the stack down in the middle of a release', () => {
  // What the workers said is the first thing to read when one of these fails in CI.
  afterEach(({ task }) => {
    if (task.result?.state !== 'fail') return;
    for (const [i, w] of workers.entries())
      process.stderr.write(
        `--- worker ${i + 1}, last lines ---\n${w.logs().split('\n').slice(-40).join('\n')}\n`,
      );
  });

  it('registry down in containerize, feature server down in bind, Docker down as shadow starts: each stage retried once the part is back, released', async () => {
    const client = await connectClient(config);
    try {
      const model = `outage-${randomUUID().slice(0, 6)}`;
      // Unique content, so containerize builds and pushes.
      const dir = examplePackage((doc) => {
        doc.name = model;
        doc.description = `part outages ${model}`;
      });
      workers.push(await spawnWorker(env));
      const ci = pavedBackground(['release', dir, '--wait', '--json', '--version', 'r1'], env);
      const handle = client.workflow.getHandle(`release/${model}/r1`);

      await running(handle, 'containerizePackage');
      await registry.down(config);
      let registryFailure: string;
      try {
        registryFailure = await failureOf(handle, 'containerizePackage');
      } finally {
        await registry.up(config);
      }
      // The feature server and Docker go down while bind runs. The feature server comes
      // back once bind has failed on it; Docker once the shadow stage, which starts after
      // bind, has failed on it. (Docker restarted in the middle of a measurement is not
      // covered here.)
      await running(handle, 'bindFeatures');
      await featureStore.down(config);
      await dockerEngine.down(config);
      let bindFailure: string;
      let dockerFailure: string;
      try {
        bindFailure = await failureOf(handle, 'bindFeatures');
        await featureStore.up(config);
        dockerFailure = await failureOf(handle, 'shadowEvaluate');
      } finally {
        await featureStore.up(config);
        await dockerEngine.up(config);
      }

      const result = await ci.done;
      expect(result.code, result.stderr).toBe(0);
      expect(finalStatus(result.stdout)).toBe('released');
      expect(registryFailure).toMatch(/registry/i);
      expect(bindFailure).toMatch(/feature server/i);
      expect(dockerFailure).toMatch(/docker/i);
      const trail = (await audit(model, 'r1')).map((e) => e.action);
      for (const stage of ['validate', 'containerize', 'bind', 'shadow', 'bias', 'rollout']) {
        expect(trail.filter((a) => a === `stage ${stage}`)).toHaveLength(1);
      }
      for (const [part, where, failure] of [
        ['registry stopped', 'containerize', registryFailure],
        ['feature server stopped', 'bind', bindFailure],
        ['Docker daemon stopped, started', 'shadow (as it starts)', dockerFailure],
      ] as const) {
        faultRow({
          fault: part,
          where,
          outcome: `retried, released; attempt 1: ${failure.slice(0, 140)}`,
          duplicates: '0 (one audit entry per stage)',
          requestsFailed: 'n/a (no traffic)',
        });
      }
    } finally {
      await client.connection.close();
    }
  });

  it('Temporal stopped and started mid-rollout: the release completes and the traffic never stops', async () => {
    const model = `temporal-down-${randomUUID().slice(0, 6)}`;
    const v1 = examplePackage((doc) => {
      doc.name = model;
    });
    workers.push(await spawnWorker(env));
    const first = await paved(['release', v1, '--wait', '--version', 'r1'], env);
    expect(first.code, first.stderr).toBe(0);

    const v2 = examplePackage((doc) => {
      doc.name = model;
      doc.description = 'second version';
      doc.rollout = { steps: [50, 100], bake: '8s' };
    });
    const body = readFileSync(projectPath('examples', 'arrests', 'sample-request-entities.json'), 'utf8');
    const traffic = startTraffic(gatewayUrl(config), model, body, { workers: 2, pauseMs: 20 });
    const router = PavedGatewayRouter.fromConfig(config);
    let during = 0;
    let summary;
    try {
      const ci = pavedBackground(['release', v2, '--wait', '--json', '--version', 'r2'], env);
      await until('r2 at 50 %', async () => (await router.route(model))?.canary?.weight === 50);
      await temporalServer.down(config);
      const before = traffic.requests();
      await sleep(10_000);
      during = traffic.requests() - before;
      await temporalServer.up(config);
      const result = await ci.done;
      expect(result.code, result.stderr).toBe(0);
      expect(finalStatus(result.stdout)).toBe('released');
    } finally {
      summary = await traffic.stop();
    }
    expect(during).toBeGreaterThan(50);
    expect(summary.failed, summary.firstErrors.join('\n')).toBe(0);
    expect(Object.keys(summary.byVersion).sort()).toEqual(['r1', 'r2']);
    expect((await router.route(model))?.stable?.version).toBe('r2');
    faultRow({
      fault: 'Temporal server stopped 10 s, started',
      where: 'rollout, step 50 %',
      outcome: 'released, exit 0',
      duplicates: '0',
      requestsFailed: `0 of ${summary.requests} (${during} while Temporal was down)`,
    });
  });
});
