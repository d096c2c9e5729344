import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { SmokeActivities } from '../activities/smoke.js';
import { WORKER_LOSS_NOTICED_AFTER } from './activity-options.js';

/**
 * Proves the stack end to end: a worker on the task queue, an activity that drives
 * Docker (push the base image) and one that asks the registry what it stored.
 * Placeholder for the release workflow, which replaces it as the main job.
 */
export interface StackSmokeInput {
  /** Local image to publish, e.g. paved/python-base:<key>. */
  image: string;
}

export interface StackSmokeResult {
  engineVersion: string;
  pushedRef: string;
  pushedDigest: string;
  registryDigest: string;
}

const { publishImage } = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: { maximumAttempts: 3 },
});

const { readRegistryDigest } = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: { maximumAttempts: 5 },
});

export async function stackSmoke(input: StackSmokeInput): Promise<StackSmokeResult> {
  const pushed = await publishImage({ image: input.image });
  const registryDigest = await readRegistryDigest({ repository: pushed.repository, tag: pushed.tag });
  if (registryDigest !== pushed.digest) {
    throw ApplicationFailure.nonRetryable(
      `registry holds ${registryDigest ?? 'nothing'} for ${pushed.ref}, but Docker pushed ${pushed.digest}`,
      'DigestMismatch',
    );
  }
  return {
    engineVersion: pushed.engineVersion,
    pushedRef: pushed.ref,
    pushedDigest: pushed.digest,
    registryDigest,
  };
}
