import {
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReleaseActivities } from '../../activities/index.js';
import type { ServingBackend } from '../../activities/rollout.js';
import type { AuditEntry } from '../../domain/audit.js';
import type { FeatureBinding } from '../../domain/feature-binding.js';
import type { Manifest } from '../../domain/manifest.js';
import type { ReleaseOutcome } from '../../domain/release.js';
import {
  decideStep,
  judgedWindowMs,
  judgeWindow,
  minutes,
  servingContainerName,
  type RolloutStepRecord,
  type WindowStats,
} from '../../domain/rollout.js';
import type { Finding } from '../../domain/schema-errors.js';
import type { ModelRoute } from '../../domain/route.js';
import type { RolloutProgress } from '../definitions.js';
import type { StageContext } from './stage.js';
import { FAILURE } from '../../domain/errors.js';

// Route changes and stats are quick calls to the gateway on loopback; starting a
// container waits for its readiness. All are idempotent (absolute weights,
// deterministic container names), so retries are safe.
const gatewayCalls = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    maximumAttempts: 10,
    initialInterval: '1 second',
    nonRetryableErrorTypes: [FAILURE.policyInvalid],
  },
  summary: 'rollout: gateway route or stats',
});
const containers = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '3 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds' },
  summary: 'rollout: start or stop a serving container',
});

const reports = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '30 seconds',
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
 * protect or compare with: it takes 100 % once its container is ready.
 */
export async function runRollout(ctx: StageContext, args: RolloutArgs): Promise<RolloutResult> {
  const { model, version } = ctx.input;
  await waitForEarlierRollouts(model, args.show);
  const before = await gatewayCalls.currentRoute({ model });
  try {
    return await rollout(ctx, args, before);
  } catch (err) {
    // Cancelled or failed mid-rollout: put the route back as it was and stop the
    // candidate, even while the workflow is being cancelled; then the error stands.
    await CancellationScope.nonCancellable(async () => {
      try {
        await gatewayCalls.setRoute({ model, route: before });
        await containers.stopServing({ container: servingContainerName(model, version) });
      } catch {
        /* the original error says more than the cleanup's */
      }
    });
    throw err;
  }
}

/**
 * One rollout per model: an earlier release of the same model in its rollout goes
 * first. The rollout ahead may hold for traffic or wait for a reviewer for hours,
 * so the checks back off (2 s doubling to 2 min): each costs about 11 history
 * events, and a fixed 2 s poll would reach Temporal's history limit within hours.
 */
async function waitForEarlierRollouts(model: string, show: (details: string) => void): Promise<void> {
  const me = workflowInfo();
  for (let delayMs = 2_000; ; delayMs = Math.min(delayMs * 2, 120_000)) {
    const ahead = await gatewayCalls.rolloutsAhead({
      model,
      workflowId: me.workflowId,
      startTime: me.startTime.toISOString(),
    });
    if (ahead.length === 0) return;
    show(`rollout: waiting for ${ahead[0]!.replace(/^release\//, '')} to finish its rollout`);
    await sleep(delayMs);
  }
}

async function rollout(
  ctx: StageContext,
  args: RolloutArgs,
  before: ModelRoute | null,
): Promise<RolloutResult> {
  const { model, version } = ctx.input;
  const { control } = args;
  const plan = await gatewayCalls.planRollout({ rollout: args.manifest.rollout ?? null });
  const stable = before?.stable ?? null;
  const canary: ServingBackend = await containers.startServing({
    model,
    version,
    image: args.image,
    binding: args.binding,
    allowPickle: args.allowPickle,
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
    await gatewayCalls.setRoute({ model, route: stable ? { ...base, canary: null } : null });
    // Requests already on their way to the canary finish before it stops.
    await condition(() => false, plan.drainMs);
    await containers.stopServing({ container: canary.container });
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
    const note = `first release of ${model}: no stable version to protect or compare with, so it takes 100 % once its container answers ready; not judged on live traffic`;
    await gatewayCalls.setRoute({ model, route: { ...base, stable: target, canary: null } });
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
    await gatewayCalls.setRoute({ model, route: { ...base, canary: { ...target, weight } } });
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

  await gatewayCalls.setRoute({ model, route: { ...base, stable: target, canary: null } });
  const promoted = control.promote
    ? `promoted by ${control.promote.actor}${control.promote.reason ? `: ${control.promote.reason}` : ''}`
    : `${version} took every step (${steps.join(', ')} %)`;
  args.progress({ weight: 100, stable: version, phase: 'judging', note: promoted });
  await reportRollout(promoted);
  // In-flight requests to the old stable finish before its container goes.
  args.show(`rollout: ${version} is stable; draining ${stable.version}`);
  await condition(() => false, plan.drainMs);
  try {
    await containers.stopServing({ container: servingContainerName(model, stable.version) });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The new version already serves everything: a leftover old container is not a
    // reason to roll back (which the caller's cleanup would do), only to say so.
    args.record({
      actor: 'paved',
      action: 'old stable not stopped',
      stage: 'rollout',
      reason: `stop ${servingContainerName(model, stable.version)} by hand: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`,
    });
  }
  return {
    kind: 'released',
    reason: `${promoted}; ${version} serves 100 % behind the gateway`,
    judged: true,
  };
}
