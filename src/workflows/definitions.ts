// Shared by the workflow and its clients (CLI, tests): names and shapes of the
// release workflow's messages and search attributes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AuditEntry } from '../domain/audit.js';
import type { PendingReview, ReleaseOutcome, ReviewResult, StageName, Verdict } from '../domain/release.js';
import type { SignedDecision } from '../domain/signed-decision.js';

export const PavedStage = defineSearchAttributeKey('PavedStage', SearchAttributeType.KEYWORD);
export const PavedModel = defineSearchAttributeKey('PavedModel', SearchAttributeType.KEYWORD);
/**
 * How a release ended (released, stopped, rejected, expired, rolled-back, cancelled,
 * failed), set once when it ends: every release's run is COMPLETED in Temporal, so
 * this is the column and filter an operator scans the workflow list by.
 */
export const PavedOutcome = defineSearchAttributeKey('PavedOutcome', SearchAttributeType.KEYWORD);

export const TASK_QUEUE_DEFAULT = 'paved';

export interface StageSummary {
  stage: StageName;
  verdict: Verdict['kind'];
  summary: string;
}

export interface ReleaseState {
  model: string;
  version: string;
  /** sha256:<hex> of the package: what a signed decision names. */
  digest: string;
  owner: string | null;
  /** Where the release stands: a stage name while running, the final status after. */
  stage: StageName | 'queued' | 'done';
  stages: StageSummary[];
  pendingReview: PendingReview | null;
  review: ReviewResult | null;
  outcome: ReleaseOutcome | null;
  details: string;
  /** While the rollout stage runs: the canary's weight, what the stage is doing, and whether an operator paused it. */
  rollout: (RolloutProgress & { paused: boolean }) | null;
}

/** What `paved status` shows while the stage runs. */
export interface RolloutProgress {
  weight: number;
  stable: string | null;
  /** judging: baking a step; inconclusive: holding for traffic; review: a person decides; unjudged: first release. */
  phase: 'judging' | 'inconclusive' | 'review' | 'unjudged';
  note: string;
}

/** Open to anyone the team lists and recorded; promote is a signed decision (promoteUpdate). */
export type RolloutAction = 'pause' | 'resume' | 'abort';

export interface RolloutControlRequest {
  action: RolloutAction;
  actor: string;
  reason?: string;
}

/** A reviewer's signed approve or reject of the pending review round. */
export const reviewUpdate = defineUpdate<ReviewResult, [SignedDecision]>('review');
/** An operator's signed promote: the rollout skips its remaining steps. */
export const promoteUpdate = defineUpdate<string, [SignedDecision]>('promote');
/**
 * Any signed decision (approve, reject, promote) as a Signal, for the Temporal UI's
 * "Send a Signal": checked like the Updates; a refusal is written to the audit.
 */
export const decisionSignal = defineSignal<[SignedDecision]>('signedDecision');
export const stateQuery = defineQuery<ReleaseState>('state');
export const auditQuery = defineQuery<AuditEntry[]>('audit');
/** Operators steer a rollout: pause holds the weight, resume bakes the step again, abort rolls back. */
export const rolloutControlSignal = defineSignal<[RolloutControlRequest]>('rolloutControl');
