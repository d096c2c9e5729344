import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import protoPackage from '@temporalio/proto';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { APPROVED_ONE_STEP_TRAIL, examplePackage } from '../support/packages.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { connectClient } from '../../src/adapters/temporal-connection.js';
import { servingWorkflowId } from '../../src/workflows/serving-definitions.js';
import type { ReleaseState } from '../../src/workflows/definitions.js';
import { faultRow } from './fault-table.js';

const STARTED = protoPackage.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/**
 * Where each kill lands. An activity stage is hit while its activity runs on the worker;
 * the review while the release waits for a person; the rollout while the model's
 * serving workflow starts the replicas, the step whose retry could double them.
 */
const KILLS = [
  { stage: 'validate', activity: 'validatePackage', of: 'release' },
  { stage: 'containerize', activity: 'containerizePackage', of: 'release' },
  { stage: 'bind', activity: 'bindFeatures', of: 'release' },
  { stage: 'review', activity: null, of: 'release' },
  { stage: 'shadow', activity: 'shadowEvaluate', of: 'release' },
  { stage: 'bias', activity: 'biasCheck', of: 'release' },
  { stage: 'rollout', activity: 'startServing', of: 'serving' },
] as const;

type Kill = (typeof KILLS)[number];

const model = `kills-${randomUUID().slice(0, 6)}`;
const version = 'r1';
const env = { PAVED_TASK_QUEUE: `faults-kills-${randomUUID()}`, PAVED_USER: 'ci@example.com' };
const workers: SpawnedWorker[] = [];
afterAll(async () => {
  for (const w of workers.splice(0)) await w.kill();
});

async function pendingStarted(handle: WorkflowHandle, activity: string): Promise<boolean> {
  const pending = await handle.describe().then(
    (d) => d.raw.pendingActivities ?? [],
    () => [],
  );
  return pending.some((a) => a.activityType?.name === activity && a.state === STARTED);
}

/** Activity types whose last attempt was not the first: the kill hit a running attempt. */
async function retriedActivities(handle: WorkflowHandle): Promise<Map<string, number>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const typeOf = new Map<string, string>();
  const retried = new Map<string, number>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) {
      retried.set(typeOf.get(String(started.scheduledEventId)) ?? '?', started.attempt ?? 1);
    }
  }
  return retried;
}

async function scheduledCount(handle: WorkflowHandle, activity: string): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).length;
}

describe('the worker killed (SIGKILL) once in every stage of one release', () => {
  it('each time a new worker takes over: released, one image, one serving set, one route change, one audit entry per stage', async () => {
    const config = loadConfig();
    const client = await connectClient(config);
    try {
      // Off the golden path (an unapproved library), so the release waits for a review;
      // unique content, so containerize really builds.
      const dir = examplePackage((doc) => {
        doc.name = model;
        doc.description = `worker kills ${model}`;
        doc.requirements = [...(doc.requirements as string[]), 'torch==2.4.0'];
      });
      workers.push(await spawnWorker(env));
      const ci = pavedBackground(['release', dir, '--wait', '--json', '--version', version], env);
      const release = client.workflow.getHandle(`release/${model}/${version}`);
      const serving = client.workflow.getHandle(servingWorkflowId(model, env.PAVED_TASK_QUEUE));

      const landed = async (kill: Kill): Promise<boolean> => {
        if (kill.activity) return pendingStarted(kill.of === 'release' ? release : serving, kill.activity);
        const state = await release.query<ReleaseState>('state').catch(() => null);
        return state?.pendingReview != null;
      };
      const killedAt: string[] = [];
      for (const kill of KILLS) {
        const deadline = Date.now() + 300_000;
        while (!(await landed(kill))) {
          if (Date.now() > deadline) throw new Error(`never saw the release in ${kill.stage}`);
          await sleep(20);
        }
        expect(await workers.at(-1)!.kill('SIGKILL')).toBeNull(); // killed by the signal, no goodbye
        killedAt.push(kill.stage);
        workers.push(await spawnWorker(env));
        if (kill.stage === 'review') {
          const ok = await paved(['approve', `${model}/${version}`, '--as', 'carol@example.com'], env);
          expect(ok.code, ok.stderr).toBe(0);
        }
      }
      const result = await ci.done;
      expect(result.code, result.stderr).toBe(0);
      expect(killedAt).toEqual(KILLS.map((k) => k.stage));

      // Every killed activity was retried on the next worker: the kill hit it mid-run.
      const retried = new Map([...(await retriedActivities(release)), ...(await retriedActivities(serving))]);
      const hit = KILLS.filter((k) => k.activity && retried.has(k.activity)).map((k) => k.stage);
      expect(hit).toEqual(KILLS.filter((k) => k.activity).map((k) => k.stage));

      const audit = JSON.parse(
        (await paved(['audit', `${model}/${version}`, '--json'], env)).stdout,
      ) as Array<{
        action: string;
        seq: number;
      }>;
      expect(audit.map((e) => e.action)).toEqual(APPROVED_ONE_STEP_TRAIL);
      expect(audit.map((e) => e.seq)).toEqual(audit.map((_, i) => i + 1));

      // One image in the registry for this model.
      const tags = await new RegistryClient(config.registry.address).tags(`paved/${model}`);
      expect(tags).toHaveLength(1);
      // One serving set: the replicas the serving workflow asked for, no more, and no
      // shadow twin or candidate left from a killed attempt.
      const docker = dockerClient(config);
      const containers = await docker.listContainers({
        all: true,
        filters: { label: ['paved.managed=true'] },
      });
      const ours = containers.filter((c) => (c.Labels['paved.release'] ?? '').startsWith(`${model}/`));
      const running = ours.filter((c) => c.State === 'running');
      expect(ours.map((c) => c.Labels['paved.role'])).toEqual(running.map(() => 'serving'));
      expect(new Set(running.map((c) => c.Labels['paved.replica'])).size).toBe(running.length);
      expect(running.length).toBeGreaterThanOrEqual(1);
      // One route change for the one step, however often the worker died.
      expect(await scheduledCount(serving, 'setRoute')).toBe(1);
      expect(await scheduledCount(serving, 'startServing')).toBe(1);

      faultRow({
        fault: 'worker SIGKILL, new worker started',
        where: `${killedAt.join(', ')} (one release)`,
        outcome: `released, exit 0; ${hit.length} activities retried mid-run`,
        duplicates: `0 (images 1, replicas ${running.length}, route changes 1, audit ${audit.length})`,
        requestsFailed: 'n/a (no traffic)',
      });
    } finally {
      await client.connection.close();
    }
  });
});
