import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SIGNATURE_NAMESPACE } from '../domain/signed-decision.js';

/**
 * SSH signatures through OpenSSH's own ssh-keygen (`-Y sign` / `-Y verify`), the
 * implementation git uses for signed commits: paved formats the text, ssh-keygen
 * does the cryptography.
 */

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sshKeygen(args: string[], stdin: string, signal?: AbortSignal): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-keygen', args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error(
              'ssh-keygen is not installed. Fix: install OpenSSH (Debian: apt-get install openssh-client)',
            )
          : err,
      ),
    );
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    // ssh-keygen may exit before reading its input (a signature it cannot parse): its exit code says why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'paved-sig-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Signs `text` with a key file: a private key, or a public key whose private half
 * ssh-agent holds (ssh-keygen asks the agent then, as git does).
 */
export async function signText(text: string, keyFile: string): Promise<string> {
  return inTempDir(async (dir) => {
    const message = path.join(dir, 'decision.txt');
    await writeFile(message, text);
    const ran = await sshKeygen(['-Y', 'sign', '-n', SIGNATURE_NAMESPACE, '-f', keyFile, message], '');
    if (ran.code !== 0)
      throw new Error(
        `ssh-keygen could not sign with ${keyFile}: ${ran.stderr.trim() || `exit ${ran.code}`}. Fix: pass --key <private key>, or add the key to ssh-agent`,
      );
    return readFile(`${message}.sig`, 'utf8');
  });
}

export type Verified = { ok: true; key: string } | { ok: false; reason: string };

/**
 * Whether `signature` is `principal`'s signature of `text` in paved's namespace,
 * by the keys in `signers` (allowed_signers lines, `<identity> <type> <key>`).
 */
export async function verifySignature(
  args: { text: string; signature: string; principal: string; signers: readonly string[] },
  signal?: AbortSignal,
): Promise<Verified> {
  const own = args.signers.filter((l) => l.split(/\s+/)[0]!.toLowerCase() === args.principal.toLowerCase());
  if (own.length === 0) return { ok: false, reason: `${args.principal} has no key in the policy's signers` };
  return inTempDir(async (dir) => {
    const allowed = path.join(dir, 'allowed_signers');
    const sig = path.join(dir, 'decision.sig');
    // The principal as signed, each key restricted to paved's namespace.
    const lines = own.map((l) => {
      const [, ...key] = l.split(/\s+/);
      return `${args.principal} namespaces="${SIGNATURE_NAMESPACE}" ${key.join(' ')}`;
    });
    await writeFile(allowed, `${lines.join('\n')}\n`);
    await writeFile(sig, args.signature.replace(/\r\n/g, '\n'));
    const ran = await sshKeygen(
      ['-Y', 'verify', '-f', allowed, '-I', args.principal, '-n', SIGNATURE_NAMESPACE, '-s', sig],
      args.text,
      signal,
    );
    if (ran.code === 0) {
      const fingerprint = /key (SHA256:\S+)/.exec(ran.stdout)?.[1] ?? 'its key';
      return { ok: true, key: fingerprint };
    }
    const why = ran.stderr.trim().split('\n').at(-1) ?? '';
    return {
      ok: false,
      reason: `the signature is not ${args.principal}'s signature of this decision${why ? ` (${why})` : ''}`,
    };
  });
}
