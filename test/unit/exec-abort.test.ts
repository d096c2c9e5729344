import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runLogged } from '../../src/adapters/stack/exec.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/ Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return false;
  }
}

// A cancelled build used to leave its `pip download` running (and a cancelled shadow
// its generator): the abort must end the command itself, not only the wait for it.
describe('a logged command whose caller gives up', () => {
  it('is killed when the signal aborts, and the call rejects', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-abort-'));
    const pidFile = path.join(dir, 'pid');
    const abort = new AbortController();
    const run = runLogged('bash', ['-c', `echo $$ > ${pidFile}; exec sleep 60`], path.join(dir, 'log'), {
      signal: abort.signal,
    });
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i++) {
      await sleep(20);
      pid = Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim() || 0);
    }
    expect(alive(pid)).toBe(true);
    abort.abort();
    await expect(run).rejects.toThrow(/abort/i);
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
    expect(alive(pid)).toBe(false);
  });
});
