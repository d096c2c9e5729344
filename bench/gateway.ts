// Gateway overhead, against the same backend reached directly and through Debian's
// nginx (proxy_pass with upstream keep-alive), in one run on loopback. A fourth path,
// "bare node", is the least any Node proxy costs here (bench/bare-node-proxy.ts: no
// routing, metrics or library), so the gateway's ratio reads against Node's own floor.
//  1. Latency at a constant request rate (open loop: latency counts from the
//     intended send time), recorded in microseconds in an HdrHistogram; BENCH_ROUNDS
//     rounds per path, medians.
//  2. Maximum throughput with wrk (Debian), 64 connections, 10 s.
// Run: npx tsx bench/gateway.ts   (as root the first time: installs nginx-light and wrk)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { GatewayAdmin } from '../src/adapters/gateway-admin.js';
import { projectPath } from '../src/adapters/project.js';
import { ensureDebianPackages } from '../src/adapters/stack/debian.js';
import { run } from '../src/adapters/stack/exec.js';
import { ephemeralPort as freePort, isListening } from '../src/adapters/stack/ports.js';

const RATE = Number(process.env.BENCH_RATE ?? 1000); // requests per second
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// A p99 from one 10 s run moves by a millisecond from run to run on a shared VM:
// the paths take turns, in a rotating order, and the table gives the medians.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKEN = 'bench-token-0123456789abcdef';
const BODY = JSON.stringify({
  inputs: [{ name: 'person_id', shape: [1], datatype: 'INT64', data: [1883] }],
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-bench-gw-'));
const children: ChildProcess[] = [];

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  children.push(spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] }));
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200 && !(await isListening('127.0.0.1', port)); i++) await sleep(50);
}

/** Open loop at RATE: each request has an intended start; its latency counts from then. */
async function constantRate(
  url: string,
): Promise<{ p50: number; p99: number; achieved: number; errors: number }> {
  const origin = new URL(url).origin;
  const pool = new Pool(origin, { connections: 32, pipelining: 1 });
  const once = async (h: hdr.Histogram | null, intended: number): Promise<boolean> => {
    const res = await pool.request({
      path: new URL(url).pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
    });
    await res.body.dump();
    h?.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
    return res.statusCode === 200;
  };
  const phase = async (seconds: number, h: hdr.Histogram | null) => {
    const t0 = performance.now();
    const total = Math.round(RATE * seconds);
    const inflight: Array<Promise<boolean>> = [];
    for (let i = 0; i < total; i++) {
      const intended = t0 + (i * 1000) / RATE;
      const wait = intended - performance.now();
      if (wait > 0) await sleep(wait); // never early: a request sent before its time would hide latency
      inflight.push(once(h, intended).catch(() => false));
    }
    const ok = await Promise.all(inflight);
    return { errors: ok.filter((x) => !x).length, elapsed: (performance.now() - t0) / 1000, total };
  };
  await phase(2, null); // warm-up: connections, JIT; not measured
  const h = hdr.build({ numberOfSignificantValueDigits: 3 });
  const r = await phase(SECONDS, h);
  const out = {
    p50: h.getValueAtPercentile(50) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    achieved: r.total / r.elapsed,
    errors: r.errors,
  };
  h.destroy();
  await pool.close();
  return out;
}

