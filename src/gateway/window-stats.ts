import * as hdr from 'hdr-histogram-js';
import type { WindowStats } from '../domain/rollout.js';

interface Second {
  at: number;
  requests: number;
  errors: number;
  latency: hdr.Histogram;
}

/**
 * Per-version latency and error counts in one-second HdrHistogram buckets, kept
 * for `retainSeconds`; a window query merges the buckets it covers. Latencies are
 * recorded in microseconds.
 */
export class WindowedStats {
  private readonly series = new Map<string, Second[]>();

  constructor(private readonly retainSeconds = 900) {}

  record(key: string, latencyMs: number, error: boolean, now = Date.now()): void {
    const at = Math.floor(now / 1000);
    let seconds = this.series.get(key);
    if (!seconds) this.series.set(key, (seconds = []));
    let last = seconds[seconds.length - 1];
    if (!last || last.at !== at) {
      last = { at, requests: 0, errors: 0, latency: hdr.build({ numberOfSignificantValueDigits: 3 }) };
      seconds.push(last);
      while (seconds.length > 0 && seconds[0]!.at < at - this.retainSeconds)
        seconds.shift()!.latency.destroy();
    }
    last.requests++;
    if (error) last.errors++;
    last.latency.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  window(key: string, windowMs: number, now = Date.now()): WindowStats {
    const from = Math.floor((now - windowMs) / 1000);
    const merged = hdr.build({ numberOfSignificantValueDigits: 3 });
    let requests = 0;
    let errors = 0;
    for (const s of this.series.get(key) ?? []) {
      if (s.at < from) continue;
      requests += s.requests;
      errors += s.errors;
      merged.add(s.latency);
    }
    const result: WindowStats = {
      requests,
      errors,
      p50Ms: requests ? merged.getValueAtPercentile(50) / 1000 : null,
      p99Ms: requests ? merged.getValueAtPercentile(99) / 1000 : null,
    };
    merged.destroy();
    return result;
  }
}
