import { proxyActivities } from '@temporalio/workflow';
import type { ReleaseActivities } from '../../activities/index.js';
import type { ShadowOutput } from '../../activities/shadow.js';
import type { FeatureBinding } from '../../domain/feature-binding.js';
import type { Manifest } from '../../domain/manifest.js';
import type { StageOutcome } from '../../domain/release.js';
import type { StageContext } from './stage.js';
import { FAILURE } from '../../domain/errors.js';
import { WORKER_LOSS_NOTICED_AFTER } from '../activity-options.js';

// Starting two model containers and a replay window of about half a minute, with
// heartbeats throughout: a worker that dies mid-replay is noticed within seconds
// and the measurement starts over (containers by name are replaced, not doubled).
const { shadowEvaluate } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: {
    maximumAttempts: 3,
    initialInterval: '10 seconds',
    nonRetryableErrorTypes: [FAILURE.policyInvalid],
  },
  summary: 'shadow: replay traffic at candidate and stable, measure latency, errors and cost',
});

export function runShadow(
  ctx: StageContext,
  args: {
    manifest: Pick<Manifest, 'budgets' | 'shadow' | 'fairness'>;
    image: string;
    binding: FeatureBinding | null;
    allowPickle: boolean;
  },
): Promise<StageOutcome<ShadowOutput>> {
  return shadowEvaluate({
    model: ctx.input.model,
    version: ctx.input.version,
    image: args.image,
    binding: args.binding,
    allowPickle: args.allowPickle,
    package: ctx.input.package,
    manifest: {
      budgets: args.manifest.budgets,
      ...(args.manifest.shadow ? { shadow: args.manifest.shadow } : {}),
    },
    sensitive: args.manifest.fairness.sensitive,
  });
}
