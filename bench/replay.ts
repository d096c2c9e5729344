// The shadow stage's replay harness against a reference load generator, on loopback.
//  1. Accuracy: at each rate in BENCH_RATES, the harness (`paved replay --json` in its
//     own process, pinned with taskset exactly as the shadow stage runs it), hey -q
//     (Debian) and autocannon -R, each pinned to the same CPU, take turns against the
//     same target for BENCH_ROUNDS rounds each; the table gives the medians over rounds
//     of achieved / requested rate, p50 and p99 side by side, and the p99 ratios.
//     Goal (issue 8): rate within 2 %, p99 within 10 % of the reference tool.
//     hey is the closer reference: one worker paces its requests evenly, as the
//     harness does, and its CSV gives every latency to 0.1 ms; autocannon sends in
//     bursts (below) and keeps whole milliseconds.
//     "bare node" (bench/bare-node-client.ts) is the least any Node generator adds:
//     undici alone, evenly spaced, timed from send like hey. Where it trails hey, so
//     must the harness, whatever it does: the gap is Node's, not the harness's.
//  2. Ceiling: the harness alone on one CPU, the rate stepped up (BENCH_STEPS): the
//     highest rate it sustains (achieved / requested >= 0.98, no backlog: p50 within
//     5 ms of the service time, and generator lag p99 <= 5 ms), and the highest without
//     the lag condition, which other load on a shared machine hits first.
// The target is a small Node http server in its own process, pinned to the other CPU,
// that answers a V2 response after a fixed service time (setTimeout), so latency is
// non-trivial and stable. "CPU noise p99" is how late a process that only sleeps 1 ms at
// a time wakes up on the generator's CPU just before: on a shared machine, other load
// puts that under every latency counted from an intended send time (~1 ms when idle).
// Read the numbers knowing how hey and autocannon 9 measure (from their source):
//  - latency counts from when the request was written, not from an intended send time,
//    so their own lateness never shows. The harness gates on latency from the intended
//    time ("p99 sched."), which holds its own lateness (its "lag p99" column) too; it
//    also times every request from when it left, as they do, and that is the p99
//    compared with theirs;
//  - -R is a per-second quota per connection, each connection sending back to back
//    (closed loop) until its quota is spent: bursts at the start of every second, not
//    an even schedule;
//  - latency is recorded in whole milliseconds (truncated), so "whole ms" compares
//    the harness's p99 truncated the same way;
//  - its coordinated-omission correction assumes a 1 ms interval (ceil(1/rate)) whatever
//    the rate, adding made-up samples below each real one, so it runs with -C (off).
// Run: npx tsx bench/replay.ts   (autocannon from devDependencies, else npx --yes autocannon@9.0.0;
//      as root the first time: installs hey)
// Env: BENCH_RATES=250,1000 BENCH_ROUNDS=3 BENCH_SECONDS=30 BENCH_SERVICE_MS=2
//      BENCH_STEPS=500,1000,2000,4000,8000,12000,16000 BENCH_AC_CONNECTIONS (default from rate x service time)
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuPlan, replayInProcess } from '../src/adapters/shadow/replay-process.js';
import type { ReplayResult } from '../src/adapters/shadow/replayer.js';
import { projectPath } from '../src/adapters/project.js';
import { ensureDebianPackages } from '../src/adapters/stack/debian.js';
import { commandExists } from '../src/adapters/stack/exec.js';
import { ephemeralPort as freePort, isListening } from '../src/adapters/stack/ports.js';

const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
const RATES = list(process.env.BENCH_RATES, [250, 1000]); // requests per second
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// 30 s: a p99 from 2000 requests moved by a millisecond from run to run on this VM;
// from 7500 and more it holds within a few tenths.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP_SECONDS = 2;
const SERVICE_MS = Number(process.env.BENCH_SERVICE_MS ?? 2);
const STEPS = list(process.env.BENCH_STEPS, [500, 1000, 2000, 4000, 8000, 12000, 16000]);
const STEP_SECONDS = 5;
const MAX_LAG_MS = 5;
const STEP_TRIES = 3;
const MODEL = 'arrests';
const BODY = { inputs: [{ name: 'person_id', shape: [1], datatype: 'INT64', data: [1883] }] };

