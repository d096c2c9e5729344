import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface TrafficSummary {
  requests: number;
  failed: number;
  byVersion: Record<string, number>;
  statuses: Record<string, number>;
  /** The first few failures as they were answered, to say why. */
  firstErrors: string[];
}

/**
 * Steady demo traffic through the gateway: `workers` callers, each pausing `pauseMs`
 * between requests, each request with a fresh x-paved-key so sticky assignment
 * spreads callers over versions by weight.
 */
export function startTraffic(
  gateway: string,
  model: string,
  body: string,
  opts: { workers?: number; pauseMs?: number } = {},
): { stop: () => Promise<TrafficSummary>; requests: () => number } {
  const pool = new Pool(gateway, { connections: opts.workers ?? 6 });
  const summary: TrafficSummary = { requests: 0, failed: 0, byVersion: {}, statuses: {}, firstErrors: [] };
  const failed = (why: string) => {
    summary.failed++;
    if (summary.firstErrors.length < 3) summary.firstErrors.push(why.slice(0, 200));
  };
  let stopping = false;
  const one = async () => {
    while (!stopping) {
      try {
        const res = await pool.request({
          path: `/v2/models/${model}/infer`,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-paved-key': randomUUID() },
          body,
        });
        const text = await res.body.text();
        // 404 until the release's first route exists: not a request the model failed.
        if (res.statusCode !== 404) {
          summary.requests++;
          summary.statuses[res.statusCode] = (summary.statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode !== 200) failed(`${res.statusCode} ${text}`);
          else {
            const version = (JSON.parse(text) as { model_version?: string }).model_version ?? '?';
            summary.byVersion[version] = (summary.byVersion[version] ?? 0) + 1;
          }
        }
      } catch (err) {
        summary.requests++;
        failed((err as Error).message);
      }
      await sleep(opts.pauseMs ?? 20);
    }
  };
  const running = Promise.all(Array.from({ length: opts.workers ?? 6 }, one));
  return {
    requests: () => summary.requests,
    stop: async () => {
      stopping = true;
      await running;
      await pool.close();
      return summary;
    },
  };
}