async function wrkMax(url: string): Promise<number> {
  const script = path.join(dir, 'post.lua');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = '${BODY}'\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  const out = await run('wrk', ['-t1', '-c64', '-d10s', '-s', script, url], { timeoutMs: 60_000 });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  await ensureDebianPackages(
    [
      { pkg: 'nginx-light', provides: '/usr/sbin/nginx' },
      { pkg: 'wrk', provides: '/usr/bin/wrk' },
    ],
    'the gateway benchmark',
  );
  const [backendPort, gatewayPort, nginxPort, bareNodePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];

  // The backend: answers like a small V2 model, in its own process.
  start(process.execPath, [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('content-type', 'application/json'); s.end('{"model_name":"arrests","model_version":"v1","outputs":[{"name":"label","shape":[1],"datatype":"INT64","data":[1]}]}'); }); }).listen(${backendPort}, '127.0.0.1')`,
  ]);
  start(process.execPath, [projectPath('bin', 'paved.js'), 'gateway'], {
    ...process.env,
    PAVED_HOME: path.join(dir, 'home'),
    PAVED_GATEWAY_PORT: String(gatewayPort),
    PAVED_GATEWAY_TOKEN: TOKEN,
    PAVED_LOG_LEVEL: 'warn',
  });
  const prefix = path.join(dir, 'nginx');
  mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `worker_processes 1; daemon off; error_log ${prefix}/logs/error.log warn; pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  start('/usr/sbin/nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')]);
  start(process.execPath, [
    '--import',
    'tsx',
    projectPath('bench', 'bare-node-proxy.ts'),
    String(bareNodePort),
    `http://127.0.0.1:${backendPort}`,
  ]);
  await Promise.all([
    waitPort(backendPort),
    waitPort(gatewayPort),
    waitPort(nginxPort),
    waitPort(bareNodePort),
  ]);
  await new GatewayAdmin(`http://127.0.0.1:${gatewayPort}`, TOKEN).setRoute('arrests', {
    stable: { version: 'v1', url: `http://127.0.0.1:${backendPort}` },
  });

  const path_ = '/v2/models/arrests/infer';
  const targets: Array<[string, string]> = [
    ['direct', `http://127.0.0.1:${backendPort}${path_}`],
    ['gateway', `http://127.0.0.1:${gatewayPort}${path_}`],
    ['nginx', `http://127.0.0.1:${nginxPort}${path_}`],
    ['bare node', `http://127.0.0.1:${bareNodePort}${path_}`],
  ];
  type Latency = Awaited<ReturnType<typeof constantRate>>;
  const rounds: Record<string, Latency[]> = Object.fromEntries(targets.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (let i = 0; i < targets.length; i++) {
      const [name, url] = targets[(i + round) % targets.length]!;
      rounds[name]!.push(await constantRate(url));
    }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const lat: Record<string, Latency> = Object.fromEntries(
    Object.entries(rounds).map(([name, rs]) => [
      name,
      {
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        achieved: median(rs.map((r) => r.achieved)),
        errors: rs.reduce((n, r) => n + r.errors, 0),
      },
    ]),
  );
  const max: Record<string, number> = {};
  for (const [name, url] of targets) max[name] = await wrkMax(url);

  console.log(
    `constant load ${RATE} req/s for ${SECONDS} s (open loop, latency from intended send time; medians of ${ROUNDS} rounds), then wrk max throughput\n`,
  );
  console.log('path        p50 ms   p99 ms   added p50  added p99  achieved/s  errors   max req/s');
  for (const [name] of targets) {
    const l = lat[name]!;
    const addP50 = name === 'direct' ? '' : (l.p50 - lat.direct!.p50).toFixed(3);
    const addP99 = name === 'direct' ? '' : (l.p99 - lat.direct!.p99).toFixed(3);
    console.log(
      `${name.padEnd(10)} ${l.p50.toFixed(3).padStart(7)} ${l.p99.toFixed(3).padStart(8)} ${addP50.padStart(10)} ${addP99.padStart(10)} ${l.achieved.toFixed(0).padStart(11)} ${String(l.errors).padStart(7)} ${max[name]!.toFixed(0).padStart(11)}`,
    );
  }
  console.log(
    `\nthroughput gateway/nginx: ${(max.gateway! / max.nginx!).toFixed(2)} (goal >= 0.5); ` +
      `added latency at ${RATE}/s: p50 ${(lat.gateway!.p50 - lat.direct!.p50).toFixed(3)} ms (goal <= 0.3), ` +
      `p99 ${(lat.gateway!.p99 - lat.direct!.p99).toFixed(3)} ms (goal <= 1)\n` +
      `throughput bare node/nginx: ${(max['bare node']! / max.nginx!).toFixed(2)} ` +
      `(the most any Node proxy reaches here); gateway/bare node: ${(max.gateway! / max['bare node']!).toFixed(2)}`,
  );
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await sleep(300);
  rmSync(dir, { recursive: true, force: true });
}
