import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Real SSH keys for the test identities, made once per machine and shared by every
// test process (the CLI signs with them, the worker's policy lists their public halves).
const DIR = path.join(os.tmpdir(), `paved-test-keys-${process.getuid?.() ?? 0}`);

/** The people the tests act as; each gets a key, whether the policy lists it or not. */
export const TEST_IDENTITIES = [
  'alice@example.com',
  'bob@example.com',
  'carol@example.com',
  'dana@example.com',
  'eve@example.com',
  'ops@example.com',
  'ci@example.com',
] as const;

/** The private key file of `identity`, made on first use (atomically: test files run in parallel). */
export function testKey(identity: string): string {
  const file = path.join(DIR, identity, 'id_ed25519');
  if (existsSync(file)) return file;
  mkdirSync(DIR, { recursive: true });
  const tmp = mkdtempSync(path.join(DIR, '.new-'));
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    identity,
    '-f',
    path.join(tmp, 'id_ed25519'),
  ]);
  try {
    renameSync(tmp, path.join(DIR, identity));
  } catch {
    // Another process made it first: use theirs.
    rmSync(tmp, { recursive: true, force: true });
  }
  return file;
}

/** The allowed_signers line of `identity`'s test key. */
export function signerLine(identity: string): string {
  const [type, key] = readFileSync(`${testKey(identity)}.pub`, 'utf8')
    .trim()
    .split(/\s+/);
  return `${identity} ${type} ${key}`;
}

/**
 * A policy document's teams with the test keys in place of the shipped example keys:
 * every reviewer and operator, and CI (which signs release requests in the tests).
 */
export function withTestSigners(doc: Record<string, unknown>): void {
  const teams = doc.teams as Record<
    string,
    { reviewers: string[]; operators?: string[]; signers?: string[] }
  >;
  for (const team of Object.values(teams)) {
    const people = new Set([...team.reviewers, ...(team.operators ?? []), 'ci@example.com']);
    team.signers = [...people].map(signerLine);
  }
}
