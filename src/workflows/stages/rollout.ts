import { CancellationScope, condition, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { ReleaseActivities } from '../../activities/index.js';
import type { RolloutPlanOutput } from '../../activities/rollout.js';
import type { AuditEntry } from '../../domain/audit.js';
import type { FeatureBinding } from '../../domain/feature-binding.js';
import type { Manifest } from '../../domain/manifest.js';
import type { ReleaseOutcome } from '../../domain/release.js';
import {
  decideStep,
  judgedWindowMs,
  judgeWindow,
  minutes,
  type RolloutStepRecord,
  type WindowStats,
} from '../../domain/rollout.js';
import type { Finding } from '../../domain/schema-errors.js';
import type { ModelRoute } from '../../domain/route.js';
import type { RolloutProgress } from '../definitions.js';
import type { StageContext } from './stage.js';
import { ServingLane } from './serving-lane.js';
import { quickCall, WORKER_LOSS_NOTICED_AFTER } from '../activity-options.js';

// Stats are quick calls to the gateway on loopback. Replicas and routes are changed
// by the model's serving workflow, at this release's request (stages/serving-lane.ts).
const gatewayCalls = proxyActivities<ReleaseActivities>(quickCall('rollout: plan or window stats'));

const reports = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: { maximumAttempts: 3 },
  summary: 'rollout: add the rollout section to the report',
});

/** Set by the operator signal handler; read by the stage between and during bakes. */
export interface RolloutControl {
  paused: boolean;
  abort: { actor: string; reason?: string } | null;
  promote: { actor: string; reason?: string } | null;
}

/** How the stage ended; a reviewer's reject or no answer after an inconclusive step ends as that review did. */
export type RolloutResult =
  | { kind: 'released'; reason: string; judged: boolean }
  | { kind: 'rolled-back'; reason: string }
  | { kind: 'rejected' | 'expired'; reason: string };

export interface RolloutArgs {
  manifest: Pick<Manifest, 'rollout'>;
  image: string;
  binding: FeatureBinding | null;
  allowPickle: boolean;
  /** Replicas the candidate starts with (sized from the shadow measurement). */
  replicas: number;
  control: RolloutControl;
  record: (entry: Omit<AuditEntry, 'seq' | 'at'>) => void;
  show: (details: string) => void;
  progress: (p: RolloutProgress) => void;
  /**
   * Asks the team's reviewers; null once approved (or when an operator's abort or
   * promote overtook the question), else how the review ended.
   */
  askReview: (reasons: Finding[]) => Promise<ReleaseOutcome | null>;
  /** Who approved the last review, for the audit. */
  approvedBy: () => string | null;
}

const NO_TRAFFIC: WindowStats = { requests: 0, errors: 0, p50Ms: null, p99Ms: null };

/**
 * Shifts traffic to the candidate step by step through the gateway, judging it
 * against stable after each bake window, and rolls back on a breach or an abort.
 * Too little traffic is never a rollback: the step holds until the policy's
 * deadline, then a reviewer decides. A model's first release has no stable to
 * protect or compare with: it takes 100 % once its replicas are ready. Every replica
 * and route change goes through the model's serving workflow, which gives the
 * rollout lane to one release at a time.
 */
export async function runRollout(ctx: StageContext, args: RolloutArgs): Promise<RolloutResult> {
  const { version } = ctx.input;
  const plan = await gatewayCalls.planRollout({ rollout: args.manifest.rollout ?? null });
  const lane = new ServingLane(ctx.input.model);
  try {
    const before = await lane.acquire(plan.reconcileEveryMs, args.show);
    try {
      return await rollout(ctx, args, plan, lane, before);
    } catch (err) {
      // Cancelled or failed mid-rollout: put the route back as it was and stop the
      // candidate, even while the workflow is being cancelled; then the error stands.
      // Each step is tried on its own: a route that cannot be restored must not leave
      // the candidate running, and each failure is in the audit.
      const attempt = async (action: string, step: () => Promise<void>) => {
        try {
          await step();
        } catch (cleanup) {
          args.record({ actor: 'paved', action, stage: 'rollout', reason: String(cleanup) });
        }
      };
      await CancellationScope.nonCancellable(async () => {
        await attempt('route not restored', () => lane.route(before));
        await attempt('candidate not stopped', () => lane.stop(version));
      });
      throw err;
    }
  } finally {
    // Held or still queued, the lane is given back whatever happened.
    await CancellationScope.nonCancellable(() => lane.done());
  }
}

