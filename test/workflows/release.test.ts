import { venvRoot } from '../../src/domain/config.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseActivities } from '../../src/activities/index.js';
import { parsePolicy } from '../../src/domain/policy.js';
import { DEFAULT_LIMITS, servingContainerName, type WindowStats } from '../../src/domain/rollout.js';
import {
  auditQuery,
  PavedOutcome,
  PavedStage,
  reviewUpdate,
  rolloutControlSignal,
  stateQuery,
  type ReleaseState,
} from '../../src/workflows/definitions.js';
import type { release } from '../../src/workflows/release.js';
import { servingStateQuery, servingWorkflowId } from '../../src/workflows/serving-definitions.js';
import type { ModelRoute } from '../../src/domain/route.js';
import { manifestDoc, releaseInput, TEST_POLICY, validated } from '../support/release-fixtures.js';
import { ReleaseHarness } from '../support/release-worker.js';
import { mocks as releaseMocks, SHADOW_OUTPUT, type Mocks } from '../support/release-mocks.js';
import { APPROVED_ONE_STEP_TRAIL } from '../support/packages.js';
import { decide, promoteAs, signedFor } from '../support/decisions.js';
import { signerLine } from '../support/signers.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { venvBin } from '../../src/adapters/stack/python-env.js';

const config = loadConfig();

// Real dev server (Updates, search attributes); activities are mocks.
let h: ReleaseHarness;
beforeAll(async () => {
  h = await ReleaseHarness.create();
});
afterAll(async () => {
  await h?.close();
});

const HISTORIES = path.join(import.meta.dirname, 'histories');
const mocks = (...args: Parameters<typeof releaseMocks> extends [unknown, ...infer R] ? R : never) =>
  releaseMocks(() => h.client, ...args);
const OFF_PATH = manifestDoc({ requirements: ['scikit-learn==1.9.1', 'torch==2.4.0'] });

/** The gateway route of a model that `stable` serves alone. */
function servedBy(stable: { version: string; endpoints: string[] }): ReleaseActivities['currentRoute'] {
  return async () => ({ stable, canary: null, shadow: null, faults: {}, stickyInput: null });
}

/** Gateway stats with plenty of healthy traffic for stable v0 and the canary. */
function busy(canary: string): Record<string, WindowStats> {
  const healthy = { requests: 500, errors: 0, p50Ms: 3, p99Ms: 9 };
  return { v0: healthy, [canary]: healthy };
}

/**
 * A rollout after stable v0 that no one calls: each step is inconclusive and asks
 * a reviewer after 300 ms. Records the routes set and the containers stopped.
 */
function thinRollout(m: Mocks) {
  const routes: unknown[] = [];
  const stopped: string[] = [];
  const stable = { version: 'v0', endpoints: ['http://127.0.0.1:2'] };
  m.activities.planRollout = async () => ({
    steps: [5, 100],
    bakeMs: 100,
    drainMs: 0,
    reconcileEveryMs: 60_000,
    limits: { ...DEFAULT_LIMITS, inconclusiveMs: 300 },
  });
  m.activities.currentRoute = servedBy(stable);
  m.activities.setRoute = async ({ route }) => void routes.push(route);
  m.activities.stopServing = async ({ model, version }) =>
    void stopped.push(servingContainerName(model, version));
  return { routes, stopped, stable };
}

