import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities/index.js';
import type { AuditEntry } from '../domain/audit.js';
import type { ReleaseInput } from '../domain/release.js';
import {
  decisionRefusal,
  looksArmored,
  parseDecisionText,
  type Deciders,
} from '../domain/signed-decision.js';
import { quickCall } from './activity-options.js';

const { verifyDecision } = proxyActivities<ReleaseActivities>(quickCall('check the signed release request'));

/**
 * The release request, once the team is known: unsigned, the requester stays a
 * claim; signed, its signer (and the commit author CI names) is proven and kept from
 * reviewing it. A signature that does not hold stops the release.
 */
export async function checkReleaseRequest(
  input: ReleaseInput,
  team: Deciders,
  signedWithin: string,
  record: (entry: Omit<AuditEntry, 'seq' | 'at'>) => void,
): Promise<{ deciders: Deciders } | { refused: string }> {
  if (!input.request) return { deciders: team };
  const refused = (reason: string) => {
    record({ actor: input.requestedBy, action: 'release request refused', stage: 'validate', reason });
    return { refused: `the signed release request does not hold: ${reason}` };
  };
  const parsed = parseDecisionText(input.request.text);
  if ('problem' in parsed) return refused(parsed.problem);
  const { claim } = parsed;
  const problem = decisionRefusal(claim, {
    model: input.model,
    version: input.version,
    digest: input.package.digest,
    expected: ['release'],
    // Judged by when the release started: a queue before validate is no reason to refuse.
    now: workflowInfo().startTime.getTime(),
    signedWithin,
    deciders: team,
    used: [],
  });
  if (problem) return refused(problem);
  if (!looksArmored(input.request.signature)) return refused('it carries no SSH signature');
  const verified = await verifyDecision({
    team: team.team,
    signer: claim.signer,
    text: input.request.text,
    signature: input.request.signature,
  });
  if (!verified.ok) return refused(verified.reason);
  record({
    actor: claim.signer,
    action: 'release request signed',
    stage: 'validate',
    reason: `signed with ${verified.key}${claim.author ? `, for the commit of ${claim.author}` : ''}`,
  });
  return {
    deciders: {
      ...team,
      requestSigner: claim.signer,
      ...(claim.author ? { author: claim.author } : {}),
    },
  };
}
