import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectPath } from '../project.js';
import { commandExists } from '../stack/exec.js';
import type { ReplayResult, ReplaySpec } from './replayer.js';

/** CPUs one measurement pins: candidate, stable and the generator, a core each. */
export const CORES_PER_MEASUREMENT = 3;

/** How many measurements this host runs at once without one disturbing another. */
export function measurementSlotCount(cpus = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cpus / CORES_PER_MEASUREMENT));
}

/**
 * Which CPUs each side of a measurement gets. With three or more, each slot of the
 * host's measurement queue has three cores of its own: candidate and stable a core
 * each, the generator the third (slot 0 also takes any cores left over). With two,
 * both models share the second (they compete for it, and the report says so) and the
 * generator runs on the first. With one, nothing is pinned.
 */
export function cpuPlan(
  cpus = os.availableParallelism(),
  slot = 0,
): {
  candidate: string | null;
  stable: string | null;
  generator: string | null;
} {
  if (cpus < 2) return { candidate: null, stable: null, generator: null };
  if (cpus === 2) return { candidate: '1', stable: '1', generator: '0' };
  const slots = measurementSlotCount(cpus);
  const base = (slot % slots) * CORES_PER_MEASUREMENT;
  const spare = cpus - slots * CORES_PER_MEASUREMENT;
  const generator =
    slot % slots === 0 && spare > 0 ? `${base},${slots * CORES_PER_MEASUREMENT}-${cpus - 1}` : String(base);
  return { candidate: String(base + 2), stable: String(base + 1), generator };
}

/**
 * Runs `paved replay` in its own process (pinned with taskset when `cpus` is
 * given), so the worker's event loop and the generator do not slow each other.
 * The sample goes in as a file, the result comes back as JSON.
 */
export async function replayInProcess(
  spec: ReplaySpec,
  opts: {
    cpus: string | null;
    sampleFile?: string;
    onStderr?: (line: string) => void;
    /** A cancelled shadow stage kills its generator rather than leave it sending. */
    signal?: AbortSignal;
  },
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
        signal: opts.signal,
        killSignal: 'SIGKILL',
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
