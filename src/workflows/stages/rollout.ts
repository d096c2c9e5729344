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
import { decideStep, judgeWindow, servingContainerName, type WindowStats } from '../../domain/rollout.js';
import type { ModelRoute } from '../../gateway/routes.js';
import type { StageContext } from './stage.js';

// Route changes and stats are quick calls to the gateway on loopback; starting a
// container waits for its readiness. All are idempotent (absolute weights,
// deterministic container names), so retries are safe.
const gatewayCalls = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, initialInterval: '1 second', nonRetryableErrorTypes: ['PolicyInvalid'] },
  summary: 'rollout: gateway route or stats',
});
const containers = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '3 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds' },
  summary: 'rollout: start or stop a serving container',
});

/** Set by the operator signal handler; read by the stage between and during bakes. */
export interface RolloutControl {
  paused: boolean;
  abort: { actor: string; reason?: string } | null;
  promote: { actor: string; reason?: string } | null;
}

export type RolloutResult = { kind: 'released'; reason: string } | { kind: 'rolled-back'; reason: string };

export interface RolloutArgs {
  manifest: Pick<Manifest, 'rollout'>;
  image: string;
  binding: FeatureBinding | null;
  allowPickle: boolean;
  control: RolloutControl;
  record: (entry: Omit<AuditEntry, 'seq' | 'at'>) => void;
  show: (details: string) => void;
  progress: (weight: number, stable: string | null) => void;
}

const NO_TRAFFIC: WindowStats = { requests: 0, errors: 0, p50Ms: null, p99Ms: null };

/**
 * Shifts traffic to the candidate step by step through the gateway, judging it
 * against stable after each bake window, and rolls back on a breach or an abort.
 * A model's first release has nothing to compare with: it goes to 100 % and is
 * judged over one window on the absolute limits.
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

/** One rollout per model: an earlier release of the same model in its rollout goes first. */
async function waitForEarlierRollouts(model: string, show: (details: string) => void): Promise<void> {
  const me = workflowInfo();
  for (;;) {
    const ahead = await gatewayCalls.rolloutsAhead({
      model,
      workflowId: me.workflowId,
      startTime: me.startTime.toISOString(),
    });
    if (ahead.length === 0) return;
    show(`rollout: waiting for ${ahead[0]!.replace(/^release\//, '')} to finish its rollout`);
    await sleep('2 seconds');
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
  const target = { version: canary.version, url: canary.url };

  const rollback = async (reason: string): Promise<RolloutResult> => {
    await gatewayCalls.setRoute({ model, route: stable ? { ...base, canary: null } : null });
    // Requests already on their way to the canary finish before it stops.
    await condition(() => false, plan.drainMs);
    await containers.stopServing({ container: canary.container });
    args.record({ actor: 'paved', action: 'rollout rolled back', stage: 'rollout', verdict: 'fail', reason });
    return { kind: 'rolled-back', reason };
  };

  /** Waits one bake window; pause holds the weight and, on resume, the window starts over. */
  const bake = async (): Promise<'done' | 'abort' | 'promote'> => {
    for (;;) {
      await condition(
        () => control.abort !== null || control.promote !== null || control.paused,
        plan.bakeMs,
      );
      if (control.abort) return 'abort';
      if (control.promote) return 'promote';
      if (!control.paused) return 'done';
      args.show(`rollout: paused at this weight; \`paved resume ${model}/${version}\` continues`);
      await condition(() => !control.paused || control.abort !== null || control.promote !== null);
    }
  };

  const steps = stable ? plan.steps : [100];
  steps: for (const weight of steps) {
    if (control.promote) break;
    await gatewayCalls.setRoute({ model, route: { ...base, canary: { ...target, weight } } });
    args.progress(weight, stable?.version ?? null);
    args.show(`rollout: ${weight} % to ${version}${stable ? `, the rest to ${stable.version}` : ''}; baking`);
    for (let extensions = 0; ;) {
      const ended = await bake();
      if (ended === 'abort')
        return rollback(
          `aborted by ${control.abort!.actor}${control.abort!.reason ? `: ${control.abort!.reason}` : ''}`,
        );
      if (ended === 'promote') break steps;
      const stats = await gatewayCalls.windowStats({ model, windowMs: plan.bakeMs });
      const canaryStats = stats[version] ?? NO_TRAFFIC;
      const stableStats = stable ? (stats[stable.version] ?? NO_TRAFFIC) : null;
      const decision = decideStep(
        judgeWindow(canaryStats, stableStats, plan.limits),
        extensions,
        plan.limits,
      );
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
      extensions++;
      args.show(`rollout: ${weight} %, baking again (${decision.reason})`);
    }
  }

  await gatewayCalls.setRoute({ model, route: { ...base, stable: target, canary: null } });
  args.progress(100, version);
  const promoted = control.promote
    ? `promoted by ${control.promote.actor}${control.promote.reason ? `: ${control.promote.reason}` : ''}`
    : `${version} took every step (${steps.join(', ')} %)`;
  if (stable) {
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
  }
  return { kind: 'released', reason: `${promoted}; ${version} serves 100 % behind the gateway` };
}
