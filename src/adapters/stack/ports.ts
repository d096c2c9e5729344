import net from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { PavedError } from '../../domain/errors.js';

/** True when something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs = 700): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface PortOwner {
  pid: number;
  command: string;
}

/** Finds the process listening on a TCP port through /proc (Linux), if it is visible to us. */
export function findPortOwner(port: number): PortOwner | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      // state 0A = LISTEN; column 9 is the socket inode
      if (!local || cols[3] !== '0A') continue;
      if (parseInt(local.split(':')[1] ?? '', 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        return { pid: Number(entry), command: processCommand(Number(entry)) ?? '?' };
      }
    }
  }
  return undefined;
}

export function processCommand(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

export class PortTakenError extends PavedError {
  constructor(
    readonly part: string,
    readonly port: number,
    readonly owner: PortOwner | undefined,
    readonly fix: string,
  ) {
    const who = owner ? `process ${owner.pid} (${owner.command.slice(0, 120)})` : 'another process';
    super(
      `${part}: port ${port} on 127.0.0.1 is taken by ${who}, which is not a ${part} paved can use. ` +
        `paved leaves it running. Fix: stop that process, or ${fix}.`,
    );
  }
}

/** A port the OS says is free on 127.0.0.1 right now (for a server started next). */
export async function ephemeralPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
