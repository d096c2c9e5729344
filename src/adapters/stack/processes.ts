import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processCommand } from './ports.js';

/**
 * Daemons that `paved stack up` starts. Each gets a pid file under PAVED_HOME/run and
 * a log under PAVED_HOME/logs, so that `stack down` stops exactly what `up` started
 * and nothing else.
 */
export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

interface PidRecord {
  pid: number;
  command: string;
  startedAt: string;
}

export function runDir(home: string): string {
  return path.join(home, 'run');
}

export function logPath(home: string, name: string): string {
  return path.join(home, 'logs', `${name}.log`);
}

function pidPath(home: string, name: string): string {
  return path.join(runDir(home), `${name}.pid`);
}

function readRecord(home: string, name: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidPath(home, name), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

/** The pid of a daemon we started, if it still runs (and the pid was not recycled). */
export function managedPid(home: string, name: string): number | undefined {
  const rec = readRecord(home, name);
  if (!rec) return undefined;
  const cmd = processCommand(rec.pid);
  if (cmd && cmd.includes(path.basename(rec.command))) return rec.pid;
  return undefined;
}

export function startDaemon(home: string, spec: DaemonSpec): number {
  mkdirSync(runDir(home), { recursive: true });
  mkdirSync(path.dirname(logPath(home, spec.name)), { recursive: true });
  const fd = openSync(logPath(home, spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd ?? home,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
    child.unref();
    const rec: PidRecord = { pid: child.pid, command: spec.command, startedAt: new Date().toISOString() };
    writeFileSync(pidPath(home, spec.name), JSON.stringify(rec));
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return processCommand(pid) !== undefined && !isZombie(pid);
  } catch {
    return false;
  }
}

/**
 * A zombie whose threads have all exited: nothing of it runs and its files (sockets)
 * are closed; only its parent has not reaped it. A multi-threaded process (Go,
 * Node) shows its leader as Z while other threads still tear down, so count them.
 */
function isZombie(pid: number): boolean {
  try {
    const state = / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
    return state && readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return false;
  }
}

/** Stops a daemon we started: SIGTERM, then SIGKILL after the grace period. Returns true if one was running. */
export async function stopDaemon(home: string, name: string, graceMs = 15_000): Promise<boolean> {
  const pid = managedPid(home, name);
  rmSync(pidPath(home, name), { force: true });
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  return true;
}

export function isRunning(pid: number): boolean {
  return alive(pid);
}

/** The last lines of a daemon's log, for error messages that show what went wrong. */
export function logTail(home: string, name: string, lines = 12): string {
  try {
    return readFileSync(logPath(home, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls until check() is true, the daemon died, or the timeout passed. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; pid?: number; onDeath?: () => Error },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (opts.pid !== undefined && !alive(opts.pid)) {
      throw opts.onDeath?.() ?? new Error(`${what}: the process exited before it was ready`);
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not ready after ${Math.round(opts.timeoutMs / 1000)} s`);
    await sleep(250);
  }
}
