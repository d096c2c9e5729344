import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PavedConfig } from '../../domain/config.js';
import { PavedError } from '../../domain/errors.js';
import type { StackPart } from './part.js';
import { logPath, logTail, managedPid } from './processes.js';
import { STACK_PARTS } from './stack.js';

/** The parts a container can run: each is one long-running process. */
export function runnableParts(): StackPart[] {
  return STACK_PARTS.filter((p) => p.daemon !== undefined);
}

export function runnablePart(name: string): StackPart & { daemon: string } {
  const part = runnableParts().find((p) => p.name === name);
  if (!part?.daemon) {
    throw new PavedError(
      `no stack part "${name}" runs as a process. Fix: use one of ${runnableParts()
        .map((p) => p.name)
        .join(', ')}`,
    );
  }
  return part as StackPart & { daemon: string };
}

/** Copies what a log file gains to `out`, from `offset` on; answers the new offset. */
function follow(file: string, offset: number, out: NodeJS.WritableStream): number {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return offset;
  }
  if (size < offset) offset = 0; // rotated or truncated
  if (size === offset) return offset;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    out.write(buf.subarray(0, n));
    return offset + n;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs one stack part the way a container needs it: the same preparation as `stack
 * up` (config files, pipeline, search attributes), then stays in the foreground while
 * the part's process lives, its log on stdout. SIGTERM stops the part and ends with 0;
 * the process dying ends with 1, so the container's restart policy takes over.
 */
export async function runInForeground(
  config: PavedConfig,
  name: string,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const part = runnablePart(name);
  const log = logPath(config.home, part.daemon);
  let offset = 0;
  try {
    offset = statSync(log).size;
  } catch {
    // no log yet: follow it from its start
  }
  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const status = await part.up(config);
    out.write(`paved: ${part.name} ready at ${status.address} (${status.detail})\n`);
    while (!stopping) {
      offset = follow(log, offset, out);
      if (managedPid(config.home, part.daemon) === undefined) {
        out.write(`paved: ${part.name} exited; last lines:\n${logTail(config.home, part.daemon)}\n`);
        return 1;
      }
      await sleep(1000);
    }
    out.write(`paved: stopping ${part.name}: ${await part.down(config)}\n`);
    return 0;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
