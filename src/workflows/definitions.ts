// Shared by the workflow and its clients (CLI, tests): names and shapes of the
// release workflow's messages and search attributes.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AuditEntry } from '../domain/audit.js';
import type {
  PendingReview,
  ReleaseOutcome,
  ReviewRequest,
  ReviewResult,
  StageName,
  Verdict,
} from '../domain/release.js';

export const PavedStage = defineSearchAttributeKey('PavedStage', SearchAttributeType.KEYWORD);
export const PavedModel = defineSearchAttributeKey('PavedModel', SearchAttributeType.KEYWORD);

export const TASK_QUEUE_DEFAULT = 'paved';

export interface StageSummary {
  stage: StageName;
  verdict: Verdict['kind'];
  summary: string;
}

export interface ReleaseState {
  model: string;
  version: string;
  owner: string | null;
  /** Where the release stands: a stage name while running, the final status after. */
  stage: StageName | 'queued' | 'done';
  stages: StageSummary[];
  pendingReview: PendingReview | null;
  review: ReviewResult | null;
  outcome: ReleaseOutcome | null;
  details: string;
}

export const reviewUpdate = defineUpdate<ReviewResult, [ReviewRequest]>('review');
export const stateQuery = defineQuery<ReleaseState>('state');
export const auditQuery = defineQuery<AuditEntry[]>('audit');
