import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Runs a command and returns stdout; on failure the error carries its stderr tail. */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, {
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const tail = (e.stderr ?? '').trim().split('\n').slice(-8).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed: ${tail || e.message}`);
  }
}

/** Runs a long command with its output streamed to ours (stderr), e.g. apt-get or pip. */
export function runVisible(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}`)),
    );
  });
}

export async function commandExists(cmd: string): Promise<boolean> {
  try {
    await execFileP('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Runs a long, chatty command with its output in a log file; a failure quotes the log's tail. */
export async function runLogged(
  cmd: string,
  args: string[],
  logFile: string,
  opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<void> {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    await new Promise<void>((resolve, reject) => {
      // Aborted (a cancelled activity), the command is killed, not left running.
      const child = spawn(cmd, args, {
        env: opts.env ?? process.env,
        stdio: ['ignore', fd, fd],
        signal: opts.signal,
        killSignal: 'SIGKILL',
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (code === 0) return resolve();
        const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
        reject(
          new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code} (log: ${logFile}):\n${tail}`),
        );
      });
    });
  } finally {
    closeSync(fd);
  }
}
