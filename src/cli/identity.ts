import { execFileSync } from 'node:child_process';

/** Who is acting: --as, then PAVED_USER, then git's user.email. */
export function resolveIdentity(explicit?: string): string | undefined {
  if (explicit) return explicit;
  if (process.env.PAVED_USER) return process.env.PAVED_USER;
  try {
    const email = execFileSync('git', ['config', 'user.email'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return email || undefined;
  } catch {
    return undefined;
  }
}
