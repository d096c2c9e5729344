import type { Verified } from '../adapters/ssh-signature.js';
import type { Policy } from '../domain/policy.js';
import { readPolicy } from './policy.js';

export interface DecisionActivities {
  /**
   * Whether a signed decision is its signer's, by the keys the model's team lists in
   * the policy as it is now (a key removed from the policy stops counting at once).
   */
  verifyDecision(input: { team: string; signer: string; text: string; signature: string }): Promise<Verified>;
}

export interface DecisionDeps {
  policy: () => Policy;
  verify: (args: {
    text: string;
    signature: string;
    principal: string;
    signers: readonly string[];
  }) => Promise<Verified>;
}

export function createDecisionActivities(deps: DecisionDeps): DecisionActivities {
  return {
    verifyDecision: async ({ team, signer, text, signature }) => {
      const policy = readPolicy(deps.policy);
      const signers = Object.hasOwn(policy.teams, team) ? policy.teams[team]!.signers : [];
      if (signers.length === 0) return { ok: false, reason: `team ${team} lists no signers in the policy` };
      return deps.verify({ text, signature, principal: signer, signers });
    },
  };
}
