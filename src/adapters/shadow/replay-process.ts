import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectPath } from '../project.js';
import { commandExists } from '../stack/exec.js';
import type { ReplayResult, ReplaySpec } from './replayer.js';

/**
 * Which CPUs each side gets. With three or more, candidate and stable each get a
 * core of their own and the generator the rest, so none steals from another. With
 * two, both models share the second (they compete for it, and the report says so)
 * and the generator runs on the first. With one, nothing is pinned.
 */
export function cpuPlan(cpus = os.availableParallelism()): {
  candidate: string | null;
  stable: string | null;
  generator: string | null;
} {
  if (cpus < 2) return { candidate: null, stable: null, generator: null };
  if (cpus === 2) return { candidate: '1', stable: '1', generator: '0' };
  return {
    candidate: String(cpus - 1),
    stable: String(cpus - 2),
    generator: cpus === 3 ? '0' : `0-${cpus - 3}`,
  };
}

/**
 * Runs `paved replay` in its own process (pinned with taskset when `cpus` is
 * given), so the worker's event loop and the generator do not slow each other.
 * The sample goes in as a file, the result comes back as JSON.
 */
export async function replayInProcess(
  spec: ReplaySpec,
  opts: { cpus: string | null; sampleFile?: string; onStderr?: (line: string) => void },
): Promise<ReplayResult & { pinned: string | null }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-replay-'));
  try {
    const sample = opts.sampleFile ?? path.join(dir, 'sample.jsonl');
    if (!opts.sampleFile)
      writeFileSync(
        sample,
        spec.bodies.map((b, t) => JSON.stringify({ t, key: null, request: b })).join('\n') + '\n',
      );
    const out = path.join(dir, 'result.json');
    const args = [
      projectPath('bin', 'paved.js'),
      'replay',
      sample,
      '--model',
      spec.model,
      ...spec.targets.flatMap((t) => ['--target', `${t.name}=${t.url}`]),
      '--rate',
      String(spec.rate),
      '--duration',
      `${spec.durationMs}ms`,
      '--warmup',
      `${spec.warmupMs}ms`,
      '--timeout',
      `${spec.timeoutMs}ms`,
      '--json',
      out,
    ];
    const pinned = opts.cpus && (await commandExists('taskset')) ? opts.cpus : null;
    const [cmd, argv] = pinned
      ? ['taskset', ['-c', pinned, process.execPath, ...args]]
      : [process.execPath, args];
    const stderr: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, argv, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, PAVED_LOG_LEVEL: 'warn' },
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr.push(d);
        opts.onStderr?.(d);
      });
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        code === 0
          ? resolve()
          : reject(
              new Error(
                `paved replay exited with ${signal ?? code}: ${stderr.join('').trim().split('\n').slice(-5).join('\n')}`,
              ),
            ),
      );
    });
    return { ...(JSON.parse(readFileSync(out, 'utf8')) as ReplayResult), pinned };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