async function rollout(
  ctx: StageContext,
  args: RolloutArgs,
  plan: RolloutPlanOutput,
  lane: ServingLane,
  before: ModelRoute | null,
): Promise<RolloutResult> {
  const { model, version } = ctx.input;
  const { control } = args;
  const stable = before?.stable ?? null;
  const canary = await lane.start({
    version,
    image: args.image,
    binding: args.binding,
    allowPickle: args.allowPickle,
    replicas: args.replicas,
  });
  const base: Partial<ModelRoute> = {
    stable,
    shadow: before?.shadow ?? null,
    faults: before?.faults ?? {},
    stickyInput: args.binding?.entityKey ?? null,
  };
  const target = { version: canary.version, endpoints: canary.endpoints };

  const windows: RolloutStepRecord[] = [];
  /** The report gets the rollout's windows; a report that cannot be written is said, not fatal. */
  const reportRollout = async (ending: string) => {
    try {
      await reports.reportRollout({ model, version, stable: stable?.version ?? null, windows, ending });
    } catch (err) {
      if (isCancellation(err)) throw err;
      args.record({ actor: 'paved', action: 'report not updated', stage: 'rollout', reason: String(err) });
    }
  };
  const rollback = async (
    reason: string,
    ended: 'rolled-back' | 'rejected' | 'expired' = 'rolled-back',
  ): Promise<RolloutResult> => {
    await lane.route(stable ? { ...base, canary: null } : null);
    // Requests already on their way to the canary finish before it stops.
    await condition(() => false, plan.drainMs);
    await lane.stop(version);
    args.record({ actor: 'paved', action: 'rollout rolled back', stage: 'rollout', verdict: 'fail', reason });
    await reportRollout(`rolled back: ${reason}`);
    return { kind: ended, reason };
  };
  const aborted = () =>
    rollback(
      `aborted by ${control.abort!.actor}${control.abort!.reason ? `: ${control.abort!.reason}` : ''}`,
    );

  /**
   * Waits one bake window. Pause holds the weight; on resume the window starts
   * over. 'resumed' tells the caller that time spent paused is not time waited
   * for traffic.
   */
  const bake = async (): Promise<'done' | 'resumed' | 'abort' | 'promote'> => {
    let paused = false;
    for (;;) {
      await condition(
        () => control.abort !== null || control.promote !== null || control.paused,
        plan.bakeMs,
      );
      if (control.abort) return 'abort';
      if (control.promote) return 'promote';
      if (!control.paused) return paused ? 'resumed' : 'done';
      paused = true;
      args.show(`rollout: paused at this weight; \`paved resume ${model}/${version}\` continues`);
      await condition(() => !control.paused || control.abort !== null || control.promote !== null);
    }
  };

  if (control.abort) return aborted();

  if (!stable) {
    // Nothing to protect and nothing to compare with: waiting for traffic to a model
    // nobody calls yet would only end in a rollback that protects no one.
    const note = `first release of ${model}: no stable version to protect or compare with, so it takes 100 % once its replicas answer ready; not judged on live traffic`;
    await lane.route({ ...base, stable: target, canary: null });
    args.progress({ weight: 100, stable: version, phase: 'unjudged', note });
    windows.push({ weight: 100, canary: null, stable: null, decision: 'unjudged', reason: note });
    args.record({
      actor: 'paved',
      action: 'rollout step 100 %',
      stage: 'rollout',
      outputs: { weight: 100, canary: null, stable: null, decision: 'unjudged' },
      verdict: 'pass',
      reason: note,
    });
    await reportRollout('released without a judgement on live traffic');
    return { kind: 'released', reason: `${version} serves 100 % behind the gateway; ${note}`, judged: false };
  }

  const steps = plan.steps;
  // Once a reviewer has let a thin step go on, later thin steps do not ask again:
  // they advance after one bake. A breach still rolls back.
  let vouched: string | null = null;
  steps: for (const weight of steps) {
    if (control.promote) break;
    if (control.abort) return aborted();
    await lane.route({ ...base, canary: { ...target, weight } });
    const judging = `${weight} % to ${version}, the rest to ${stable.version}`;
    args.progress({ weight, stable: stable.version, phase: 'judging', note: `baking ${judging}` });
    args.show(`rollout: ${judging}; baking`);
    let since = Date.now();
    for (;;) {
      const ended = await bake();
      if (ended === 'abort') return aborted();
      if (ended === 'promote') break steps;
      if (ended === 'resumed') since = Date.now() - plan.bakeMs;
      const heldMs = Date.now() - since;
      const stats = await gatewayCalls.windowStats({ model, windowMs: judgedWindowMs(heldMs, plan.bakeMs) });
      const canaryStats = stats[version] ?? NO_TRAFFIC;
      const stableStats = stats[stable.version] ?? NO_TRAFFIC;
      const judgement = judgeWindow(canaryStats, stableStats, plan.limits);
      const decision =
        vouched && judgement.kind === 'insufficient'
          ? {
              kind: 'advance' as const,
              reason: `inconclusive: ${judgement.reason}; going on without a judgement, as ${vouched} approved`,
            }
          : decideStep(judgement, heldMs, plan.limits);
      windows.push({
        weight,
        canary: canaryStats,
        stable: stableStats,
        decision: decision.kind,
        reason: decision.reason,
      });
      args.record({
        actor: 'paved',
        action: `rollout step ${weight} %`,
        stage: 'rollout',
        outputs: { weight, canary: canaryStats, stable: stableStats, decision: decision.kind },
        verdict: decision.kind === 'rollback' ? 'fail' : 'pass',
        reason: decision.reason,
      });
      if (decision.kind === 'advance') break;
      if (decision.kind === 'rollback') return rollback(decision.reason);
      if (decision.kind === 'extend') {
        const left = plan.limits.inconclusiveMs - heldMs;
        const note = `holding ${weight} %: ${decision.reason}; a reviewer is asked in ${minutes(Math.max(left, 0))} if traffic stays this low`;
        args.progress({ weight, stable: stable.version, phase: 'inconclusive', note });
        args.show(`rollout: ${note}`);
        continue;
      }
      // Inconclusive for too long: a person decides, the weight holds meanwhile.
      args.progress({
        weight,
        stable: stable.version,
        phase: 'review',
        note: `holding ${weight} %: ${decision.reason}`,
      });
      const reviewed = await args.askReview([
        {
          code: 'rollout-inconclusive',
          field: 'rollout',
          message: `${version} at ${weight} %: ${decision.reason}`,
          fix: 'approve to take the next step without a judgement, reject to roll back; or send traffic',
        },
      ]);
      if (reviewed) return rollback(reviewed.reason, reviewed.status === 'expired' ? 'expired' : 'rejected');
      if (control.abort) return aborted();
      if (control.promote) break steps;
      vouched = args.approvedBy() ?? 'a reviewer';
      windows.push({
        weight,
        canary: canaryStats,
        stable: stableStats,
        decision: 'approved',
        reason: `${vouched} approved going on without a judgement`,
      });
      args.progress({ weight, stable: stable.version, phase: 'judging', note: `approved at ${weight} %` });
      break;
    }
  }

  await lane.route({ ...base, stable: target, canary: null });
  const promoted = control.promote
    ? `promoted by ${control.promote.actor}${control.promote.reason ? `: ${control.promote.reason}` : ''}`
    : `${version} took every step (${steps.join(', ')} %)`;
  args.progress({ weight: 100, stable: version, phase: 'judging', note: promoted });
  await reportRollout(promoted);
  // In-flight requests to the old stable finish before its container goes.
  args.show(`rollout: ${version} is stable; draining ${stable.version}`);
  await condition(() => false, plan.drainMs);
  try {
    await lane.stop(stable.version);
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The new version already serves everything: a leftover old replica is not a
    // reason to roll back (which the caller's cleanup would do), only to say so.
    args.record({
      actor: 'paved',
      action: 'old stable not stopped',
      stage: 'rollout',
      reason: `stop the replicas of ${model}/${stable.version} by hand (docker ps --filter label=paved.release=${model}/${stable.version}): ${(err as Error).message}`,
    });
  }
  return {
    kind: 'released',
    reason: `${promoted}; ${version} serves 100 % behind the gateway`,
    judged: true,
  };
}
