import type { WorkflowHandle } from '@temporalio/client';
import { signDecision } from '../../src/cli/signing.js';
import type { ReviewDecision, ReviewResult } from '../../src/domain/release.js';
import type { DecisionClaim, SignedDecision } from '../../src/domain/signed-decision.js';
import { promoteUpdate, reviewUpdate, stateQuery } from '../../src/workflows/definitions.js';
import { testKey } from './signers.js';

/**
 * A decision about the release behind `handle`, signed with `signer`'s real test key
 * for what the release shows now (its package, its pending round); `change` bends
 * one field to build a forged or misdirected one.
 */
export async function signedFor(
  handle: WorkflowHandle,
  action: DecisionClaim['action'],
  signer: string,
  change: Partial<Omit<DecisionClaim, 'action' | 'signer'>> & { key?: string } = {},
): Promise<SignedDecision> {
  const state = await handle.query(stateQuery);
  const { key, ...fields } = change;
  const round = state.pendingReview?.round ?? state.review?.round ?? 1;
  return signDecision(
    {
      action,
      model: state.model,
      version: state.version,
      package: state.digest,
      ...(action === 'approve' || action === 'reject' ? { round } : {}),
      signer,
      ...fields,
    },
    key ?? testKey(signer),
  );
}

/** `paved approve/reject` as the workflow sees it: a signed review Update. */
export async function decide(
  handle: WorkflowHandle,
  decision: ReviewDecision,
  reviewer: string,
  comment?: string,
): Promise<ReviewResult> {
  const signed = await signedFor(handle, decision, reviewer, comment ? { comment } : {});
  return handle.executeUpdate(reviewUpdate, { args: [signed] });
}

/**
 * `paved promote`: a signed promote Update from an operator. On a time-skipping
 * server, pass the server's time as `at`: the signature must be fresh in workflow time.
 */
export async function promoteAs(
  handle: WorkflowHandle,
  operator = 'ops@example.com',
  at?: string,
): Promise<string> {
  const signed = await signedFor(handle, 'promote', operator, at ? { at } : {});
  return handle.executeUpdate(promoteUpdate, { args: [signed] });
}
