import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signText } from '../adapters/ssh-signature.js';
import { PavedError } from '../domain/errors.js';
import { decisionText, type DecisionClaim, type SignedDecision } from '../domain/signed-decision.js';

function quiet(cmd: string, args: string[]): string | undefined {
  try {
    return (
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** A public key line written to a file, for ssh-keygen to sign with through ssh-agent. */
function publicKeyFile(line: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-key-')), 'key.pub');
  writeFileSync(file, `${line.trim()}\n`, { mode: 0o600 });
  return file;
}

const home = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

/**
 * The key to sign with, as git finds its SSH signing key: --key, then
 * PAVED_SIGNING_KEY, then git's user.signingkey (a path, or `key::<public key>`
 * held by ssh-agent), then the first key ssh-agent holds.
 */
export function resolveSigningKey(explicit?: string): string | undefined {
  const given = explicit ?? process.env.PAVED_SIGNING_KEY;
  if (given) {
    if (!existsSync(home(given)))
      throw new PavedError(
        `signing key ${given} does not exist. Fix: pass --key <path to your SSH private key>`,
      );
    return home(given);
  }
  const git = quiet('git', ['config', 'user.signingkey']);
  if (git) return git.startsWith('key::') ? publicKeyFile(git.slice('key::'.length)) : home(git);
  const agent = quiet('ssh-add', ['-L'])?.split('\n')[0];
  if (agent && !agent.startsWith('The agent has no')) return publicKeyFile(agent);
  return undefined;
}

export function requireSigningKey(explicit?: string): string {
  const key = resolveSigningKey(explicit);
  if (!key)
    throw new PavedError(
      "no SSH key to sign this decision with. Fix: pass --key ~/.ssh/id_ed25519, set PAVED_SIGNING_KEY, add your key to ssh-agent, or set git config user.signingkey; its public half must be in your team's signers in the policy",
    );
  return key;
}

/** The claim, signed now by `keyFile`. */
export async function signDecision(
  claim: Omit<DecisionClaim, 'at'> & { at?: string },
  keyFile: string,
): Promise<SignedDecision> {
  const text = decisionText({ at: new Date().toISOString(), ...claim });
  return { text, signature: await signText(text, keyFile) };
}

/** What to paste into the Temporal UI's "Send a Signal" (signal signedDecision). */
export function signalInput(signed: SignedDecision): string {
  return JSON.stringify(signed);
}
