// Clean measurements under load: the shadow p99 of examples/arrests measured alone,
// then six releases of it (six model names) started at once, each through the whole
// pipeline on one worker. Every shadow takes a slot of this host's measurement queue
// (one slot on fewer than six cores), so the six are measured one after another on
// the same cores, while the other releases build, bind and roll out beside them.
// The table: each release's shadow p99, its ratio to the one measured alone, and how
// long it waited for its slot. Goal: every ratio within 1.2.
// Env: BENCH_SHADOW (shadow window, default 15s). Run with the stack up:
//   npx tsx bench/measure-queue.ts
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/adapters/config-loader.js';
import { DEFAULT_POLICY_PATH } from '../src/adapters/policy-loader.js';
import { reportStore } from '../src/adapters/report-store.js';
import { dockerClient } from '../src/adapters/docker-client.js';
import { PavedGatewayRouter } from '../src/adapters/router/paved-gateway/client.js';
import { connectClient } from '../src/adapters/temporal-connection.js';
import { servingWorkflowId } from '../src/workflows/serving-definitions.js';
import { paved, spawnWorker } from '../test/support/cli.js';
import { examplePackage } from '../test/support/packages.js';

const SHADOW = process.env.BENCH_SHADOW ?? '15s';
const config = loadConfig();
const run = randomUUID().slice(0, 6);

function policyFile(): string {
  const doc = parse(readFileSync(DEFAULT_POLICY_PATH, 'utf8')) as Record<string, Record<string, unknown>>;
  doc.shadow = { ...doc.shadow, duration: SHADOW, warmup: '2s', min_captured: 1_000_000_000 };
  doc.rollout_analysis = { ...doc.rollout_analysis, min_requests: 0, drain: '0s' };
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const env = { PAVED_TASK_QUEUE: `bench-mq-${run}`, PAVED_USER: 'ci@example.com', PAVED_POLICY: policyFile() };

async function release(name: string): Promise<{ name: string; p99: number; waitedMs: number }> {
  const pkg = examplePackage((doc) => {
    doc.name = name;
  });
  const res = await paved(['release', pkg, '--wait', '--version', 'm1'], env, 1_800_000);
  if (res.code !== 0) throw new Error(`${name}: exit ${res.code}\n${res.stderr}\n${res.stdout}`);
  const report = reportStore(config).load(name, 'm1')!;
  return { name, p99: report.shadow!.candidate.latency.p99, waitedMs: report.shadow!.queue?.waitedMs ?? 0 };
}

const worker = await spawnWorker(env);
const names: string[] = [];
try {
  const alone = await release(`mq-${run}-alone`);
  names.push(alone.name);
  const six = Array.from({ length: 6 }, (_, i) => `mq-${run}-${i + 1}`);
  names.push(...six);
  const together = await Promise.all(six.map(release));
  console.log(
    `\nexamples/arrests, shadow window ${SHADOW} at the policy's package-sample rate, ${os.availableParallelism()} CPUs; alone p99 ${alone.p99.toFixed(1)} ms\n`,
  );
  console.log('release          shadow p99  ratio to alone  waited for a slot');
  for (const r of together)
    console.log(
      `${r.name.padEnd(16)} ${`${r.p99.toFixed(1)} ms`.padStart(10)}  ${(r.p99 / alone.p99).toFixed(2).padStart(14)}  ${`${(r.waitedMs / 1000).toFixed(1)} s`.padStart(17)}`,
    );
  const worst = Math.max(...together.map((r) => r.p99 / alone.p99));
  console.log(`\nworst ratio ${worst.toFixed(2)} (goal <= 1.20)`);
} finally {
  await worker.kill();
  // The releases' serving workflows, replicas and routes: a bench leaves nothing serving.
  const client = await connectClient(config);
  const docker = dockerClient(config);
  const router = PavedGatewayRouter.fromConfig(config);
  for (const name of names) {
    await client.workflow
      .getHandle(servingWorkflowId(name, env.PAVED_TASK_QUEUE))
      .terminate('bench over')
      .catch(() => undefined);
    for (const c of await docker.listContainers({ filters: { label: [`paved.release=${name}/m1`] } }))
      await docker.getContainer(c.Id).remove({ force: true });
    await router.removeRoute(name).catch(() => undefined);
  }
  await client.connection.close();
}
