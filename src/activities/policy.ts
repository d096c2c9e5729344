import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../domain/errors.js';
import type { Policy } from '../domain/policy.js';

/** The platform policy, or a failure the workflow does not retry: a broken policy stays broken. */
export function readPolicy(load: () => Policy): Policy {
  try {
    return load();
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, FAILURE.policyInvalid);
  }
}
