import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { connectClient } from '../../src/adapters/temporal-connection.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { projectPath } from '../../src/adapters/project.js';
import { gatewayUrl, PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import { startTraffic } from '../../src/cli/traffic.js';
import { servingReplicaName } from '../../src/domain/rollout.js';
import { servingStateQuery, servingWorkflowId } from '../../src/workflows/serving-definitions.js';
import { paved, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { examplePackage } from '../support/packages.js';
import { anyRollout, basePolicyDoc, quickShadow } from '../support/rollout-policy.js';
import { startSecondDocker } from '../support/second-docker.js';

// Two Docker daemons on this machine, both in docker.hosts: a version's replicas land
// on both, and a replica killed under load is replaced by the model's serving
// workflow while Envoy sends its share to the other one.
const MODEL = `replicas-${randomUUID().slice(0, 6)}`;
const config = loadConfig();
const admin = PavedGatewayRouter.fromConfig(config);
const first = dockerClient(config);
const BODY = readFileSync(projectPath('examples', 'arrests', 'sample-request-entities.json'), 'utf8');
const RECONCILE_MS = 2_000;

function policyFile(): string {
  const doc = basePolicyDoc();
  doc.rollout_analysis = { ...doc.rollout_analysis, min_requests: 0, drain: '0s' };
  doc.serving = {
    ...doc.serving,
    min_replicas: 2,
    max_replicas: 2,
    reconcile_every: `${RECONCILE_MS / 1000}s`,
  };
  quickShadow(doc);
  anyRollout(doc);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const TASK_QUEUE = `it-replicas-${randomUUID()}`;
let second: Awaited<ReturnType<typeof startSecondDocker>>;
let worker: SpawnedWorker;
let env: NodeJS.ProcessEnv;

async function replicasOn(docker: Docker, version: string) {
  return docker.listContainers({ filters: { label: [`paved.release=${MODEL}/${version}`] } });
}

beforeAll(async () => {
  second = await startSecondDocker(config.home);
  env = {
    PAVED_TASK_QUEUE: TASK_QUEUE,
    PAVED_USER: 'ci@example.com',
    PAVED_POLICY: policyFile(),
    PAVED_DOCKER_HOSTS: `${config.docker.host},${second.url}`,
  };
  worker = await spawnWorker(env);
}, 180_000);

afterAll(async () => {
  await worker?.kill();
  const client = await connectClient(config);
  await client.workflow
    .getHandle(servingWorkflowId(MODEL, TASK_QUEUE))
    .terminate('test over')
    .catch(() => undefined);
  await client.connection.close();
  for (const docker of [first, second?.docker])
    for (const c of docker ? await replicasOn(docker, 'r1').catch(() => []) : [])
      await docker!
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
  await admin.removeRoute(MODEL).catch(() => undefined);
  await second?.stop();
}, 120_000);

describe('replicas across two Docker hosts', () => {
  it('a release serves from both hosts; a replica killed under load is replaced within one reconcile period, and no request fails', async () => {
    const pkg = examplePackage((doc) => {
      doc.name = MODEL;
    });
    const released = await paved(['release', pkg, '--wait', '--version', 'r1'], env);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toContain(
      "; serves on 2 replicas, the policy's minimum: no live traffic recorded yet (capacity ",
    );
    const [onFirst, onSecond] = [await replicasOn(first, 'r1'), await replicasOn(second.docker, 'r1')];
    expect(onFirst.map((c) => c.Names[0])).toEqual([`/${servingReplicaName(MODEL, 'r1', 0)}`]);
    expect(onSecond.map((c) => c.Names[0])).toEqual([`/${servingReplicaName(MODEL, 'r1', 1)}`]);
    expect((await admin.route(MODEL))!.stable!.endpoints).toHaveLength(2);

    const victim = servingReplicaName(MODEL, 'r1', 1);
    const before = onSecond[0]!.Id;
    const traffic = startTraffic(gatewayUrl(config), MODEL, BODY, { workers: 5, pauseMs: 10 });
    const startedAt = Date.now();
    await sleep(3_000);
    await second.docker.getContainer(victim).kill();
    const killedAt = Date.now();
    let replacedAfterMs: number | null = null;
    for (let i = 0; i < 300 && replacedAfterMs === null; i++) {
      const now = await replicasOn(second.docker, 'r1');
      if (now.some((c) => c.Id !== before && c.State === 'running')) replacedAfterMs = Date.now() - killedAt;
      else await sleep(100);
    }
    await sleep(3_000); // the new replica takes its share again
    const sent = await traffic.stop();
    const seconds = (Date.now() - startedAt) / 1000;
    const client = await connectClient(config);
    const serving = await client.workflow
      .getHandle(servingWorkflowId(MODEL, TASK_QUEUE))
      .query(servingStateQuery);
    await client.connection.close();
    console.log(
      `replica kill: ${sent.requests} requests in ${seconds.toFixed(1)} s (${(sent.requests / seconds).toFixed(0)} req/s), ${sent.failed} failed, statuses ${JSON.stringify(sent.statuses)} ${JSON.stringify(sent.firstErrors)}; ${victim} replaced ${replacedAfterMs} ms after the kill (reconcile every ${RECONCILE_MS} ms); last reconcile ${JSON.stringify(serving.last)}`,
    );
    expect(replacedAfterMs).not.toBeNull();
    // Found dead at the next reconcile (within one period), then started and ready again.
    expect(replacedAfterMs!).toBeLessThan(RECONCILE_MS + 10_000);
    expect(serving.last?.problem ?? null).toBeNull();
    expect(sent.requests).toBeGreaterThan(1000);
    expect(sent.failed).toBe(0);
    expect(serving.versions).toEqual([expect.objectContaining({ version: 'r1', replicas: 2 })]);
  }, 600_000);
});
