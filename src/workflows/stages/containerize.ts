import { proxyActivities } from '@temporalio/workflow';
import type { ContainerizeOutput } from '../../activities/containerize.js';
import type { ReleaseActivities } from '../../activities/index.js';
import type { StageOutcome } from '../../domain/release.js';
import type { StageContext } from './stage.js';
import { WORKER_LOSS_NOTICED_AFTER } from '../activity-options.js';

// A cold build downloads the wheelhouse and builds the runtime image: minutes.
// Heartbeats carry progress, and a worker that dies is noticed within the heartbeat
// timeout instead of the whole start-to-close window.
const { containerizePackage } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: {
    maximumAttempts: 3,
    initialInterval: '5 seconds',
    nonRetryableErrorTypes: ['BaseImageMissing', 'TemplateInvalid'],
  },
  summary: 'build the model image (network none) and push it to the registry',
});

export function runContainerize(
  ctx: StageContext,
  template: string,
): Promise<StageOutcome<ContainerizeOutput>> {
  return containerizePackage({
    model: ctx.input.model,
    version: ctx.input.version,
    template,
    package: ctx.input.package,
  });
}
