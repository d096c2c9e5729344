import { proxyActivities } from '@temporalio/workflow';
import type { ReleaseActivities } from '../../activities/index.js';
import type { StageOutcome } from '../../domain/release.js';
import type { ValidateOutput } from '../../domain/validate.js';
import type { StageContext } from './stage.js';
import { FAILURE } from '../../domain/errors.js';
import { WORKER_LOSS_NOTICED_AFTER } from '../activity-options.js';

// Validation reads a small file from the store: quick, and a missing package or a
// broken policy will not fix itself by retrying.
const { validatePackage } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [FAILURE.packageUnavailable, FAILURE.policyInvalid] },
  summary: 'validate the package against paved.yaml schema and platform policy',
});

export function runValidate(ctx: StageContext): Promise<StageOutcome<ValidateOutput>> {
  return validatePackage({ model: ctx.input.model, package: ctx.input.package });
}
