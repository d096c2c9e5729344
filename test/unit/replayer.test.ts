import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { measurementSlotCount, cpuPlan } from '../../src/adapters/shadow/replay-process.js';
import { replay } from '../../src/adapters/shadow/replayer.js';

const ANSWER = JSON.stringify({
  model_name: 'm',
  outputs: [
    { name: 'label', shape: [1], datatype: 'INT64', data: [1] },
    { name: 'probability', shape: [1], datatype: 'FP64', data: [0.75] },
  ],
});

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A V2 model on loopback that answers at once, except that it freezes for `stallMs` once. */
async function model(stall: { afterMs: number; stallMs: number } | null): Promise<string> {
  const started = Date.now();
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const t = Date.now() - started;
      // Like a GC pause or a blocked worker: whatever arrives during the stall waits for its end.
      const wait =
        stall && t >= stall.afterMs && t < stall.afterMs + stall.stallMs
          ? stall.afterMs + stall.stallMs - t
          : 0;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER), wait);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const body = { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] };

describe('replay (open loop, loopback)', () => {
  it('a 1 s stall shows in p99: latency counts from the intended send time', async () => {
    const url = await model({ afterMs: 1500, stallMs: 1000 });
    const r = await replay({
      model: 'm',
      targets: [{ name: 'candidate', url }],
      bodies: [body],
      rate: 100,
      durationMs: 5000,
      warmupMs: 500,
      timeoutMs: 5000,
    });
    const t = r.targets[0]!;
    expect(t.sent).toBe(500);
    expect(t.errors).toBe(0);
    // About 100 of 500 requests were due during the stall; the earliest waited ~1 s.
    expect(t.latency.p99).toBeGreaterThan(900);
    expect(t.latency.max).toBeGreaterThan(950);
    // The median request missed the stall. Half the stall, not a loopback time: a busy
    // CI machine slows every answer, but not by half a second at the median.
    expect(t.latency.p50).toBeLessThan(500);
    // Open loop: requests kept leaving on time during the stall, so even timed from
    // when they left, they waited.
    expect(t.latencyFromSend.p99).toBeGreaterThan(900);
    expect(t.answers[0]).toEqual({ labels: [1], scores: [0.75] });
  }, 20_000);

  it('a generator that falls behind its schedule counts its own lateness', async () => {
    const url = await model(null);
    // Block this process's event loop for 300 ms, 500 ms in: the slots due meanwhile
    // leave late, and their latency counts from when they were due.
    setTimeout(() => {
      const end = performance.now() + 300;
      while (performance.now() < end);
    }, 500);
    const r = await replay({
      model: 'm',
      targets: [{ name: 'candidate', url }],
      bodies: [body],
      rate: 100,
      durationMs: 2000,
      warmupMs: 0,
      timeoutMs: 5000,
    });
    const t = r.targets[0]!;
    expect(t.sent).toBe(200);
    // ~30 of 200 slots were due during the block, the first of them ~300 ms before it ended.
    expect(r.sendLagP99Ms).toBeGreaterThan(200);
    expect(t.latency.p99).toBeGreaterThan(200);
    expect(t.latency.max).toBeGreaterThan(250);
    // The median slot was not one of the late ones (half the block, for a busy machine).
    expect(t.latency.p50).toBeLessThan(150);
    // Timed from when they left, as hey or autocannon would time them, the late slots
    // look fast: the stall is only visible from the intended time. The 10 % slowest are
    // ~100-300 ms late; load slows both timings alike, so compare one with the other
    // rather than with a loopback time.
    expect(t.latency.p90).toBeGreaterThan(50);
    expect(t.latencyFromSend.p90).toBeLessThan(t.latency.p90 / 2);
    expect(t.latencyFromSend.count).toBe(200);
  }, 20_000);

  it('interleaves targets on the same slots and counts what failed and why', async () => {
    const url = await model(null);
    const r = await replay({
      model: 'm',
      targets: [
        { name: 'candidate', url },
        { name: 'stable', url: 'http://127.0.0.1:9' }, // nothing listens on the discard port
      ],
      bodies: [body],
      rate: 50,
      durationMs: 1000,
      warmupMs: 0,
      timeoutMs: 1000,
    });
    const [c, s] = r.targets;
    expect(c!.sent).toBe(50);
    expect(c!.errors).toBe(0);
    expect(s!.sent).toBe(50);
    expect(s!.errors).toBe(50);
    expect(s!.statuses).toEqual({ connection: 50 });
    expect(s!.answers.every((a) => a === null)).toBe(true);
    // Never ahead of the schedule; behind it only as far as a loaded machine puts it (the
    // 1 s schedule done within 2 s). How close to the requested rate it stays is
    // bench/replay.ts's measure, not a unit test's.
    expect(r.achievedRate).toBeGreaterThan(25);
    expect(r.achievedRate).toBeLessThan(55);
  });
});

describe('cpuPlan', () => {
  it('gives each model its own core when there are three, and pins nothing on one', () => {
    expect(cpuPlan(1)).toEqual({ candidate: null, stable: null, generator: null });
    expect(cpuPlan(2)).toEqual({ candidate: '1', stable: '1', generator: '0' });
    expect(cpuPlan(3)).toEqual({ candidate: '2', stable: '1', generator: '0' });
    // Eight cores: two measurement slots of three cores; slot 0 also takes the two left over.
    expect(cpuPlan(8, 0)).toEqual({ candidate: '2', stable: '1', generator: '0,6-7' });
    expect(cpuPlan(8, 1)).toEqual({ candidate: '5', stable: '4', generator: '3' });
    expect(measurementSlotCount(2)).toBe(1);
    expect(measurementSlotCount(8)).toBe(2);
  });
});
