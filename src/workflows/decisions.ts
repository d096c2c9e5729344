import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities/index.js';
import type { AuditEntry } from '../domain/audit.js';
import { rootMessage } from '../domain/errors.js';
import type { ReleaseInput, ReviewResult } from '../domain/release.js';
import {
  claimKey,
  decisionRefusal,
  decisionShapeProblem,
  looksArmored,
  parseDecisionText,
  type DecisionClaim,
  type Deciders,
  type SignedAction,
  type SignedDecision,
} from '../domain/signed-decision.js';
import { quickCall } from './activity-options.js';
import { decisionSignal, promoteUpdate, reviewUpdate, type ReleaseState } from './definitions.js';

const { verifyDecision } = proxyActivities<ReleaseActivities>(quickCall('check a signed decision'));

export const DECISION_REFUSED = 'DecisionRefused';

export interface DecisionDeskArgs {
  input: ReleaseInput;
  state: ReleaseState;
  record: (entry: Omit<AuditEntry, 'seq' | 'at'>) => void;
  /** Who may decide: null until validate has read the manifest and the policy. */
  deciders: () => (Deciders & { signedWithin: string }) | null;
  /** A proven promote: the rollout skips its remaining steps. */
  promote: (actor: string, reason?: string) => void;
}

/**
 * The release's signed decisions: approve and reject by Update (`paved approve`),
 * promote by Update (`paved promote`), any of them as a Signal with the same signed
 * text (reviewers in the Temporal UI). Each is checked the same way (domain rules
 * here, the signature by an activity) and every refusal is in the audit.
 */
export function openDecisionDesk(args: DecisionDeskArgs): void {
  const { input, state, record } = args;
  const used: string[] = [];
  let checking = false;

  const refuse = (claim: DecisionClaim | null, action: string, reason: string): never => {
    record({
      actor: claim?.signer ?? 'unknown',
      action: action === 'promote' ? 'rollout promote refused' : 'review refused',
      stage: action === 'promote' ? 'rollout' : 'review',
      reason,
    });
    throw ApplicationFailure.nonRetryable(reason, DECISION_REFUSED);
  };

  /** Refusals that depend on where the release stands now (checked again after the signature). */
  const standing = (claim: DecisionClaim, round: number | undefined): string | undefined => {
    if (claim.action === 'promote')
      return state.stage === 'rollout'
        ? undefined
        : `promote applies to a rollout in progress; the release is in ${state.stage}`;
    if (state.review)
      return `this release was already ${state.review.decision === 'approve' ? 'approved' : 'rejected'} by ${state.review.reviewer}`;
    if (!state.pendingReview) return 'no review is pending for this release';
    if (round !== undefined && state.pendingReview.round !== round)
      return `the review changed to round ${state.pendingReview.round} while the signature was checked: sign again`;
    return undefined;
  };

  const decide = async (
    signed: SignedDecision,
    expected: readonly SignedAction[],
  ): Promise<ReviewResult | string> => {
    const parsed = parseDecisionText(signed.text);
    if ('problem' in parsed) return refuse(null, 'decision', `not a paved decision: ${parsed.problem}`);
    const { claim } = parsed;
    // A person retrying the decision already on record gets it back, with no new effect.
    if (
      state.review &&
      claim.action === state.review.decision &&
      sameWho(claim.signer, state.review.reviewer)
    )
      return state.review;
    const who = args.deciders();
    if (!who)
      return refuse(claim, claim.action, 'the release is not validated yet; decide once it waits for you');
    const round = state.pendingReview?.round;
    const refusal =
      standing(claim, undefined) ??
      decisionRefusal(claim, {
        model: input.model,
        version: input.version,
        digest: input.package.digest,
        expected,
        ...(round !== undefined ? { round } : {}),
        now: Date.now(),
        signedWithin: who.signedWithin,
        deciders: who,
        used,
      });
    if (refusal) return refuse(claim, claim.action, refusal);
    if (!looksArmored(signed.signature))
      return refuse(
        claim,
        claim.action,
        'the decision is not signed: `paved approve/reject/promote` sign it with your SSH key (--key, ssh-agent or git user.signingkey)',
      );
    // One signature check at a time: two approvals racing must not both land.
    await condition(() => !checking);
    checking = true;
    let verified;
    try {
      verified = await verifyDecision({
        team: who.team,
        signer: claim.signer,
        text: signed.text,
        signature: signed.signature,
      });
    } finally {
      checking = false;
    }
    if (!verified.ok) return refuse(claim, claim.action, verified.reason);
    const after = standing(claim, round);
    if (after) return refuse(claim, claim.action, after);
    used.push(claimKey(claim));
    if (claim.action === 'promote') {
      args.promote(claim.signer, claim.comment);
      record({
        actor: claim.signer,
        action: 'rollout promote',
        stage: 'rollout',
        reason: `signed with ${verified.key}${claim.comment ? `: ${claim.comment}` : ''}`,
      });
      return `promoted by ${claim.signer}`;
    }
    const decision = claim.action === 'approve' ? 'approve' : 'reject';
    const result: ReviewResult = {
      decision,
      reviewer: claim.signer,
      ...(claim.comment ? { comment: claim.comment } : {}),
      at: new Date().toISOString(),
      round: round ?? 1,
      key: verified.key,
      signedAt: claim.at,
    };
    state.review = result;
    state.pendingReview = null;
    record({
      actor: claim.signer,
      action: decision === 'approve' ? 'review approved' : 'review rejected',
      stage: 'review',
      verdict: decision === 'approve' ? 'pass' : 'fail',
      reason: `${claim.comment ? `${claim.comment}; ` : ''}signed with ${verified.key} at ${claim.at}`,
    });
    return result;
  };

  const shapeCheck = (signed: SignedDecision) => {
    const problem = decisionShapeProblem(signed);
    if (problem) throw new Error(problem);
  };
  setHandler(reviewUpdate, async (signed) => (await decide(signed, ['approve', 'reject'])) as ReviewResult, {
    validator: shapeCheck,
  });
  setHandler(promoteUpdate, async (signed) => (await decide(signed, ['promote'])) as string, {
    validator: shapeCheck,
  });
  setHandler(decisionSignal, async (signed) => {
    if (decisionShapeProblem(signed)) {
      record({ actor: 'unknown', action: 'decision refused', reason: decisionShapeProblem(signed) });
      return;
    }
    try {
      await decide(signed, ['approve', 'reject', 'promote']);
    } catch (err) {
      // A signal has no one to answer: a refusal is in the audit already, and nothing changed.
      if (err instanceof ApplicationFailure && err.type === DECISION_REFUSED) return;
      record({
        actor: 'unknown',
        action: 'decision refused',
        reason: `the signature could not be checked: ${rootMessage(err)}; send it again`,
      });
    }
  });
}

function sameWho(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