const children = new Set<ChildProcess>();

function start(cmd: string, args: string[], stdout: 'pipe' | 'ignore' = 'pipe'): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', stdout, stdout === 'pipe' ? 'pipe' : 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Runs to the end and gives its stdout; a non-zero exit is an error with its stderr. */
function output(cmd: string, args: string[]): Promise<string> {
  const child = start(cmd, args);
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': by then stdout has been read to its end.
    child.once('close', (code, signal) =>
      code === 0
        ? resolve(out.join(''))
        : reject(new Error(`${cmd} exited with ${signal ?? code}: ${err.join('').trim().slice(-500)}`)),
    );
  });
}

/** `cmd args` pinned to `cpus` with taskset, when both are there. */
async function pinned(cpus: string | null, cmd: string, args: string[]): Promise<[string, string[]]> {
  return cpus && (await commandExists('taskset')) ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

/** autocannon's CLI: the project's copy if it has one, else npm's through npx. */
function autocannonCommand(): [string, string[]] {
  try {
    return [process.execPath, [createRequire(import.meta.url).resolve('autocannon/autocannon.js')]];
  } catch {
    return ['npx', ['--yes', 'autocannon@9.0.0']];
  }
}

interface Side {
  ratio: number; // achieved / requested rate
  /** From when each request left: how hey and autocannon time them. */
  p50: number;
  p99: number;
  errors: number;
  /** Harness only: p50 and p99 from the intended send times, and its own lateness. */
  scheduled?: { p50: number; p99: number };
  lagP99?: number;
}

async function harness(url: string, rate: number, seconds: number, cpus: string | null): Promise<Side> {
  const r: ReplayResult = await replayInProcess(
    {
      model: MODEL,
      targets: [{ name: 'target', url }],
      bodies: [BODY],
      rate,
      durationMs: seconds * 1000,
      warmupMs: WARMUP_SECONDS * 1000,
      timeoutMs: 5000,
    },
    { cpus },
  );
  const t = r.targets[0]!;
  return {
    ratio: r.achievedRate / rate,
    p50: t.latencyFromSend.p50,
    p99: t.latencyFromSend.p99,
    errors: t.errors,
    scheduled: { p50: t.latency.p50, p99: t.latency.p99 },
    lagP99: r.sendLagP99Ms,
  };
}

/** One autocannon run: at `rate` (-R, as a reference), or closed loop as fast as it goes (null). */
async function autocannon(
  url: string,
  rate: number | null,
  cpus: string | null,
): Promise<{ achieved: number; p50: number; p99: number; errors: number }> {
  // At a rate: enough connections that each one's per-second quota takes about a third
  // of a second. Closed loop: 64, like the harness's pool.
  const c = String(
    rate === null
      ? 64
      : Number(process.env.BENCH_AC_CONNECTIONS ?? Math.max(2, Math.ceil((rate * SERVICE_MS * 3) / 1000))),
  );
  const [cmd, pre] = autocannonCommand();
  const args = [
    ...pre,
    ...['-j', '-c', c, '-d', String(rate === null ? STEP_SECONDS : SECONDS)],
    ...(rate === null
      ? []
      : ['-C', '-R', String(rate), '-W', '[', '-c', c, '-d', String(WARMUP_SECONDS), ']']),
    ...['-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(BODY)],
    `${url}/v2/models/${MODEL}/infer`,
  ];
  const text = await output(...(await pinned(cpus, cmd, args)));
  // With a warm-up it prints the warm-up's result first, then the run's, one line each.
  const r = JSON.parse(text.trim().split('\n').at(-1)!) as {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    requests: { total: number };
    latency: { p50: number; p99: number };
  };
  return {
    achieved: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

/** The bare Node client at `rate`, pinned like the others: the floor under any Node generator. */
async function bareNode(url: string, rate: number, cpus: string | null): Promise<Side> {
  const args = [
    ...['--import', 'tsx', projectPath('bench', 'bare-node-client.ts')],
    ...[`${url}/v2/models/${MODEL}/infer`, String(rate), String(SECONDS), String(WARMUP_SECONDS)],
  ];
  const r = JSON.parse(await output(...(await pinned(cpus, process.execPath, args)))) as {
    sent: number;
    errors: number;
    p50: number;
    p99: number;
  };
  return { ratio: r.sent / SECONDS / rate, p50: r.p50, p99: r.p99, errors: r.errors };
}

/**
 * One hey run at `rate` (Debian's Go load generator): `workers` each paced by a ticker
 * at rate / workers, so at one worker the requests are evenly spaced like the
 * harness's. Its CSV has every request's time at 0.1 ms resolution, so the
 * percentiles here are exact to that. A 2 s run first warms the target, unmeasured.
 */
async function hey(url: string, rate: number, cpus: string | null): Promise<Side> {
  // One worker while a request fits well inside the interval; more at higher rates,
  // since a worker whose request is still out skips its tick (a closed loop).
  const workers = Math.max(1, Math.ceil(rate / 250));
  const base = [
    ...['-c', String(workers), '-q', String(rate / workers), '-t', '5'],
    ...['-m', 'POST', '-T', 'application/json', '-d', JSON.stringify(BODY)],
  ];
  const target = `${url}/v2/models/${MODEL}/infer`;
  await output(...(await pinned(cpus, 'hey', ['-z', `${WARMUP_SECONDS}s`, ...base, target])));
  const csv = await output(
    ...(await pinned(cpus, 'hey', ['-z', `${SECONDS}s`, ...base, '-o', 'csv', target])),
  );
  const rows = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  const ms = rows.map((r) => Number(r[0]) * 1000).sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]!;
  return {
    ratio: rows.length / SECONDS / rate,
    p50: at(50),
    p99: at(99),
    errors: rows.filter((r) => r[6] !== '200').length,
  };
}

/**
 * How late a process that does nothing but sleep 1 ms at a time wakes up on `cpus`, over
 * 2 s (p99, ms): the floor that other load on the machine puts under any generator that
 * counts latency from an intended send time. Near 1 ms on an idle machine.
 */
async function noise(cpus: string | null): Promise<number> {
  const code = `const { setTimeout: sleep } = require('node:timers/promises');
(async () => {
  const late = [];
  for (const end = performance.now() + 2000; performance.now() < end; ) {
    const t = performance.now();
    await sleep(1);
    late.push(performance.now() - t - 1);
  }
  late.sort((a, b) => a - b);
  console.log(late[Math.floor(late.length * 0.99)]);
})();`;
  return Number(await output(...(await pinned(cpus, process.execPath, ['-e', code]))));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mid = (sides: Side[]): Side => ({
  ratio: median(sides.map((s) => s.ratio)),
  p50: median(sides.map((s) => s.p50)),
  p99: median(sides.map((s) => s.p99)),
  errors: sides.reduce((n, s) => n + s.errors, 0),
  scheduled: {
    p50: median(sides.map((s) => s.scheduled?.p50 ?? 0)),
    p99: median(sides.map((s) => s.scheduled?.p99 ?? 0)),
  },
  lagP99: median(sides.map((s) => s.lagP99 ?? 0)),
});
const n = (v: number, digits: number, width: number) => v.toFixed(digits).padStart(width);

async function main(): Promise<void> {
  await ensureDebianPackages([{ pkg: 'hey', provides: '/usr/bin/hey' }], 'the replay benchmark');
  const plan = cpuPlan();
  const oneCpu = plan.generator?.split(/[-,]/)[0] ?? null;
  const port = await freePort();
  const answer = JSON.stringify({
    model_name: MODEL,
    model_version: 'v1',
    outputs: [
      { name: 'label', shape: [1], datatype: 'INT64', data: [1] },
      { name: 'probability', shape: [1], datatype: 'FP64', data: [0.73] },
    ],
  });
  // The target: a V2-like answer after a fixed service time, in its own process and CPU.
  const [cmd, args] = await pinned(plan.candidate, process.execPath, [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => setTimeout(() => { s.setHeader('content-type', 'application/json'); s.end(${JSON.stringify(answer)}); }, ${SERVICE_MS})); }).listen(${port}, '127.0.0.1')`,
  ]);
  start(cmd, args, 'ignore');
  for (let i = 0; i < 200 && !(await isListening('127.0.0.1', port)); i++) await sleep(50);
  const url = `http://127.0.0.1:${port}`;

  console.log(
    `target: ${SERVICE_MS} ms service time on CPU ${plan.candidate ?? '(unpinned)'}; generators on CPU ${plan.generator ?? '(unpinned)'}; ` +
      `${ROUNDS} rounds of ${SECONDS} s (+${WARMUP_SECONDS} s warm-up) per side and rate\n`,
  );
  const rows: Array<{ rate: number; h: Side; ac: Side; hey: Side; bare: Side; noise: number }> = [];
  for (const rate of RATES) {
    const hs: Side[] = [];
    const acs: Side[] = [];
    const heys: Side[] = [];
    const bares: Side[] = [];
    const noises: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      noises.push(await noise(plan.generator));
      // Rotate who goes first, so a drift in the machine's load favours no one.
      const order = ['h', 'ac', 'hey', 'bare'].map((_, i, all) => all[(i + round) % all.length]!);
      for (const who of order) {
        if (who === 'h') hs.push(await harness(url, rate, SECONDS, plan.generator));
        else if (who === 'hey') heys.push(await hey(url, rate, plan.generator));
        else if (who === 'bare') bares.push(await bareNode(url, rate, plan.generator));
        else {
          const ac = await autocannon(url, rate, plan.generator);
          acs.push({ ...ac, ratio: ac.achieved / rate });
        }
      }
      const [h, ac, he, bare] = [hs.at(-1)!, acs.at(-1)!, heys.at(-1)!, bares.at(-1)!];
      console.log(
        `  ${rate}/s round ${round + 1}: harness p50 ${h.p50.toFixed(2)} p99 ${h.p99.toFixed(2)} ` +
          `(from the schedule ${h.scheduled!.p99.toFixed(2)}) lag p99 ${h.lagP99!.toFixed(2)} ms, ` +
          `rate ${h.ratio.toFixed(3)}; hey p50 ${he.p50.toFixed(1)} p99 ${he.p99.toFixed(1)} ms, rate ${he.ratio.toFixed(3)}; ` +
          `autocannon p50 ${ac.p50} p99 ${ac.p99} ms, rate ${ac.ratio.toFixed(3)}; ` +
          `bare node p50 ${bare.p50.toFixed(2)} p99 ${bare.p99.toFixed(2)} ms, rate ${bare.ratio.toFixed(3)}; CPU noise p99 ${noises.at(-1)!.toFixed(2)} ms`,
      );
    }
    rows.push({ rate, h: mid(hs), ac: mid(acs), hey: mid(heys), bare: mid(bares), noise: median(noises) });
  }

  console.log(
    `\nmedians over ${ROUNDS} rounds (hey's latencies are to 0.1 ms, autocannon's whole ms; "whole ms" truncates the harness's the same way)\n` +
      'p50 and p99 count from when each request left, as the references count; "p99 sched." counts from the\n' +
      "intended send time, as the shadow stage's gates do, and so holds the harness's own lateness (lag p99)",
  );
  console.log(
    '          |                harness (paved replay)                 |   hey -q (reference)    | autocannon -R -C (ref.) |   bare node    |   p99 harness / reference   |    CPU',
  );
  console.log(
    '  req/s   | ach/req  p50 ms   p99 ms  p99 sched.  lag p99  errors | ach/req  p50 ms  p99 ms | ach/req  p50 ms  p99 ms | p50 ms  p99 ms |  hey  autocannon whole ms  bare | noise p99',
  );
  const verdicts: string[] = [];
  const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(0)} %`;
  for (const { rate, h, ac, hey: he, bare, noise: cpuNoise } of rows) {
    const vsHey = h.p99 / he.p99;
    const vsBare = h.p99 / bare.p99;
    const whole = Math.floor(h.p99) / ac.p99;
    console.log(
      `${n(rate, 0, 7)}   | ${n(h.ratio, 3, 7)} ${n(h.p50, 3, 7)} ${n(h.p99, 3, 8)} ${n(h.scheduled!.p99, 3, 11)} ${n(h.lagP99!, 3, 8)} ${n(h.errors + he.errors + ac.errors, 0, 7)} |` +
        ` ${n(he.ratio, 3, 7)} ${n(he.p50, 1, 7)} ${n(he.p99, 1, 7)} |` +
        ` ${n(ac.ratio, 3, 7)} ${n(ac.p50, 0, 7)} ${n(ac.p99, 0, 7)} |` +
        ` ${n(bare.p50, 2, 6)} ${n(bare.p99, 2, 7)} |` +
        ` ${n(vsHey, 2, 4)} ${n(whole, 2, 19)} ${n(vsBare, 2, 5)} | ${n(cpuNoise, 2, 9)}`,
    );
    const within = (r: number) => (Math.abs(r - 1) <= 0.1 ? 'within' : 'NOT within');
    verdicts.push(
      `${rate}/s: rate ${Math.abs(h.ratio - 1) <= 0.02 ? 'within' : 'NOT within'} 2 % (${((h.ratio - 1) * 100).toFixed(1)} %); ` +
        `p99 ${within(vsHey)} 10 % of hey (${pct(vsHey)}), ${within(whole)} 10 % of autocannon at its 1 ms resolution (${pct(whole)}); ` +
        `bare Node client vs hey ${pct(bare.p99 / he.p99)}, harness vs bare Node client ${pct(vsBare)}`,
    );
  }
  console.log(`\ngoal (rate within 2 %, p99 within 10 % of the reference):\n  ${verdicts.join('\n  ')}`);

  // The ceiling. A send is only a call into undici's pool, which queues when its
  // connections are busy, so the harness's achieved rate stays near 1 even when it can
  // no longer read the answers as fast as it sends: the backlog shows as a p50 far
  // above the service time instead, hence the third condition.
  const cap = await autocannon(url, null, oneCpu);
  const maxP50 = SERVICE_MS + 5;
  console.log(
    `\nceiling: harness alone on CPU ${oneCpu ?? '(unpinned)'}, ${STEP_SECONDS} s per step; ` +
      `sustained = ach/req >= 0.98, p50 <= ${maxP50} ms (no backlog) and lag p99 <= ${MAX_LAG_MS} ms; ` +
      `a step that misses is tried up to ${STEP_TRIES} times; stepping stops at a backlog or a missed rate; ` +
      `p50 and p99 from the intended send times\n` +
      `(the target itself answers ${cap.achieved.toFixed(0)} req/s to autocannon closed loop, 64 connections, same CPU)`,
  );
  console.log('  req/s  ach/req  lag p99 ms  p50 ms   p99 ms  errors  CPU noise p99  sustained');
  let sustained = 0; // every step up to here held, with lag within bounds
  let held = 0; // every step up to here held (rate, no backlog), whatever the lag
  for (const rate of STEPS) {
    let stepHeld = false;
    for (let attempt = 0; attempt < STEP_TRIES; attempt++) {
      const cpuNoise = await noise(oneCpu);
      const s = await harness(url, rate, STEP_SECONDS, oneCpu);
      const holds = s.ratio >= 0.98 && s.scheduled!.p50 <= maxP50 && s.errors === 0;
      const ok = holds && s.lagP99! <= MAX_LAG_MS;
      stepHeld ||= holds;
      console.log(
        `${n(rate, 0, 7)} ${n(s.ratio, 3, 8)} ${n(s.lagP99!, 3, 11)} ${n(s.scheduled!.p50, 3, 7)} ${n(s.scheduled!.p99, 3, 8)} ${n(s.errors, 0, 7)} ${n(cpuNoise, 2, 14)}  ${ok ? 'yes' : holds ? 'no (lag)' : 'no'}`,
      );
      if (ok && sustained === held) sustained = rate;
      if (ok) break;
    }
    if (!stepHeld) break;
    held = rate;
  }
  const steps = (r: number) =>
    r ? `${r} req/s${r === STEPS.at(-1) ? ' (the last step: at least that)' : ''}` : 'none of the steps';
  console.log(
    `\nhighest rate the harness sustains on one CPU: ${steps(sustained)}; ` +
      `without the lag condition (what other load on a shared machine hits first): ${steps(held)}`,
  );
}

const stop = () => {
  for (const c of children) c.kill('SIGTERM');
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    stop();
    process.exit(130);
  });
try {
  await main();
} finally {
  stop();
}
