// The least a Node load generator can add on this machine, for bench/replay.ts to put
// beside the harness: requests evenly spaced at a rate through undici's pool, each timed
// from when it left to its last byte, as hey and autocannon time them. No bodies from a
// sample, no answers kept, no coordinated-omission accounting, no progress: a floor
// under any Node generator's latency tail, not a harness.
// Run: node --import tsx bench/bare-node-client.ts <url> <rate> <seconds> <warm-up seconds>
// Prints {"sent", "errors", "p50", "p99"} (ms) as JSON.
import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

const [url, rateArg, secondsArg, warmArg] = process.argv.slice(2);
if (!url || !rateArg || !secondsArg || !warmArg)
  throw new Error('usage: bare-node-client.ts <url> <rate> <seconds> <warm-up seconds>');
const rate = Number(rateArg);
const target = new URL(url);
const pool = new Pool(target.origin, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
const body = JSON.stringify({ inputs: [{ name: 'person_id', shape: [1], datatype: 'INT64', data: [1883] }] });
const h = hdr.build({ numberOfSignificantValueDigits: 3 });
let sent = 0;
let errors = 0;

async function once(measured: boolean): Promise<void> {
  const start = performance.now();
  if (measured) sent++;
  try {
    const res = await pool.request({
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.body.dump();
    if (measured) {
      h.recordValue(Math.max(1, Math.round((performance.now() - start) * 1000)));
      if (res.statusCode !== 200) errors++;
    }
  } catch {
    if (measured) errors++;
  }
}

async function phase(seconds: number, measured: boolean): Promise<void> {
  const t0 = performance.now();
  const inflight: Array<Promise<void>> = [];
  for (let i = 0; i < Math.round(rate * seconds); i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(once(measured));
  }
  await Promise.all(inflight);
}

await phase(Number(warmArg), false);
await phase(Number(secondsArg), true);
console.log(
  JSON.stringify({
    sent,
    errors,
    p50: h.getValueAtPercentile(50) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
  }),
);
await pool.close();
