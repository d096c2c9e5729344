import type { Client } from '@temporalio/client';
import type { ReleaseActivities } from '../../src/activities/index.js';
import { createServingActivities } from '../../src/activities/serving.js';
import { createDecisionActivities } from '../../src/activities/decisions.js';
import { verifySignature } from '../../src/adapters/ssh-signature.js';
import { TEST_POLICY } from './release-fixtures.js';
import type { AuditEntry } from '../../src/domain/audit.js';
import type { StageOutcome } from '../../src/domain/release.js';
import { DEFAULT_LIMITS, servingContainerName } from '../../src/domain/rollout.js';
import type { ValidateOutput } from '../../src/domain/validate.js';

// Mock activities for release workflow tests: every stage passes, and the model's
// serving workflow runs for real (signal-with-start through the test's client).

export const SHADOW_OUTPUT = {
  report: '/reports/arrests/v1/report.html',
  predictions: '/reports/arrests/v1/predictions.jsonl',
  stableVersion: null,
  p99Ms: 46.7,
  judgement: null,
};

export interface Mocks {
  activities: Partial<ReleaseActivities>;
  exported: AuditEntry[][];
  /** Resolve to let the final audit export finish (keeps the run open meanwhile). */
  releaseExport?: () => void;
}

export function mocks(
  client: () => Client,
  validate: StageOutcome<ValidateOutput> | (() => Promise<StageOutcome<ValidateOutput>>),
  holdExport = false,
): Mocks {
  const exported: AuditEntry[][] = [];
  let gate: Promise<void> = Promise.resolve();
  const m: Mocks = { exported, activities: {} };
  if (holdExport) gate = new Promise((r) => (m.releaseExport = r));
  m.activities = {
    validatePackage: typeof validate === 'function' ? validate : async () => validate,
    containerizePackage: async ({ model }) => ({
      stage: 'containerize',
      verdict: { kind: 'pass' },
      output: {
        image: `127.0.0.1:5000/paved/${model}:pkg-abab-t-1234`,
        digest: `sha256:${'cd'.repeat(32)}`,
        cached: false,
        template: 'python-sklearn',
        templateKey: '1234',
        runtimeImage: 'paved/runtime-python-sklearn:1234',
        sizeMB: 300,
      },
      summary: `built paved/${model}:pkg-abab-t-1234`,
    }),
    bindFeatures: async () => ({
      stage: 'bind',
      verdict: { kind: 'pass' },
      output: { report: null },
      summary: 'no feature service declared; callers send every model input',
    }),
    shadowEvaluate: async () => ({
      stage: 'shadow',
      verdict: { kind: 'pass' },
      output: SHADOW_OUTPUT,
      summary: 'p50 20.3 ms, p99 46.7 ms, errors 0/300 at 10/s from the package sample',
    }),
    biasCheck: async () => ({
      stage: 'bias',
      verdict: { kind: 'pass' },
      output: { judgement: null, selectionRates: {} },
      summary: 'colour parity ratio 0.94, sex parity ratio 0.95 on 300 predictions',
    }),
    // The rollout against a gateway with no traffic and no stable: a first release, 100 % at once.
    planRollout: async () => ({
      steps: [100],
      bakeMs: 100,
      drainMs: 0,
      reconcileEveryMs: 60_000,
      limits: { ...DEFAULT_LIMITS, minRequests: 0 },
    }),
    startServing: async ({ model, version }) => ({
      version,
      endpoints: ['http://127.0.0.1:1'],
      replicas: [servingContainerName(model, version)],
    }),
    currentRoute: async () => null,
    // The model's serving workflow runs for real on the test's task queue; its
    // replica and route activities are the mocks here.
    requestServing: (input) =>
      createServingActivities({
        client: async () => client(),
        runtime: undefined as never,
        router: undefined as never,
        policy: () => undefined as never,
      }).requestServing(input),
    adoptServing: async () => ({ route: null, versions: [] }),
    reconcileServing: async () => ({ endpoints: {}, replaced: [], removed: [] }),
    releaseRunning: async () => true,
    setRoute: async () => undefined,
    windowStats: async () => ({}),
    stopServing: async () => undefined,
    reportRollout: async () => null,
    // Signatures are checked for real, against the test policy's keys.
    verifyDecision: createDecisionActivities({ policy: () => TEST_POLICY, verify: verifySignature })
      .verifyDecision,
    exportAudit: async ({ entries }) => {
      await gate;
      exported.push(entries);
      return '/audit/arrests/v1.json';
    },
  };
  return m;
}

/**
 * A rollout in two steps (5 %, 100 %) after a stable v0 that a gateway routes alone:
 * `bakeMs` per step, and `limits` over the policy's defaults.
 */
export function afterStableV0(m: Mocks, bakeMs: number, limits: Partial<typeof DEFAULT_LIMITS> = {}): void {
  m.activities.planRollout = async () => ({
    steps: [5, 100],
    bakeMs,
    drainMs: 0,
    reconcileEveryMs: 60_000,
    limits: { ...DEFAULT_LIMITS, ...limits },
  });
  m.activities.currentRoute = async () => ({
    stable: { version: 'v0', endpoints: ['http://127.0.0.1:2'] },
    canary: null,
    shadow: null,
    faults: {},
    stickyInput: null,
  });
}
