import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { loadConfig } from '../../adapters/config-loader.js';
import { venvRoot } from '../../domain/config.js';
import { ensureTrainingEnv } from '../../adapters/training-env.js';
import { PavedError } from '../../domain/errors.js';

/** Runs a package's train.py in the template's serving environment; resolves with its exit code. */
export async function trainPackage(dir: string, data?: string): Promise<number> {
  const manifestFile = path.join(dir, 'paved.yaml');
  if (!existsSync(manifestFile))
    throw new PavedError(`${dir} has no paved.yaml. Fix: give a package directory (paved init makes one)`);
  if (!existsSync(path.join(dir, 'train.py')))
    throw new PavedError(`${dir} has no train.py. Fix: write one that saves the artifact paved.yaml names`);
  const manifest = (parse(readFileSync(manifestFile, 'utf8')) ?? {}) as { template?: unknown };
  const template = typeof manifest.template === 'string' ? manifest.template : 'python-sklearn';
  const env = await ensureTrainingEnv(venvRoot(loadConfig()), template);
  process.stderr.write(
    `paved: training with ${template}'s Python ${env.pythonVersion} and pins (${env.dir})\n`,
  );
  const args = ['train.py', ...(data ? [path.resolve(data)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(env.python, args, {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description("run a package's train.py in the exact Python environment its template's image serves with")
    .argument('<dir>', 'package directory')
    .option('--data <file>', 'train on this file instead of the one train.py names')
    .action(async (dir: string, opts: { data?: string }) => {
      const code = await trainPackage(path.resolve(dir), opts.data);
      if (code !== 0) throw new PavedError(`train.py exited with ${code}; its output is above`);
    });
}
