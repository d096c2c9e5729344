import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { cpuPlan, measurementSlotCount } from './replay-process.js';

export interface MeasurementSlot {
  slot: number;
  /** The cores this measurement pins (its slot's). */
  cpus: ReturnType<typeof cpuPlan>;
  /** How long the measurement waited for its slot. */
  waitedMs: number;
  release(): Promise<void>;
}

/**
 * The host's measurement queue: shadow replays and capacity tests each take one of
 * its slots (sized from the cores a measurement pins) and wait for a free one, so no
 * measurement runs on cores another is measuring on. The slots are lock files in a
 * directory every worker on the host shares, whatever its PAVED_HOME; a lock whose
 * holder died goes stale and is taken over.
 */
export async function takeMeasurementSlot(
  opts: {
    dir?: string;
    cores?: number;
    /** Called while waiting (an activity heartbeats here). */
    onWait?: (waitedMs: number) => void;
    signal?: AbortSignal;
    pollMs?: number;
  } = {},
): Promise<MeasurementSlot> {
  const dir = opts.dir ?? path.join(os.tmpdir(), 'paved-measurement-slots');
  const cores = opts.cores ?? os.availableParallelism();
  const slots = measurementSlotCount(cores);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  for (;;) {
    for (let slot = 0; slot < slots; slot++) {
      const file = path.join(dir, `slot-${slot}`);
      writeFileSync(file, '', { flag: 'a' });
      try {
        const release = await lockfile.lock(file, {
          stale: 15_000,
          update: 5_000,
          retries: 0,
          // The library's default throws from a timer, which would end the worker: a
          // slot taken over after a long stall costs one disturbed measurement, no more.
          onCompromised: () => undefined,
        });
        return { slot, cpus: cpuPlan(cores, slot), waitedMs: Date.now() - started, release };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      }
    }
    opts.signal?.throwIfAborted();
    opts.onWait?.(Date.now() - started);
    await sleep(opts.pollMs ?? 500);
  }
}
