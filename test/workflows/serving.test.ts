import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseActivities } from '../../src/activities/index.js';
import { DEFAULT_LIMITS } from '../../src/domain/rollout.js';
import type { ModelRoute } from '../../src/domain/route.js';
import { rolloutControlSignal, stateQuery, type ReleaseState } from '../../src/workflows/definitions.js';
import type { release } from '../../src/workflows/release.js';
import { servingStateQuery, servingWorkflowId } from '../../src/workflows/serving-definitions.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { mocks } from '../support/release-mocks.js';
import { promoteAs } from '../support/decisions.js';
import { manifestDoc, releaseInput, validated } from '../support/release-fixtures.js';
import { timeSkippingEnv } from '../support/time-skipping.js';

// The serving workflow over simulated hours: time-skipping, activities mocked.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const RECONCILE_MS = 30_000;

function servedByV0(): ModelRoute {
  return {
    stable: { version: 'v0', endpoints: ['unix:/run/v0.sock'] },
    canary: null,
    shadow: null,
    faults: {},
    stickyInput: null,
  };
}

/** A worker with these activities on a fresh task queue of the time-skipping server. */
async function workerFor(activities: Partial<ReleaseActivities>) {
  const taskQueue = `test-serving-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
  });
  return { taskQueue, worker };
}

async function historyLength(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events?.length ?? 0;
}

describe('serving workflow', () => {
  it('a release waiting behind a paused rollout for 3 simulated hours keeps a bounded history, then ends cleanly', async () => {
    const m = mocks(() => env.client, validated(manifestDoc()));
    let route: ModelRoute | null = servedByV0();
    let reconciles = 0;
    m.activities.planRollout = async () => ({
      steps: [5, 100],
      bakeMs: 60_000,
      drainMs: 0,
      reconcileEveryMs: RECONCILE_MS,
      limits: DEFAULT_LIMITS,
    });
    m.activities.currentRoute = async () => route;
    m.activities.setRoute = async ({ route: r }) => void (route = r as ModelRoute | null);
    m.activities.adoptServing = async () => ({
      route,
      versions: [
        {
          version: 'v0',
          image: 'img:v0',
          binding: null,
          allowPickle: false,
          replicas: 1,
          endpoints: ['unix:/run/v0.sock'],
        },
      ],
    });
    m.activities.reconcileServing = async () => {
      reconciles += 1;
      return { endpoints: {}, replaced: [], removed: [] };
    };
    const { taskQueue, worker } = await workerFor(m.activities);
    const startRelease = (version: string) =>
      env.client.workflow.start<typeof release>('release', {
        taskQueue,
        workflowId: `release/arrests/${version}`,
        args: [releaseInput('arrests', version)],
      });
    const until = async (handle: WorkflowHandle<typeof release>, what: (s: ReleaseState) => boolean) => {
      for (let i = 0; i < 400; i++) {
        const s = await handle.query(stateQuery);
        if (what(s)) return s;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`${handle.workflowId} never got there`);
    };
    const out = await worker.runUntil(async () => {
      const first = await startRelease(`first-${randomUUID().slice(0, 8)}`);
      await until(first, (s) => s.rollout?.phase === 'judging');
      await first.signal(rolloutControlSignal, { action: 'pause', actor: 'ops@example.com' });
      const second = await startRelease(`second-${randomUUID().slice(0, 8)}`);
      await until(second, (s) => s.details.includes('waiting for'));
      const serving = env.client.workflow.getHandle(servingWorkflowId('arrests', taskQueue));
      const firstRunId = (await serving.describe()).runId;

      await env.sleep('3h');

      const during = {
        waiting: await historyLength(second),
        paused: await historyLength(first),
        serving: await historyLength(serving),
        servingRun: (await serving.describe()).runId,
        lane: (await serving.query(servingStateQuery)).lane,
      };
      await first.signal(rolloutControlSignal, {
        action: 'abort',
        actor: 'ops@example.com',
        reason: 'done waiting',
      });
      const firstResult = await first.result();
      await until(second, (s) => s.rollout?.phase === 'judging');
      await promoteAs(second, 'ops@example.com', new Date(await env.currentTimeMs()).toISOString());
      const secondResult = await second.result();
      return {
        during,
        firstRunId,
        firstResult,
        secondResult,
        second: second.workflowId,
        first: first.workflowId,
      };
    });
    console.log(
      `3 h behind a paused rollout: waiting release ${out.during.waiting} events, paused release ${out.during.paused}, serving run ${out.during.serving} (continued as new: ${out.during.servingRun !== out.firstRunId}); ${reconciles} reconciles`,
    );
    expect(out.during.lane.holder?.release).toBe(out.first);
    expect(out.during.lane.queue.map((e) => e.release)).toEqual([out.second]);
    // 3 h at one reconcile per 30 s is 360 ticks: the serving workflow continued as new.
    expect(reconciles).toBeGreaterThanOrEqual(300);
    expect(out.during.servingRun).not.toBe(out.firstRunId);
    expect(out.during.serving).toBeLessThan(2_500);
    expect(out.during.waiting).toBeLessThan(200);
    expect(out.during.paused).toBeLessThan(200);
    expect(out.firstResult).toMatchObject({
      status: 'rolled-back',
      reason: 'aborted by ops@example.com: done waiting',
    });
    expect(out.secondResult.status).toBe('released');
    expect(route).toMatchObject({ stable: { version: out.second.split('/')[2] }, canary: null });
  });

  it('replaces a replica that died within one reconcile period and points the route at it; removes strays', async () => {
    const m = mocks(() => env.client, validated(manifestDoc()));
    let route: ModelRoute | null = servedByV0();
    const routes: Array<ModelRoute | null> = [];
    m.activities.setRoute = async ({ route: r }) => {
      route = r as ModelRoute | null;
      routes.push(route);
    };
    m.activities.currentRoute = async () => route;
    m.activities.adoptServing = async () => ({
      route,
      versions: [
        {
          version: 'v0',
          image: 'img:v0',
          binding: null,
          allowPickle: false,
          replicas: 2,
          endpoints: ['unix:/run/a.sock', 'unix:/run/b.sock'],
        },
      ],
    });
    // The second replica died; its replacement listens on a new socket. A stray of v9 is removed.
    const asked: unknown[] = [];
    m.activities.reconcileServing = async (input) => {
      asked.push(input);
      return asked.length === 1
        ? {
            endpoints: { v0: ['unix:/run/a.sock', 'unix:/run/c.sock'] },
            replaced: ['paved_replica1.arrests.v0'],
            removed: ['paved-arrests.v9'],
          }
        : { endpoints: { v0: ['unix:/run/a.sock', 'unix:/run/c.sock'] }, replaced: [], removed: [] };
    };
    const { taskQueue, worker } = await workerFor(m.activities);
    const state = await worker.runUntil(async () => {
      // A lane request from a release that does not exist: the answer cannot be
      // delivered, so it leaves the lane at once; the workflow keeps serving.
      await m.activities.requestServing!({
        model: 'arrests',
        taskQueue,
        request: { from: 'release/arrests/gone', id: 1, command: { kind: 'lane', reconcileEveryMs: 10_000 } },
      });
      const serving = env.client.workflow.getHandle(servingWorkflowId('arrests', taskQueue));
      await env.sleep('11s');
      const state = await serving.query(servingStateQuery);
      await serving.terminate('test over');
      return state;
    });
    expect(asked[0]).toEqual({
      model: 'arrests',
      keeper: servingWorkflowId('arrests', taskQueue),
      versions: [{ version: 'v0', image: 'img:v0', binding: null, allowPickle: false, replicas: 2 }],
    });
    expect(state.last).toMatchObject({
      replaced: ['paved_replica1.arrests.v0'],
      removed: ['paved-arrests.v9'],
      problem: null,
    });
    expect(state.lane).toEqual({ holder: null, queue: [] });
    expect(routes).toEqual([
      expect.objectContaining({
        stable: { version: 'v0', endpoints: ['unix:/run/a.sock', 'unix:/run/c.sock'] },
      }),
    ]);
  });
});
