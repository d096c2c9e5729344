import { spawn } from 'node:child_process';
import { projectPath } from '../../src/adapters/project.js';
import { freePort } from './free-port.js';
import { noTrafficPolicy } from './rollout-policy.js';
import { testKey } from './signers.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `paved` command as a user would, in a child process, and waits for it. */
export async function paved(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 300_000,
  cwd?: string,
): Promise<CliResult> {
  const run = pavedBackground(args, env, cwd);
  const timer = setTimeout(() => run.kill(), timeoutMs);
  try {
    return await run.done;
  } finally {
    clearTimeout(timer);
  }
}

export interface SpawnedWorker {
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  logs(): string;
}

/**
 * Starts `paved worker` as its own process, ready once it logs "worker started".
 * Unless the test gives PAVED_POLICY, rollouts need no traffic (see rollout-policy.ts).
 */
export async function spawnWorker(env: NodeJS.ProcessEnv): Promise<SpawnedWorker> {
  // Test files run in parallel: each worker gets its own metrics port.
  const metricsPort = env.PAVED_METRICS_PORT ?? String(await freePort());
  const child = spawn(process.execPath, [projectPath('bin', 'paved.js'), 'worker'], {
    env: { ...process.env, PAVED_METRICS_PORT: metricsPort, PAVED_POLICY: noTrafficPolicy(), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!logs.includes('worker started')) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${logs}`);
    if (Date.now() > deadline) throw new Error(`worker did not start:\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    logs: () => logs,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

const SIGNED = new Set(['approve', 'reject', 'promote']);

/**
 * A person deciding signs with their own key, as on their laptop: the test key of
 * whoever `--as` (or PAVED_USER) names, unless the test passes a key itself.
 */
function ownKey(args: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!SIGNED.has(args[0] ?? '') || args.includes('--key') || env.PAVED_SIGNING_KEY) return {};
  const as = args.indexOf('--as');
  const who = as >= 0 ? args[as + 1] : (env.PAVED_USER ?? process.env.PAVED_USER);
  return who ? { PAVED_SIGNING_KEY: testKey(who) } : {};
}

/** Starts a `paved` command and lets the test read its output while it runs. */
export function pavedBackground(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): { done: Promise<CliResult>; stdout: () => string; kill: () => void } {
  const child = spawn(process.execPath, [projectPath('bin', 'paved.js'), ...args], {
    env: { ...process.env, ...ownKey(args, env), ...env },
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done, stdout: () => stdout, kill: () => child.kill('SIGKILL') };
}
