import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import {
  CURVE_PERCENTILES,
  readAnswer,
  type Answer,
  type LatencySummary,
  type PercentilePoint,
} from '../../domain/shadow.js';

export interface ReplayTarget {
  name: string;
  /** Base URL on loopback, e.g. http://127.0.0.1:41234 */
  url: string;
}

export interface ReplaySpec {
  model: string;
  targets: ReplayTarget[];
  /** V2 request bodies; slot i (warm-up and measured alike) sends bodies[i % length]. */
  bodies: unknown[];
  /** Slots per second, per target. */
  rate: number;
  durationMs: number;
  /** Sent at the same rate first, not measured: connections, JIT, lazy model paths. */
  warmupMs: number;
  timeoutMs: number;
  /** Keep-alive connections per target. */
  connections?: number;
}

export interface TargetResult {
  name: string;
  sent: number;
  errors: number;
  statuses: Record<string, number>;
  /** From each request's intended send time: what the gates judge. */
  latency: LatencySummary;
  curve: PercentilePoint[];
  /**
   * The same requests timed from when each actually left, as load generators that do
   * not correct for coordinated omission (hey, autocannon, wrk) time them: the bench
   * compares like with like. Lower than `latency` by the generator's own lateness.
   */
  latencyFromSend: LatencySummary;
  /** Per measured slot, aligned across targets: the answer, or null when it failed. */
  answers: Array<Answer | null>;
}

export interface ReplayResult {
  targets: TargetResult[];
  /** Slots per second actually issued over the measured window, per target. */
  achievedRate: number;
  requestedRate: number;
  windowMs: number;
  /** How late the generator was against its own schedule (ms): a busy generator shows here. */
  sendLagP99Ms: number;
}

/**
 * Open-loop replay. Every slot has an intended send time on a fixed schedule and
 * its latency counts from that time, not from when the request actually left: a
 * server that stalls cannot hide the queue it builds (coordinated omission).
 * Targets are interleaved in one window: slot i goes to target k at
 * start + (i + k / targets) / rate, so each sees the same requests under the same
 * conditions, half a period apart.
 */
