import { proxyActivities } from '@temporalio/workflow';
import type { BiasOutput } from '../../activities/bias.js';
import type { ReleaseActivities } from '../../activities/index.js';
import type { ShadowOutput } from '../../activities/shadow.js';
import type { Manifest } from '../../domain/manifest.js';
import type { StageOutcome } from '../../domain/release.js';
import type { StageContext } from './stage.js';
import { FAILURE } from '../../domain/errors.js';
import { WORKER_LOSS_NOTICED_AFTER } from '../activity-options.js';

// One read of the feature server and arithmetic: seconds. A feature server that
// is down is retried for a while (`paved stack up` restarts it).
const { biasCheck } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: {
    maximumAttempts: 5,
    initialInterval: '5 seconds',
    nonRetryableErrorTypes: [FAILURE.policyInvalid],
  },
  summary: 'bias: per-group rates of the shadow predictions against policy and stable',
});

export function runBias(
  ctx: StageContext,
  args: { manifest: Pick<Manifest, 'fairness' | 'inputs'>; shadow: ShadowOutput; entityKey: string | null },
): Promise<StageOutcome<BiasOutput>> {
  if (!args.shadow.predictions) {
    // Only a shadow stage that stopped the release has no predictions; kept total for safety.
    return Promise.resolve({
      stage: 'bias',
      verdict: { kind: 'fail', reason: 'the shadow stage recorded no predictions to measure' },
      output: { judgement: null, selectionRates: {} },
      summary: 'no predictions',
    });
  }
  return biasCheck({
    model: ctx.input.model,
    version: ctx.input.version,
    fairness: args.manifest.fairness,
    inputs: args.manifest.inputs.map((i) => i.name),
    predictions: args.shadow.predictions,
    stableVersion: args.shadow.stableVersion,
    entityKey: args.entityKey,
  });
}
