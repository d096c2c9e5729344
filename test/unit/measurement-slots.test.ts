import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { takeMeasurementSlot } from '../../src/adapters/shadow/measurement-slots.js';

const fresh = () => mkdtempSync(path.join(os.tmpdir(), 'paved-slots-'));

describe("the host's measurement queue", () => {
  it('on two cores a second measurement waits for the first, and says how long', async () => {
    const dir = fresh();
    const first = await takeMeasurementSlot({ dir, cores: 2 });
    expect(first).toMatchObject({ slot: 0, cpus: { candidate: '1', stable: '1', generator: '0' } });
    const waits: number[] = [];
    const second = takeMeasurementSlot({ dir, cores: 2, pollMs: 50, onWait: (ms) => waits.push(ms) });
    await sleep(400);
    await first.release();
    const got = await second;
    expect(got.slot).toBe(0);
    expect(got.waitedMs).toBeGreaterThanOrEqual(350);
    expect(waits.length).toBeGreaterThan(2);
    await got.release();
  });

  it('on six cores two measurements run at once, on cores of their own', async () => {
    const dir = fresh();
    const [a, b] = await Promise.all([
      takeMeasurementSlot({ dir, cores: 6 }),
      takeMeasurementSlot({ dir, cores: 6 }),
    ]);
    expect(new Set([a.slot, b.slot])).toEqual(new Set([0, 1]));
    const cores = [a, b].flatMap((s) => [s.cpus.candidate, s.cpus.stable, s.cpus.generator]);
    expect(new Set(cores).size).toBe(6);
    await Promise.all([a.release(), b.release()]);
  });

  it('a slot whose holder died (its lock no longer refreshed) is taken over', async () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'slot-0'), '');
    mkdirSync(path.join(dir, 'slot-0.lock'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(path.join(dir, 'slot-0.lock'), old, old);
    const got = await takeMeasurementSlot({ dir, cores: 2, pollMs: 50 });
    expect(got.waitedMs).toBeLessThan(1000);
    await got.release();
  });
});