export async function replay(
  spec: ReplaySpec,
  onProgress?: (done: number, total: number) => void,
): Promise<ReplayResult> {
  if (spec.bodies.length === 0) throw new Error('replay: no request bodies');
  const bodies = spec.bodies.map((b) => JSON.stringify(b));
  const path = `/v2/models/${encodeURIComponent(spec.model)}/infer`;
  const pools = spec.targets.map(
    // undici's connect, header and body timeouts bound each request: a per-request
    // AbortSignal timer would cost the generator garbage and GC pauses at high rates.
    (t) =>
      // A sealed replica's endpoint is a unix socket.
      new Pool(t.url.startsWith('unix:') ? 'http://model' : t.url, {
        connections: spec.connections ?? 64,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: spec.timeoutMs },
        ...(t.url.startsWith('unix:') ? { socketPath: t.url.slice('unix:'.length) } : {}),
      }),
  );
  const histograms = spec.targets.map(() => hdr.build({ numberOfSignificantValueDigits: 3 }));
  const fromSend = spec.targets.map(() => hdr.build({ numberOfSignificantValueDigits: 3 }));
  const lag = hdr.build({ numberOfSignificantValueDigits: 2 });
  const periodMs = 1000 / spec.rate;
  const warmSlots = Math.round((spec.warmupMs / 1000) * spec.rate);
  const slots = Math.max(1, Math.round((spec.durationMs / 1000) * spec.rate));
  const results = spec.targets.map((t) => ({
    name: t.name,
    sent: 0,
    errors: 0,
    statuses: {} as Record<string, number>,
    answers: new Array<Answer | null>(slots).fill(null),
  }));

  const send = async (k: number, slot: number, intended: number, sentAt: number, measured: boolean) => {
    let status = 'connection';
    let answer: Answer | null = null;
    // The last byte's arrival ends a request's latency: parsing the answer is the
    // generator's work, not the server's, and comes after.
    let answered: number | null = null;
    try {
      const res = await pools[k]!.request({
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[slot % bodies.length]!,
        headersTimeout: spec.timeoutMs,
        bodyTimeout: spec.timeoutMs,
      });
      status = String(res.statusCode);
      const text = await res.body.text();
      answered = performance.now();
      if (res.statusCode === 200) {
        try {
          answer = readAnswer(JSON.parse(text));
        } catch {
          answer = null;
        }
        if (!answer) status = 'not V2';
      }
    } catch (err) {
      const name = (err as Error).name;
      status =
        name === 'TimeoutError' || name.includes('Timeout') || name === 'AbortError'
          ? 'timeout'
          : 'connection';
    }
    if (!measured) return;
    const r = results[k]!;
    // A timed-out request is recorded as at least the timeout: it never answered sooner.
    const end = answered ?? performance.now();
    const elapsed = (from: number) =>
      Math.max(
        1,
        Math.round((status === 'timeout' ? Math.max(spec.timeoutMs, end - from) : end - from) * 1000),
      );
    histograms[k]!.recordValue(elapsed(intended));
    fromSend[k]!.recordValue(elapsed(sentAt));
    r.sent++;
    r.statuses[status] = (r.statuses[status] ?? 0) + 1;
    if (answer) r.answers[slot] = answer;
    else r.errors++;
  };

  /** Returns when the first and the last slot actually went out. */
  const run = async (count: number, measured: boolean): Promise<{ first: number; last: number }> => {
    const inflight: Array<Promise<void>> = [];
    const t0 = performance.now();
    let first = t0;
    let last = t0;
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < spec.targets.length; k++) {
        const intended = t0 + (i + k / spec.targets.length) * periodMs;
        const wait = intended - performance.now();
        if (wait > 1) await sleep(wait);
        else if (wait > 0) await new Promise((r) => setImmediate(r));
        const now = performance.now();
        if (k === 0 && i === 0) first = now;
        if (k === 0) last = now;
        if (measured) lag.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
        // A late slot counts from its intended time: a generator that fell behind
        // counts its own lateness, as it would a stalled server's queue. Timers wake
        // on a whole-millisecond clock, up to ~1 ms early too; an early slot counts
        // from when it left, never from a time after it was sent.
        inflight.push(send(k, i, Math.min(intended, now), now, measured));
      }
      if (measured && onProgress && i % Math.max(1, Math.round(spec.rate)) === 0) onProgress(i, count);
    }
    await Promise.all(inflight);
    return { first, last };
  };

  try {
    if (warmSlots > 0) await run(warmSlots, false);
    const issued = await run(slots, true);
    return {
      targets: results.map((r, k) => ({
        ...r,
        ...summarize(histograms[k]!),
        latencyFromSend: summarize(fromSend[k]!).latency,
      })),
      // On schedule, the last slot goes out (slots - 1) periods after the first.
      achievedRate: slots > 1 ? ((slots - 1) * 1000) / Math.max(1e-9, issued.last - issued.first) : spec.rate,
      requestedRate: spec.rate,
      windowMs: slots * periodMs,
      sendLagP99Ms: lag.getValueAtPercentile(99) / 1000,
    };
  } finally {
    for (const h of [...histograms, ...fromSend]) h.destroy();
    lag.destroy();
    await Promise.all(pools.map((p) => p.close()));
  }
}

/** Percentiles of a microsecond histogram, in milliseconds. */
export function summarize(h: hdr.Histogram): { latency: LatencySummary; curve: PercentilePoint[] } {
  // A percentile is its bucket's upper end, which can lie above the largest value
  // recorded (p99.9 of 5505 ms with a 5501 ms max); no percentile exceeds the max.
  const at = (p: number) => Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000;
  return {
    latency: {
      count: h.totalCount,
      mean: h.mean / 1000,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: h.maxValue / 1000,
    },
    curve: CURVE_PERCENTILES.map((percentile) => ({ percentile, ms: at(percentile) })),
  };
}
