import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPortOwner, isListening } from '../../src/adapters/stack/ports.js';
import { isRunning, managedPid, startDaemon, stopDaemon } from '../../src/adapters/stack/processes.js';

const homes: string[] = [];
function tempHome(): string {
  const h = mkdtempSync(path.join(os.tmpdir(), 'paved-proc-'));
  homes.push(h);
  return h;
}
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('daemons paved starts', () => {
  it('records a pid file, and stop ends exactly that process', async () => {
    const home = tempHome();
    const pid = startDaemon(home, { name: 'sleeper', command: '/bin/sleep', args: ['60'] });
    expect(managedPid(home, 'sleeper')).toBe(pid);
    expect(await stopDaemon(home, 'sleeper', 5000)).toBe(true);
    expect(isRunning(pid)).toBe(false);
    expect(managedPid(home, 'sleeper')).toBeUndefined();
  });

  it('stop without a pid file touches nothing', async () => {
    expect(await stopDaemon(tempHome(), 'nothing')).toBe(false);
  });
});

describe('port ownership', () => {
  it('finds the process that listens on a port', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await isListening('127.0.0.1', port)).toBe(true);
      expect(findPortOwner(port)?.pid).toBe(process.pid);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await isListening('127.0.0.1', port)).toBe(false);
  });
});
