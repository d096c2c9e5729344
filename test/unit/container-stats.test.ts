import { describe, expect, it } from 'vitest';
import { usageFromFrames } from '../../src/adapters/shadow/container-stats.js';

const MB = 1024 * 1024;

/** One frame of `GET /containers/{id}/stats?stream=true`, as Docker sends it (cgroup v2). */
function frame(second: number, cpuNs: number | undefined, usageMB?: number, inactiveMB = 0) {
  return {
    read: `2026-11-25T12:00:${String(second).padStart(2, '0')}.123456789Z`,
    ...(cpuNs === undefined ? {} : { cpu_stats: { cpu_usage: { total_usage: cpuNs } } }),
    ...(usageMB === undefined
      ? {}
      : { memory_stats: { usage: usageMB * MB, stats: { inactive_file: inactiveMB * MB, anon: 1 } } }),
  };
}

describe('usageFromFrames', () => {
  it('gives CPU seconds used between the first and last frame, and memory without the page cache', () => {
    const usage = usageFromFrames([
      frame(0, 1_000_000_000, 100, 20), // 80 MB working set
      frame(1, 2_500_000_000, 120, 10), // 110 MB
      frame(2, 4_000_000_000, 110, 30), // 80 MB
    ]);
    expect(usage).not.toBeNull();
    expect(usage!.cpuSeconds).toBeCloseTo(3, 9);
    expect(usage!.memMeanMB).toBeCloseTo(90, 9);
    expect(usage!.memPeakMB).toBeCloseTo(110, 9);
    expect(usage!.seconds).toBe(2);
    expect(usage!.samples).toBe(3);
  });

  it('reads nanosecond timestamps to the millisecond', () => {
    const usage = usageFromFrames([
      { ...frame(0, 0), read: '2026-11-25T12:00:00.000000001Z' },
      { ...frame(0, 500_000_000), read: '2026-11-25T12:00:01.250999999Z' },
    ]);
    expect(usage!.seconds).toBeCloseTo(1.25, 3);
    expect(usage!.cpuSeconds).toBeCloseTo(0.5, 9);
  });

  it('counts more than one core: CPU seconds may exceed the window', () => {
    const usage = usageFromFrames([frame(0, 0, 50), frame(10, 35_000_000_000, 50)]);
    expect(usage!.cpuSeconds).toBeCloseTo(35, 9);
    expect(usage!.seconds).toBe(10);
  });

  it('subtracts total_inactive_file on cgroup v1', () => {
    const v1 = (second: number, cpuNs: number, usageMB: number, cacheMB: number) => ({
      read: `2026-11-25T12:00:0${second}Z`,
      cpu_stats: { cpu_usage: { total_usage: cpuNs } },
      memory_stats: { usage: usageMB * MB, stats: { total_inactive_file: cacheMB * MB, cache: 999 * MB } },
    });
    const usage = usageFromFrames([v1(0, 0, 300, 100), v1(1, 1e9, 400, 100)]);
    expect(usage!.memMeanMB).toBeCloseTo(250, 9);
    expect(usage!.memPeakMB).toBeCloseTo(300, 9);
  });

  it('takes the whole usage when the kernel reports no inactive file pages', () => {
    const usage = usageFromFrames([
      {
        read: '2026-11-25T12:00:00Z',
        cpu_stats: { cpu_usage: { total_usage: 0 } },
        memory_stats: { usage: 64 * MB },
      },
      {
        read: '2026-11-25T12:00:01Z',
        cpu_stats: { cpu_usage: { total_usage: 1e8 } },
        memory_stats: { usage: 64 * MB },
      },
    ]);
    expect(usage!.memMeanMB).toBe(64);
    expect(usage!.memPeakMB).toBe(64);
  });

  it('never reports negative memory when the cache exceeds the usage', () => {
    const usage = usageFromFrames([frame(0, 0, 10, 50), frame(1, 1e9, 10, 50)]);
    expect(usage!.memMeanMB).toBeGreaterThanOrEqual(0);
    expect(usage!.memPeakMB).toBeGreaterThanOrEqual(0);
  });

  it('measures CPU between the first and last frames that carry it, memory over every frame', () => {
    const usage = usageFromFrames([
      frame(0, undefined, 200), // the stream's first frame may lack CPU figures
      frame(1, 2_000_000_000, 100),
      frame(2, undefined, 400),
      frame(3, 3_000_000_000, 100),
      frame(4, undefined, undefined), // nor memory
    ]);
    expect(usage!.cpuSeconds).toBeCloseTo(1, 9);
    expect(usage!.seconds).toBe(2);
    expect(usage!.memMeanMB).toBeCloseTo(200, 9);
    expect(usage!.memPeakMB).toBeCloseTo(400, 9);
    expect(usage!.samples).toBe(5);
  });

  it('gives zero memory when no frame reports it', () => {
    const usage = usageFromFrames([frame(0, 0), frame(1, 1e9)]);
    expect(usage).toEqual({ cpuSeconds: 1, memMeanMB: 0, memPeakMB: 0, seconds: 1, samples: 2 });
  });

  it('is null with fewer than two frames carrying CPU figures: no span to measure', () => {
    expect(usageFromFrames([])).toBeNull();
    expect(usageFromFrames([frame(0, 1e9, 100)])).toBeNull();
    expect(
      usageFromFrames([frame(0, 1e9, 100), frame(1, undefined, 100), frame(2, undefined, 100)]),
    ).toBeNull();
    expect(usageFromFrames([{ read: '2026-11-25T12:00:00Z', cpu_stats: {} }, frame(1, 1e9)])).toBeNull();
  });
});
