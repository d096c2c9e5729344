import { proxyActivities } from '@temporalio/workflow';
import type { BindOutput } from '../../activities/bind.js';
import type { ReleaseActivities } from '../../activities/index.js';
import type { Manifest } from '../../domain/manifest.js';
import type { StageOutcome } from '../../domain/release.js';
import type { StageContext } from './stage.js';
import { FAILURE } from '../../domain/errors.js';
import { WORKER_LOSS_NOTICED_AFTER } from '../activity-options.js';

// Reading the sample offline starts a Python process with the Feast SDK: seconds,
// not minutes. A feature server that is down is retried for a while (it restarts
// with `paved stack up`); a wrong service name is a verdict, not an error.
const { bindFeatures } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: {
    maximumAttempts: 5,
    initialInterval: '5 seconds',
    nonRetryableErrorTypes: [FAILURE.policyInvalid],
  },
  summary: 'bind the feature service: dtypes, freshness, online/offline skew',
});

export function runBind(
  ctx: StageContext,
  manifest: Pick<Manifest, 'inputs' | 'features'>,
): Promise<StageOutcome<BindOutput>> {
  return bindFeatures({
    model: ctx.input.model,
    version: ctx.input.version,
    packageDigest: ctx.input.package.digest,
    manifest: { inputs: manifest.inputs, ...(manifest.features ? { features: manifest.features } : {}) },
  });
}
