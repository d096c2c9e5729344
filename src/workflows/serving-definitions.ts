// Shared by the serving workflow, the releases that talk to it, and its clients
// (CLI, tests): names and shapes of its messages.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ModelRoute } from '../domain/route.js';
import type { ServedVersionSpec, ServingState } from '../domain/serving.js';
import type { Endpoint } from '../domain/route.js';
import { TASK_QUEUE_DEFAULT } from './definitions.js';

/**
 * One serving workflow per model and installation. A task queue other than the
 * default is a separate installation (or a test) and gets serving workflows of its own.
 */
export function servingWorkflowId(model: string, taskQueue: string = TASK_QUEUE_DEFAULT): string {
  return taskQueue === TASK_QUEUE_DEFAULT ? `serving/${model}` : `serving/${taskQueue}/${model}`;
}

export interface ServingInput {
  model: string;
  /** Carried across continue-as-new. */
  state?: ServingState;
}

/** What a release asks of its model's serving workflow; all but `lane` only while it holds the lane. */
export type ServingCommand =
  | { kind: 'lane'; reconcileEveryMs: number }
  | { kind: 'start'; spec: ServedVersionSpec }
  | { kind: 'route'; route: Partial<ModelRoute> | null }
  | { kind: 'stop'; version: string }
  /** Gives the lane back (or leaves the queue). Not answered. */
  | { kind: 'done' };

export interface ServingRequest {
  /** The release's workflow id: where the answer goes. */
  from: string;
  id: number;
  command: ServingCommand;
}

export interface ServingReply {
  id: number;
  /** Why the command failed; null when it succeeded. */
  error: string | null;
  /** `lane`, not yet granted: who holds it, and how many wait before this release. */
  queued?: { behind: string; ahead: number };
  /** `lane`: the route as the lane was granted. */
  route?: ModelRoute | null;
  /** `start`: the version's replicas. */
  started?: { version: string; endpoints: Endpoint[]; replicas: string[] };
}

export const servingRequestSignal = defineSignal<[ServingRequest]>('servingRequest');
export const servingReplySignal = defineSignal<[ServingReply]>('servingReply');
export const servingStateQuery = defineQuery<ServingState>('servingState');
