import { bucketDelta, bucketPercentile } from '../domain/bucket-percentile.js';
import type { WindowStats } from '../domain/rollout.js';
import type { VersionCounters } from './data-plane.js';

interface Snapshot {
  at: number;
  counters: Map<string, VersionCounters>;
}

/**
 * Window stats from the data plane's cumulative counters, read once a second: a window
 * is the newest reading minus the one from the window's start. The cost is per reading
 * and per version, never per request.
 */
export class WindowedStats {
  private readonly snapshots: Snapshot[] = [];

  constructor(
    private readonly edgesMs: readonly number[],
    private readonly retainMs = 900_000,
  ) {}

  add(counters: Map<string, VersionCounters>, at = Date.now()): void {
    this.snapshots.push({ at, counters });
    // One reading older than the longest window stays as its baseline.
    while (this.snapshots.length > 2 && this.snapshots[1]!.at < at - this.retainMs) this.snapshots.shift();
  }

  window(key: string, windowMs: number, now = Date.now()): WindowStats {
    const latest = this.snapshots[this.snapshots.length - 1]?.counters.get(key);
    if (!latest) return { requests: 0, errors: 0, p50Ms: null, p99Ms: null };
    // Before the first reading this control plane made, nothing is known to be in the window.
    let baseline: VersionCounters | undefined = this.snapshots[0]!.counters.get(key);
    for (const s of this.snapshots) {
      if (s.at > now - windowMs) break;
      baseline = s.counters.get(key);
    }
    const reset = baseline !== undefined && baseline.completed > latest.completed;
    const base = reset ? undefined : baseline;
    const requests = latest.completed - (base?.completed ?? 0);
    const errors = latest.errors - (base?.errors ?? 0);
    const buckets = bucketDelta(latest.buckets, base?.buckets);
    const p = (q: number) => (requests > 0 ? bucketPercentile(this.edgesMs, buckets, q) : null);
    return { requests, errors, p50Ms: p(50), p99Ms: p(99) };
  }
}