/** A promise resolved from outside. */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The promise, or an error naming what never happened: a test fails rather than hangs. */
async function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} never happened`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let seq = 0;
function start(taskQueue: string): Promise<WorkflowHandle<typeof release>> {
  seq += 1;
  const input = releaseInput('arrests', `t${Date.now()}-${seq}`);
  return h.client.workflow.start<typeof release>('release', {
    taskQueue,
    workflowId: `release/${input.model}/${input.version}`,
    args: [input],
  });
}

async function untilReviewPending(handle: WorkflowHandle<typeof release>) {
  for (let i = 0; i < 100; i++) {
    const s = await handle.query(stateQuery);
    if (s.pendingReview) return s;
    await sleep(100);
  }
  throw new Error('review never became pending');
}

/** What `paved reviews` lists: running releases in review, or in a rollout that waits for one. */
async function pavedReviewsQuery(workflowId: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    for await (const wf of h.client.workflow.list({
      query: `PavedStage IN ("review", "rollout") AND ExecutionStatus = "Running"`,
    }))
      if (wf.workflowId === workflowId) return true;
    await sleep(100);
  }
  return false;
}

async function saveHistory(handle: WorkflowHandle<typeof release>, name: string) {
  if (process.env.PAVED_WRITE_HISTORIES === '1') {
    // The CLI writes the proto3 JSON that historyFromJSON reads back.
    const json = execFileSync(venvBin(venvRoot(config), 'temporal'), [
      'workflow',
      'show',
      '--workflow-id',
      handle.workflowId,
      '--address',
      config.temporal.address,
      '--namespace',
      config.temporal.namespace,
      '--output',
      'json',
    ]);
    writeFileSync(path.join(HISTORIES, `${name}.json`), json);
  }
}

/** An operator's abort, as `paved abort` sends it. */
function abortAsOps(handle: WorkflowHandle, reason: string): Promise<void> {
  return handle.signal(rolloutControlSignal, { action: 'abort', actor: 'ops@example.com', reason });
}

describe('release workflow', () => {
  it('golden path: validates, records the audit, exports it and ends released (exit 0)', async () => {
    const m = mocks(validated(manifestDoc()));
    const { result, handle, desc } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      const result = await handle.result();
      return { result, handle, desc: await handle.describe() };
    });
    expect(result).toEqual({
      status: 'released',
      exitCode: 0,
      stage: 'done',
      reason: expect.stringContaining('passed validate'),
    });
    expect(desc.typedSearchAttributes.get(PavedStage)).toBe('released');
    expect(desc.typedSearchAttributes.get(PavedOutcome)).toBe('released');
    const trail = m.exported[0]!;
    expect(trail.map((e) => `${e.actor}: ${e.action}`)).toEqual([
      'ci@example.com: release requested',
      'paved: stage validate',
      'paved: stage containerize',
      'paved: stage bind',
      'paved: stage shadow',
      'paved: stage bias',
      'paved: rollout step 100 %',
      'paved: stage rollout',
      'paved: release released',
    ]);
    expect(trail[1]).toMatchObject({
      stage: 'validate',
      verdict: 'pass',
      inputsDigest: releaseInput().package.digest,
    });
    expect(trail.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await saveHistory(handle, 'golden-path');
  });

  it('off the path: waits in review, then an allowed reviewer approves', async () => {
    const m = mocks(validated(OFF_PATH));
    const { result, review, pending, handle } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      const pending = await untilReviewPending(handle);
      expect((await handle.describe()).typedSearchAttributes.get(PavedStage)).toBe('review');
      const review = await decide(handle, 'approve', 'bob@example.com', 'torch reviewed');
      return { result: await handle.result(), review, pending, handle };
    });
    expect(pending.pendingReview).toMatchObject({
      owner: 'alice@example.com',
      reviewers: ['bob@example.com', 'carol@example.com'],
      deadline: '72h',
    });
    expect(pending.pendingReview!.reasons[0]!.message).toBe('torch is not an approved library');
    expect(pending.details).toContain('review: waiting for bob@example.com or carol@example.com');
    expect(review).toMatchObject({ decision: 'approve', reviewer: 'bob@example.com' });
    expect(result.status).toBe('released');
    expect(m.exported[0]!.map((e) => e.action)).toEqual(APPROVED_ONE_STEP_TRAIL);
    expect(m.exported[0]![5]).toMatchObject({
      actor: 'bob@example.com',
      reason: expect.stringMatching(/^torch reviewed; signed with SHA256:\S+ at \d{4}-/),
    });
    expect(review.key).toMatch(/^SHA256:/);
    await saveHistory(handle, 'review-approved');
  });

  it('reject ends the release as rejected (exit 3) with the comment', async () => {
    const m = mocks(validated(OFF_PATH));
    const result = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      await decide(handle, 'reject', 'carol@example.com', 'torch is not allowed in risk models');
      return handle.result();
    });
    expect(result).toEqual({
      status: 'rejected',
      exitCode: 3,
      stage: 'review',
      reason: 'rejected by carol@example.com: torch is not allowed in risk models',
    });
  });

  it('no answer before the policy deadline ends it as expired (exit 3)', async () => {
    const policy = parsePolicy({ ...TEST_POLICY, review: { deadline: '2s' } });
    if (!policy.ok) throw new Error('bad test policy');
    const m = mocks(validated(OFF_PATH, policy.policy));
    const result = await h.run(m.activities, async (tq) => (await start(tq)).result());
    expect(result.status).toBe('expired');
    expect(result.exitCode).toBe(3);
    expect(result.reason).toContain('no reviewer answered within 2s');
    expect(m.exported[0]!.at(-1)).toMatchObject({ action: 'release expired', verdict: 'fail' });
  });

  it('refuses the owner reviewing their own release, even when listed as a reviewer', async () => {
    const policy = parsePolicy({
      ...TEST_POLICY,
      teams: {
        risk: {
          ...TEST_POLICY.teams.risk!,
          reviewers: ['alice@example.com', 'bob@example.com'],
          signers: [...TEST_POLICY.teams.risk!.signers, signerLine('alice@example.com')],
        },
      },
    });
    if (!policy.ok) throw new Error('bad test policy');
    const m = mocks(validated(OFF_PATH, policy.policy));
    await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      const err = await decide(handle, 'approve', 'alice@example.com').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((err as WorkflowUpdateFailedError).cause?.message).toBe(
        'alice@example.com owns this model and cannot review their own release',
      );
      // still waiting: a refused decision changes nothing but the audit
      expect((await handle.query(stateQuery)).pendingReview).not.toBeNull();
      await decide(handle, 'reject', 'bob@example.com');
      await handle.result();
    });
    const alices = m.exported[0]!.filter((e) => e.actor === 'alice@example.com');
    expect(alices.map((e) => [e.action, e.reason])).toEqual([
      ['review refused', 'alice@example.com owns this model and cannot review their own release'],
    ]);
  });

  it('refuses a reviewer who is not listed for the team', async () => {
    const m = mocks(validated(OFF_PATH));
    await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      const err = await decide(handle, 'approve', 'eve@example.com').catch((e: unknown) => e);
      expect((err as WorkflowUpdateFailedError).cause?.message).toBe(
        'eve@example.com is not a reviewer for team risk (allowed: bob@example.com, carol@example.com)',
      );
      await decide(handle, 'approve', 'bob@example.com');
      await handle.result();
    });
  });

  it('refuses a review when none is pending', async () => {
    const m = mocks(validated(manifestDoc()), true);
    await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      for (let i = 0; i < 100 && (await handle.query(stateQuery)).stage !== 'done'; i++) await sleep(50);
      const err = await decide(handle, 'approve', 'bob@example.com').catch((e: unknown) => e);
      expect((err as WorkflowUpdateFailedError).cause?.message).toBe('no review is pending for this release');
      m.releaseExport!();
      await handle.result();
    });
  });

  it('answers a second identical approve with the first result', async () => {
    const m = mocks(validated(OFF_PATH), true);
    await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      const first = await decide(handle, 'approve', 'bob@example.com', 'ok');
      await sleep(200);
      const second = await decide(handle, 'approve', 'bob@example.com', 'ok');
      expect(second).toEqual(first);
      const conflicting = await decide(handle, 'reject', 'carol@example.com').catch((e: unknown) => e);
      expect((conflicting as WorkflowUpdateFailedError).cause?.message).toBe(
        'this release was already approved by bob@example.com',
      );
      m.releaseExport!();
      expect((await handle.result()).status).toBe('released');
    });
    expect(m.exported[0]!.filter((e) => e.action === 'review approved')).toHaveLength(1);
  });

  it('a gate failure stops the release with exit 2 and a sentence naming the field', async () => {
    const m = mocks(validated(manifestDoc({ inputs: [] })));
    const result = await h.run(m.activities, async (tq) => (await start(tq)).result());
    expect(result).toEqual({
      status: 'stopped',
      exitCode: 2,
      stage: 'validate',
      reason:
        'paved.yaml is invalid: inputs: must list at least one model input. Fix: list the model inputs in order, e.g. [{name: age, dtype: float32}]',
    });
    expect(m.exported[0]!.at(-1)).toMatchObject({ action: 'release stopped', verdict: 'fail' });
  });

  it('a non-retryable activity error fails the workflow at once (the CLI maps it to exit 1)', async () => {
    let calls = 0;
    const m = mocks(async () => {
      calls += 1;
      throw ApplicationFailure.create({
        message: 'package sha256:ab… is not in the store',
        type: 'PackageUnavailable',
        nonRetryable: false,
      });
    });
    const err = await h.run(m.activities, async (tq) => (await start(tq)).result()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(calls).toBe(1); // listed in nonRetryableErrorTypes: no retries for hours
    // the record still ends with what happened
    expect(m.exported[0]!.at(-1)).toMatchObject({
      action: 'release failed',
      verdict: 'fail',
      reason: 'validate failed: package sha256:ab… is not in the store',
    });
  });

  it('a failed bind stops the release (exit 2) before any review, with the sentence from the check', async () => {
    const m = mocks(validated(OFF_PATH));
    const reason =
      'feature `checks` is Int64 in Feast but the model expects float32 — cast it to Float32 in the feature view, or retrain on Int64';
    m.activities.bindFeatures = async () => ({
      stage: 'bind',
      verdict: { kind: 'fail', reason },
      output: { report: null },
      summary: reason,
    });
    const result = await h.run(m.activities, async (tq) => (await start(tq)).result());
    expect(result).toEqual({ status: 'stopped', exitCode: 2, stage: 'bind', reason });
    expect(m.exported[0]!.map((e) => e.action)).toEqual([
      'release requested',
      'stage validate',
      'stage containerize',
      'stage bind',
      'release stopped',
    ]);
    expect(m.exported[0]![3]).toMatchObject({ stage: 'bind', verdict: 'fail', reason });
  });

  it('a shadow gate failure stops the release (exit 2) with its sentence; nothing rolls out', async () => {
    const m = mocks(validated(manifestDoc()));
    const reason =
      'Your model is accurate (accuracy 0.65 on 300 held-out requests), but its p99 is 341 ms, 141 ms over the 200 ms budget. Optimize it: a smaller model or fewer features per prediction.';
    m.activities.shadowEvaluate = async () => ({
      stage: 'shadow',
      verdict: { kind: 'fail', reason },
      output: { ...SHADOW_OUTPUT, p99Ms: 341 },
      summary: reason,
    });
    let served = 0;
    m.activities.startServing = async ({ version }) => {
      served++;
      return { version, endpoints: ['http://127.0.0.1:1'], replicas: ['c'] };
    };
    const result = await h.run(m.activities, async (tq) => (await start(tq)).result());
    expect(result).toEqual({ status: 'stopped', exitCode: 2, stage: 'shadow', reason });
    expect(served).toBe(0);
    const trail = m.exported[0]!;
    expect(trail.map((e) => e.action)).toEqual([
      'release requested',
      'stage validate',
      'stage containerize',
      'stage bind',
      'stage shadow',
      'release stopped',
    ]);
    expect(trail[4]).toMatchObject({
      stage: 'shadow',
      verdict: 'fail',
      reason,
      outputs: { report: '/reports/arrests/v1/report.html' },
    });
  });

  it('a bias gate failure stops the release (exit 2) naming the group; nothing rolls out', async () => {
    const m = mocks(validated(manifestDoc()));
    const reason =
      'Selection rate for colour=Black is 0.51 against 0.74 for colour=White: demographic parity ratio 0.69, below the 0.80 minimum. Check whether the model leans on colour or a proxy for it; reweight or drop the feature and retrain.';
    m.activities.biasCheck = async () => ({
      stage: 'bias',
      verdict: { kind: 'fail', reason },
      output: { judgement: null, selectionRates: {} },
      summary: reason,
    });
    let served = 0;
    m.activities.startServing = async ({ version }) => {
      served++;
      return { version, endpoints: ['http://127.0.0.1:1'], replicas: ['c'] };
    };
    const result = await h.run(m.activities, async (tq) => (await start(tq)).result());
    expect(result).toEqual({ status: 'stopped', exitCode: 2, stage: 'bias', reason });
    expect(served).toBe(0);
    expect(m.exported[0]!.map((e) => e.action).slice(-3)).toEqual([
      'stage shadow',
      'stage bias',
      'release stopped',
    ]);
  });

  it('off the path, the review comes before shadow: the image runs only once approved', async () => {
    const m = mocks(validated(OFF_PATH));
    const seen: Array<{ allowPickle: boolean; reviewed: boolean }> = [];
    let reviewed = false;
    const shadow = m.activities.shadowEvaluate!;
    m.activities.shadowEvaluate = async (input) => {
      seen.push({ allowPickle: input.allowPickle, reviewed });
      return shadow(input);
    };
    const result = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      reviewed = true;
      await decide(handle, 'approve', 'carol@example.com');
      return handle.result();
    });
    expect(result.status).toBe('released');
    expect(seen).toEqual([{ allowPickle: true, reviewed: true }]);
  });

  it('a near miss asks for review after shadow when the policy says so', async () => {
    const m = mocks(validated(manifestDoc()));
    const message = 'Its p99 is 185 ms, within 10 % of the 200 ms budget; the next change may cross it.';
    m.activities.shadowEvaluate = async () => ({
      stage: 'shadow',
      verdict: {
        kind: 'needs-review',
        reasons: [{ code: 'shadow-near-miss', field: 'budgets', message, fix: 'a reviewer decides' }],
      },
      output: { ...SHADOW_OUTPUT, p99Ms: 185 },
      summary: message,
    });
    const { result, pending } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      const pending = await untilReviewPending(handle);
      await decide(handle, 'approve', 'bob@example.com');
      return { result: await handle.result(), pending };
    });
    expect(pending.pendingReview!.reasons[0]!.message).toBe(message);
    expect(result.status).toBe('released');
    expect(m.exported[0]!.map((e) => e.action).slice(3, 8)).toEqual([
      'stage bind',
      'stage shadow',
      'stage bias',
      'review requested',
      'review approved',
    ]);
  });

  it('a canary that breaches is rolled back: stable keeps the traffic, the canary stops, exit 4', async () => {
    const m = mocks(validated(manifestDoc()));
    const routes: unknown[] = [];
    const stopped: string[] = [];
    const stable = { version: 'v0', endpoints: ['http://127.0.0.1:2'] };
    m.activities.planRollout = async () => ({
      steps: [5, 25, 100],
      bakeMs: 50,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: { ...DEFAULT_LIMITS, minRequests: 50 },
    });
    m.activities.currentRoute = servedBy(stable);
    m.activities.setRoute = async ({ route }) => void routes.push(route);
    m.activities.stopServing = async ({ model, version }) =>
      void stopped.push(servingContainerName(model, version));
    let version = '';
    m.activities.windowStats = async () => ({
      v0: { requests: 950, errors: 0, p50Ms: 3, p99Ms: 9 },
      [version]: { requests: 100, errors: 20, p50Ms: 3, p99Ms: 9 },
    });
    const { result, listed } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      version = handle.workflowId.split('/')[2]!;
      const result = await handle.result();
      return { result, listed: (await handle.describe()).typedSearchAttributes.get(PavedOutcome) };
    });
    expect(result).toEqual({
      status: 'rolled-back',
      exitCode: 4,
      stage: 'rollout',
      reason: 'canary error rate 20 % (20 of 100) is over the 5 % limit; stable 0 %',
    });
    // the workflow list's PavedOutcome column says it, while the run itself is COMPLETED
    expect(listed).toBe('rolled-back');
    expect(routes).toEqual([
      expect.objectContaining({ stable, canary: expect.objectContaining({ version, weight: 5 }) }),
      expect.objectContaining({ stable, canary: null }),
    ]);
    expect(stopped).toEqual([`paved-arrests.${version}`]);
    const step = m.exported[0]!.find((e) => e.action === 'rollout step 5 %')!;
    expect(step).toMatchObject({ verdict: 'fail', outputs: { weight: 5, decision: 'rollback' } });
  });

  it('a first release takes 100 % with no traffic at all, and the audit and report say it was not judged', async () => {
    const m = mocks(validated(manifestDoc()));
    let statsAsked = 0;
    const reported: Array<{ stable: string | null; ending: string; decisions: string[] }> = [];
    const routes: unknown[] = [];
    m.activities.planRollout = async () => ({
      steps: [5, 25, 100],
      bakeMs: 60_000,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: DEFAULT_LIMITS,
    });
    m.activities.windowStats = async () => {
      statsAsked++;
      return {};
    };
    m.activities.setRoute = async ({ route }) => void routes.push(route);
    m.activities.reportRollout = async ({ stable, ending, windows }) => {
      reported.push({ stable, ending, decisions: windows.map((w) => w.decision) });
      return '/reports/arrests/v1/report.html';
    };
    const { result, trail } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      return { result: await handle.result(), trail: await handle.query(auditQuery) };
    });
    expect(result.status).toBe('released');
    expect(result.exitCode).toBe(0);
    // no bake, no window: a minute-long bake would have timed this test out
    expect(statsAsked).toBe(0);
    expect(routes).toEqual([
      expect.objectContaining({
        stable: { version: expect.stringMatching(/^t/), endpoints: ['http://127.0.0.1:1'] },
        canary: null,
      }),
    ]);
    const step = trail.find((e) => e.action === 'rollout step 100 %')!;
    expect(step).toMatchObject({ verdict: 'pass', outputs: { weight: 100, decision: 'unjudged' } });
    expect(step.reason).toContain('not judged on live traffic');
    expect(result.reason).toMatch(/^passed validate, .*rollout; first release, not judged on live traffic$/);
    expect(trail.find((e) => e.action === 'release released')!.reason).toBe(result.reason);
    expect(reported).toEqual([
      { stable: null, ending: 'released without a judgement on live traffic', decisions: ['unjudged'] },
    ]);
  });

  it('with a stable and no traffic, a step is inconclusive: it holds, then asks a reviewer; approve goes on, and later thin steps do not ask again', async () => {
    const m = mocks(validated(manifestDoc()));
    const weights: number[] = [];
    const windows: number[] = [];
    const stable = { version: 'v0', endpoints: ['http://127.0.0.1:2'] };
    m.activities.planRollout = async () => ({
      steps: [5, 25, 100],
      bakeMs: 200,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      // The dev server fires short timers late (up to a second): several windows fit in 3 s.
      limits: { ...DEFAULT_LIMITS, inconclusiveMs: 3_000 },
    });
    m.activities.currentRoute = servedBy(stable);
    m.activities.setRoute = async ({ route }) =>
      void weights.push((route as { canary: { weight: number } | null }).canary?.weight ?? 100);
    // Nobody calls the model at any step.
    m.activities.windowStats = async ({ windowMs }): Promise<Record<string, WindowStats>> => {
      windows.push(windowMs);
      return {};
    };
    const { result, trail, holding, asked, list } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      let holding: ReleaseState | undefined;
      for (let i = 0; i < 200 && !holding; i++) {
        const s = await handle.query(stateQuery);
        if (s.rollout?.phase === 'inconclusive') holding = s;
        else await sleep(25);
      }
      const asked = await untilReviewPending(handle);
      const list = await pavedReviewsQuery(handle.workflowId);
      await decide(handle, 'approve', 'bob@example.com', 'low traffic hour');
      return { result: await handle.result(), trail: await handle.query(auditQuery), holding, asked, list };
    });
    expect(holding!.rollout).toMatchObject({ weight: 5, phase: 'inconclusive' });
    expect(holding!.rollout!.note).toContain('holding 5 %: inconclusive: the canary answered 0 requests');
    expect(holding!.details).toContain('a reviewer is asked in');
    expect(asked.pendingReview).toMatchObject({
      round: 1,
      reviewers: ['bob@example.com', 'carol@example.com'],
    });
    expect(asked.pendingReview!.reasons[0]!.message).toMatch(
      /at 5 %: inconclusive for \d s: the canary answered 0 requests/,
    );
    expect(asked.stage).toBe('rollout'); // the release keeps its model's lane while a person decides
    expect(asked.rollout).toMatchObject({ weight: 5, phase: 'review' });
    expect(list).toBe(true);
    // the weight held (no rollback, no second 5 %) until the reviewer approved; then one bake per step
    expect(weights).toEqual([5, 25, 100, 100]);
    // sparse traffic adds up: each window reaches back to when the weight was set
    expect(windows[0]).toBeGreaterThanOrEqual(200);
    expect(windows[0]).toBeLessThan(3_000);
    expect(Math.max(...windows.slice(0, -1))).toBeGreaterThanOrEqual(3_000);
    expect(result).toMatchObject({ status: 'released', exitCode: 0 });
    const decisions = trail
      .filter((e) => e.action.startsWith('rollout step'))
      .map((e) => `${e.action}: ${(e.outputs as { decision: string }).decision}`);
    expect(decisions.at(0)).toBe('rollout step 5 %: extend');
    expect(decisions.slice(-3)).toEqual([
      'rollout step 5 %: review',
      'rollout step 25 %: advance',
      'rollout step 100 %: advance',
    ]);
    expect(decisions).not.toContain('rollout step 5 %: rollback');
    expect(trail.at(-3)!.reason).toMatch(
      /answered 0 requests.*; going on without a judgement, as bob@example\.com approved$/,
    );
    expect(trail.filter((e) => e.action === 'review requested')).toHaveLength(1);
    expect(trail.map((e) => `${e.actor}: ${e.action}`)).toEqual(
      expect.arrayContaining(['paved: review requested', 'bob@example.com: review approved']),
    );
  });

  it('a reviewer who rejects an inconclusive step rolls it back (exit 3); stable keeps the traffic', async () => {
    const m = mocks(validated(manifestDoc()));
    const { routes, stopped, stable } = thinRollout(m);
    const result = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      await decide(handle, 'reject', 'carol@example.com', 'wait for the morning');
      return handle.result();
    });
    expect(result).toEqual({
      status: 'rejected',
      exitCode: 3,
      stage: 'rollout',
      reason: 'rejected by carol@example.com: wait for the morning',
    });
    expect(routes.at(-1)).toMatchObject({ stable, canary: null });
    expect(stopped).toEqual([expect.stringMatching(/^paved-arrests\.t/)]);
  });

  it('an operator who aborts while a reviewer is asked about an inconclusive step rolls it back at once', async () => {
    const m = mocks(validated(manifestDoc()));
    const { routes, stable } = thinRollout(m);
    const { result, trail, after } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      await handle.signal(rolloutControlSignal, {
        action: 'abort',
        actor: 'ops@example.com',
        reason: 'incident',
      });
      const result = await handle.result();
      return { result, trail: await handle.query(auditQuery), after: await handle.query(stateQuery) };
    });
    expect(result).toMatchObject({
      status: 'rolled-back',
      exitCode: 4,
      reason: 'aborted by ops@example.com: incident',
    });
    expect(after.pendingReview).toBeNull();
    expect(routes.at(-1)).toMatchObject({ stable, canary: null });
    expect(trail.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'review requested',
        'rollout abort',
        'review withdrawn',
        'rollout rolled back',
      ]),
    );
  });

  it('an off-path release approved before shadow is asked again for an inconclusive step, as a new round', async () => {
    const m = mocks(validated(OFF_PATH));
    const stable = { version: 'v0', endpoints: ['http://127.0.0.1:2'] };
    m.activities.planRollout = async () => ({
      steps: [5, 100],
      bakeMs: 100,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: { ...DEFAULT_LIMITS, inconclusiveMs: 200 },
    });
    m.activities.currentRoute = servedBy(stable);
    let quiet = true;
    let version = '';
    m.activities.windowStats = async (): Promise<Record<string, WindowStats>> => (quiet ? {} : busy(version));
    const { result, rounds } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      version = handle.workflowId.split('/')[2]!;
      const first = await untilReviewPending(handle);
      await handle.executeUpdate(reviewUpdate, {
        args: [await signedFor(handle, 'approve', 'bob@example.com')],
        updateId: 'review/1/bob@example.com/approve',
      });
      let second: ReleaseState | undefined;
      for (let i = 0; i < 200 && !second; i++) {
        const s = await handle.query(stateQuery);
        if (s.pendingReview?.round === 2) second = s;
        else await sleep(25);
      }
      quiet = false;
      await handle.executeUpdate(reviewUpdate, {
        args: [await signedFor(handle, 'approve', 'bob@example.com')],
        updateId: 'review/2/bob@example.com/approve',
      });
      return {
        result: await handle.result(),
        rounds: [first.pendingReview!.round, second?.pendingReview?.round],
      };
    });
    expect(rounds).toEqual([1, 2]);
    expect(result.status).toBe('released');
  });

  it('pause holds the weight, resume continues, promote skips the remaining steps', async () => {
    const m = mocks(validated(manifestDoc()));
    const weights: number[] = [];
    let judged = 0;
    const stable = { version: 'v0', endpoints: ['http://127.0.0.1:2'] };
    m.activities.planRollout = async () => ({
      steps: [5, 25, 50, 100],
      bakeMs: 100,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: { ...DEFAULT_LIMITS, minRequests: 0 },
    });
    m.activities.currentRoute = servedBy(stable);
    // The 5 % and 25 % routes are held until the operator's signal is in the history, so
    // the bake that follows starts with it: a slow machine cannot let a bake end first.
    const held = new Map([5, 25].map((w) => [w, latch()]));
    const set = new Map([5, 25].map((w) => [w, latch()]));
    m.activities.setRoute = async ({ route }) => {
      const weight = (route as { canary: { weight: number } | null }).canary?.weight ?? 100;
      weights.push(weight);
      set.get(weight)?.resolve();
      await held.get(weight)?.promise;
    };
    m.activities.windowStats = async (): Promise<Record<string, WindowStats>> => {
      judged += 1;
      return {};
    };
    const { result, trail } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await within(set.get(5)!.promise, 'the 5 % route');
      await handle.signal(rolloutControlSignal, {
        action: 'pause',
        actor: 'ops@example.com',
        reason: 'incident',
      });
      held.get(5)!.resolve();
      let paused = await handle.query(stateQuery);
      for (let i = 0; i < 200 && !paused.details.includes('paused at this weight'); i++) {
        await sleep(50);
        paused = await handle.query(stateQuery);
      }
      expect(paused.rollout).toMatchObject({ weight: 5, paused: true });
      expect(paused.details).toContain('paused at this weight');
      // Several bake windows later, a paused rollout has judged no window and moved nowhere.
      await sleep(500);
      expect((await handle.query(stateQuery)).rollout).toMatchObject({ weight: 5, paused: true });
      expect(judged).toBe(0);
      expect(weights).toEqual([5]);
      await handle.signal(rolloutControlSignal, { action: 'resume', actor: 'ops@example.com' });
      await within(set.get(25)!.promise, 'the 25 % route');
      await promoteAs(handle);
      held.get(25)!.resolve();
      return { result: await handle.result(), trail: await handle.query(auditQuery) };
    });
    // resume judged the 5 % step once and went on; promote came before 25 % was judged
    expect(judged).toBe(1);
    expect(weights).toEqual([5, 25, 100]);
    expect(result.status).toBe('released');
    const actions = trail.map((e) => `${e.actor}: ${e.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'ops@example.com: rollout pause',
        'ops@example.com: rollout resume',
        'ops@example.com: rollout promote',
      ]),
    );
    expect(trail.find((e) => e.action === 'stage rollout')!.reason).toBeUndefined();
    expect(trail.find((e) => e.action === 'rollout pause')).toMatchObject({ reason: 'incident' });
  });

  it('the lane: a release approved while another rolls out waits for it, then rolls out against it as stable', async () => {
    // A is off the path and waits in review; B of the same model starts later, on the
    // path, and takes the rollout lane first. A, approved meanwhile, queues behind B.
    let validations = 0;
    const m = mocks(async () => validated(++validations === 1 ? OFF_PATH : manifestDoc()));
    m.activities.planRollout = async () => ({
      steps: [5, 100],
      bakeMs: 60_000,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: DEFAULT_LIMITS,
    });
    // A gateway of one model: what was set is what is read back.
    let route: ModelRoute | null = {
      stable: { version: 'v0', endpoints: ['http://127.0.0.1:2'] },
      canary: null,
      shadow: null,
      faults: {},
      stickyInput: null,
    };
    m.activities.currentRoute = async () => route;
    m.activities.setRoute = async ({ route: r }) => void (route = r as ModelRoute | null);
    const judgedAgainst: Record<string, string | null> = {};
    m.activities.reportRollout = async ({ version, stable }) => {
      judgedAgainst[version] = stable;
      return null;
    };
    const { a, b, resultA, resultB, waiting, queue } = await h.run(m.activities, async (tq) => {
      const a = await start(tq);
      await untilReviewPending(a);
      const b = await start(tq);
      const until = async (handle: WorkflowHandle<typeof release>, what: (s: ReleaseState) => boolean) => {
        for (let i = 0; i < 200; i++) {
          const st = await handle.query(stateQuery);
          if (what(st)) return st;
          await sleep(50);
        }
        throw new Error(`${handle.workflowId} never got there`);
      };
      await until(b, (st) => st.rollout?.phase === 'judging');
      await decide(a, 'approve', 'bob@example.com');
      const waiting = (await until(a, (st) => st.details.includes('waiting for'))).details;
      const serving = h.client.workflow.getHandle(servingWorkflowId('arrests', tq));
      const queue = (await serving.query(servingStateQuery)).lane;
      await promoteAs(b);
      const resultB = await b.result();
      await until(a, (st) => st.rollout?.phase === 'judging');
      await promoteAs(a);
      return { a, b, resultA: await a.result(), resultB, waiting, queue };
    });
    const [va, vb] = [a.workflowId.split('/')[2]!, b.workflowId.split('/')[2]!];
    console.log(
      `lane: ${va} waited "${waiting}"; lane then ${JSON.stringify({ holder: queue.holder?.release, queue: queue.queue.map((e) => e.release) })}; ${vb} ${resultB.status} against ${judgedAgainst[vb]}, then ${va} ${resultA.status} against ${judgedAgainst[va]}`,
    );
    expect(waiting).toBe(`rollout: waiting for arrests/${vb} to finish its rollout`);
    expect(queue.holder?.release).toBe(b.workflowId);
    expect(queue.queue.map((e) => e.release)).toEqual([a.workflowId]);
    expect(resultB.status).toBe('released');
    expect(resultA.status).toBe('released');
    expect(judgedAgainst).toEqual({ [vb]: 'v0', [va]: vb });
    expect(route).toMatchObject({ stable: { version: va }, canary: null });
  });

  it('an old stable that will not stop is reported, not rolled back: the new version keeps serving', async () => {
    const m = mocks(validated(manifestDoc()));
    const stable = { version: 'v0', endpoints: ['http://127.0.0.1:2'] };
    m.activities.currentRoute = servedBy(stable);
    const routes: unknown[] = [];
    m.activities.setRoute = async ({ route }) => void routes.push(route);
    m.activities.stopServing = async () => {
      throw ApplicationFailure.nonRetryable('docker: device busy');
    };
    const { result, trail } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      return { result: await handle.result(), trail: await handle.query(auditQuery) };
    });
    expect(result.status).toBe('released');
    expect(routes.at(-1)).toMatchObject({ canary: null, stable: { version: expect.stringMatching(/^t/) } });
    expect(trail.find((e) => e.action === 'old stable not stopped')!.reason).toBe(
      'stop the replicas of arrests/v0 by hand (docker ps --filter label=paved.release=arrests/v0): docker: device busy',
    );
  });

  it('abort rolls back with the operator named', async () => {
    const m = mocks(validated(manifestDoc()));
    m.activities.planRollout = async () => ({
      steps: [100],
      bakeMs: 60_000,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: DEFAULT_LIMITS,
    });
    m.activities.currentRoute = servedBy({ version: 'v0', endpoints: ['http://127.0.0.1:2'] });
    const result = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      for (let i = 0; i < 100 && (await handle.query(stateQuery)).rollout === null; i++) await sleep(50);
      await abortAsOps(handle, 'bad data');
      return handle.result();
    });
    expect(result).toEqual({
      status: 'rolled-back',
      exitCode: 4,
      stage: 'rollout',
      reason: 'aborted by ops@example.com: bad data',
    });
  });

  it('an abort while the release waits for review ends it there: nothing in the image runs, no traffic moves (exit 4)', async () => {
    const m = mocks(validated(OFF_PATH));
    const ran: string[] = [];
    for (const name of ['shadowEvaluate', 'biasCheck', 'requestServing'] as const) {
      const real = m.activities[name]! as (...a: never[]) => Promise<unknown>;
      (m.activities as Record<string, unknown>)[name] = (...a: never[]) => {
        ran.push(name);
        return real(...a);
      };
    }
    const result = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      await abortAsOps(handle, 'wrong data');
      return handle.result();
    });
    expect(result).toEqual({
      status: 'rolled-back',
      exitCode: 4,
      stage: 'review',
      reason: 'aborted by ops@example.com during review, before the rollout (wrong data); no traffic moved',
    });
    expect(ran).toEqual([]);
    expect(m.exported[0]!.map((e) => e.action)).toEqual([
      'release requested',
      'stage validate',
      'stage containerize',
      'stage bind',
      'review requested',
      'rollout abort',
      'review withdrawn',
      'release rolled-back',
    ]);
  });

  it('a promote before the rollout is refused with a sentence in the audit, and the release goes on', async () => {
    const m = mocks(validated(OFF_PATH));
    const result = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await untilReviewPending(handle);
      const refusal = await promoteAs(handle).catch((e: unknown) => e);
      expect((refusal as WorkflowUpdateFailedError).cause?.message).toBe(
        'promote applies to a rollout in progress; the release is in review',
      );
      await decide(handle, 'approve', 'bob@example.com', 'torch reviewed');
      return handle.result();
    });
    expect(result.status).toBe('released');
    const refused = m.exported[0]!.find((e) => e.action === 'rollout promote refused');
    expect(refused).toMatchObject({
      actor: 'ops@example.com',
      reason: 'promote applies to a rollout in progress; the release is in review',
    });
    expect(m.exported[0]!.map((e) => e.action).filter((a) => a !== 'rollout promote refused')).toEqual(
      APPROVED_ONE_STEP_TRAIL,
    );
  });

  it('an operator cancelling during the build stops the build and still exports the audit', async () => {
    let buildCancelled = false;
    const m = mocks(validated(manifestDoc()));
    m.activities.containerizePackage = async () => {
      const ctx = Context.current();
      try {
        for (;;) {
          ctx.heartbeat('building');
          await ctx.sleep(100);
        }
      } catch (err) {
        buildCancelled = true;
        throw err;
      }
    };
    const err = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      for (let i = 0; i < 100 && (await handle.query(stateQuery)).stage !== 'containerize'; i++)
        await sleep(50);
      await sleep(300);
      await handle.cancel();
      return handle.result().catch((e: unknown) => e);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(buildCancelled).toBe(true);
    expect(m.exported[0]!.at(-1)).toMatchObject({
      action: 'release cancelled',
      reason: 'cancelled by an operator during containerize',
    });
  });
});
