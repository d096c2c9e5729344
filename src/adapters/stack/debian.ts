import { existsSync } from 'node:fs';
import { PavedError } from '../../domain/errors.js';
import { isRoot, runVisible } from './exec.js';

/** A Debian package paved needs, and a file that proves it is installed. */
export interface DebianNeed {
  pkg: string;
  provides: string;
}

export class MissingPrerequisiteError extends PavedError {
  constructor(what: string, fix: string) {
    super(`${what}. Fix: ${fix}`);
  }
}

let aptUpdated = false;

/** Installs the Debian packages that are missing. Needs root; says what to run otherwise. */
export async function ensureDebianPackages(needs: DebianNeed[], forWhat: string): Promise<void> {
  const missing = needs.filter((n) => !existsSync(n.provides));
  if (missing.length === 0) return;
  const names = missing.map((m) => m.pkg).join(' ');
  if (!isRoot()) {
    throw new MissingPrerequisiteError(
      `${forWhat} needs the Debian package(s) ${names}, which are not installed, and paved is not running as root`,
      `sudo apt-get update && sudo apt-get install -y ${names}  (or run paved as root)`,
    );
  }
  process.stderr.write(`paved: installing ${names} from Debian for ${forWhat}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await runVisible('apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  await runVisible(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => m.pkg)],
    { env },
  );
  const still = missing.filter((n) => !existsSync(n.provides));
  if (still.length > 0) {
    throw new MissingPrerequisiteError(
      `apt-get installed ${names} but ${still.map((s) => s.provides).join(', ')} is still missing`,
      'check the apt output above',
    );
  }
}
