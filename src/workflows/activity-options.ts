import type { ActivityOptions } from '@temporalio/workflow';
import { FAILURE } from '../domain/errors.js';

/**
 * Every activity heartbeats while it runs (activities/heartbeat.ts). One whose worker
 * died (killed, out of memory, its machine gone) is noticed after this long and
 * retried on another worker, instead of after its start-to-close timeout, which is
 * minutes for a build or a shadow.
 */
export const WORKER_LOSS_NOTICED_AFTER = '15 seconds';

/**
 * A quick call to a part on loopback (the gateway, a serving workflow): ten tries a
 * second apart, and a broken policy is not retried.
 */
export function quickCall(summary: string): ActivityOptions {
  return {
    startToCloseTimeout: '30 seconds',
    heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
    retry: {
      maximumAttempts: 10,
      initialInterval: '1 second',
      nonRetryableErrorTypes: [FAILURE.policyInvalid],
    },
    summary,
  };
}
