// The sealed path against the open one: the same examples/arrests image, one replica
// sealed (network none, served on its unix socket, as paved runs every model) and one
// on host networking (TCP on 127.0.0.1), both pinned to the same CPU with the same
// limits, measured the way the shadow stage measures: the replay harness, open loop,
// both targets interleaved slot by slot in one run. BENCH_ROUNDS rounds, medians.
// Goal: the socket is no slower (ratio socket/TCP <= 1 at p50 and p99).
// Run with the stack up: npx tsx bench/sealed-socket.ts
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/adapters/config-loader.js';
import { dockerClient } from '../src/adapters/docker-client.js';
import { loadPolicy } from '../src/adapters/policy-loader.js';
import { projectPath } from '../src/adapters/project.js';
import { sealedCreateOptions } from '../src/adapters/runtime/docker/hardened.js';
import { endpointClient } from '../src/adapters/runtime/endpoint-client.js';
import { localModelRuntime } from '../src/adapters/runtime/local.js';
import { cpuPlan, replayInProcess } from '../src/adapters/shadow/replay-process.js';
import { ephemeralPort } from '../src/adapters/stack/ports.js';
import { buildModelImage } from '../test/support/build-image.js';

const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const config = loadConfig();
const docker = dockerClient(config);
const runtime = localModelRuntime(config);
const limits = loadPolicy().model_limits;
const cpus = cpuPlan();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'paved-bench-sealed-'));
const TCP_NAME = 'paved-bench-tcp.arrests';

async function main(): Promise<void> {
  const { image } = await buildModelImage(projectPath('examples', 'arrests'), 'arrests', 'bench-sealed');
  const sealed = await runtime.start({
    model: 'arrests',
    version: 'bench-sealed',
    role: 'try',
    image,
    binding: null,
    allowPickle: false,
    limits: { ...limits, ...(cpus.candidate ? { cpuset: cpus.candidate } : {}) },
  });

  // The open twin: the same hardening, but host networking and a TCP port.
  const port = await ephemeralPort();
  const open = sealedCreateOptions({
    name: TCP_NAME,
    image,
    socketDir: scratch,
    memoryMB: limits.memory_mb,
    cpus: limits.cpus,
    pids: limits.pids,
    ...(cpus.candidate ? { cpuset: cpus.candidate } : {}),
    env: { PAVED_MODEL_NAME: 'arrests', PAVED_MODEL_VERSION: 'bench-tcp' },
  });
  open.Env = (open.Env ?? [])
    .filter((e) => !e.startsWith('PAVED_SOCKET='))
    .concat([`PAVED_PORT=${port}`, 'PAVED_BIND=127.0.0.1']);
  open.HostConfig = { ...open.HostConfig, NetworkMode: 'host', Binds: [] };
  await docker
    .getContainer(TCP_NAME)
    .remove({ force: true })
    .catch(() => undefined);
  await (await docker.createContainer(open)).start();
  const tcp = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    const client = endpointClient(tcp, 1000);
    const ok = await client
      .request({ path: '/v2/health/ready', method: 'GET' })
      .then(async (r) => (await r.body.dump(), r.statusCode === 200))
      .catch(() => false);
    await client.close();
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }

  const body = JSON.parse(
    readFileSync(projectPath('examples', 'arrests', 'sample-request.json'), 'utf8'),
  ) as unknown;
  const rows: Array<Record<string, { p50: number; p99: number; errors: number }>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    // The order alternates, so neither target always goes first in a slot.
    const targets =
      round % 2 === 0
        ? [
            { name: 'socket', url: sealed.endpoint },
            { name: 'tcp', url: tcp },
          ]
        : [
            { name: 'tcp', url: tcp },
            { name: 'socket', url: sealed.endpoint },
          ];
    const result = await replayInProcess(
      {
        model: 'arrests',
        targets,
        bodies: [body],
        rate: RATE,
        durationMs: SECONDS * 1000,
        warmupMs: 3000,
        timeoutMs: 10_000,
      },
      { cpus: cpus.generator },
    );
    rows.push(
      Object.fromEntries(
        result.targets.map((t) => [t.name, { p50: t.latency.p50, p99: t.latency.p99, errors: t.errors }]),
      ),
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const of = (name: string, k: 'p50' | 'p99') => median(rows.map((r) => r[name]![k]));
  console.log(
    `examples/arrests, ${RATE} req/s per target for ${SECONDS} s, interleaved, pinned to CPU ${cpus.candidate ?? 'any'}; medians of ${ROUNDS} rounds\n`,
  );
  console.log('path      p50 ms   p99 ms  errors');
  for (const name of ['socket', 'tcp'])
    console.log(
      `${name.padEnd(8)} ${of(name, 'p50').toFixed(2).padStart(7)} ${of(name, 'p99').toFixed(2).padStart(8)} ${String(rows.reduce((n, r) => n + r[name]!.errors, 0)).padStart(7)}`,
    );
  console.log(
    `\nsocket/tcp: p50 ${(of('socket', 'p50') / of('tcp', 'p50')).toFixed(2)}, p99 ${(of('socket', 'p99') / of('tcp', 'p99')).toFixed(2)} (goal <= 1: the sealed path is no slower)`,
  );
  await runtime.stop(sealed.id);
}

try {
  await main();
} finally {
  await docker
    .getContainer(TCP_NAME)
    .remove({ force: true })
    .catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}
