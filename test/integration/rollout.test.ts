import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { gatewayUrl, PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import { startLocalGateway, TOKEN } from '../support/local-gateway.js';
import { projectPath } from '../../src/adapters/project.js';
import { startTraffic, type TrafficSummary } from '../../src/cli/traffic.js';
import { servingContainerName } from '../../src/domain/rollout.js';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { examplePackage } from '../support/packages.js';
import { anyRollout, basePolicyDoc, quickShadow } from '../support/rollout-policy.js';

// The real thing: `paved release --wait` on a worker of its own, the stack's
// gateway, real model containers, and steady traffic through the gateway from a
// bounded load generator on loopback. A model name of its own keeps other tests'
// releases of `arrests` out of these routes.
const MODEL = `rollout-${randomUUID().slice(0, 6)}`;
const config = loadConfig();
const admin = PavedGatewayRouter.fromConfig(config);
const docker = dockerClient(config);
const BODY = readFileSync(projectPath('examples', 'arrests', 'sample-request-entities.json'), 'utf8');

function policyFile(): string {
  const doc = basePolicyDoc();
  // A step without traffic holds 15 s before it asks a reviewer; the tests with
  // traffic reach 20 canary requests within their first 3 s window.
  doc.rollout_analysis = {
    ...doc.rollout_analysis,
    min_requests: 20,
    drain: '1s',
    inconclusive_deadline: '15s',
  };
  quickShadow(doc);
  anyRollout(doc);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const env = {
  PAVED_TASK_QUEUE: `it-rollout-${randomUUID()}`,
  PAVED_USER: 'ci@example.com',
  PAVED_POLICY: policyFile(),
};
const TWO_STEPS = examplePackage((doc) => {
  doc.name = MODEL;
  doc.rollout = { steps: [25, 100], bake: '3s' };
});
let worker: SpawnedWorker;

async function releaseWithTraffic(
  dir: string,
  version: string,
  during: () => Promise<void> = async () => {},
): Promise<{ code: number | null; stdout: string; stderr: string; traffic: TrafficSummary }> {
  const traffic = startTraffic(gatewayUrl(config), MODEL, BODY, { workers: 4, pauseMs: 10 });
  try {
    const run = pavedBackground(['release', dir, '--wait', '--version', version], env);
    await during();
    const res = await run.done;
    return { ...res, traffic: await traffic.stop() };
  } catch (err) {
    await traffic.stop();
    throw err;
  }
}

async function untilWeight(version: string, weight: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const route = await admin.route(MODEL);
    if (route?.canary?.version === version && route.canary.weight === weight) return;
    await sleep(100);
  }
  throw new Error(`${version} never reached ${weight} %`);
}

/** Whether the container runs; one that does not exist (404) is stopped, any other error is the test's. */
async function running(container: string): Promise<boolean> {
  try {
    return (await docker.getContainer(container).inspect()).State.Running;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

beforeAll(async () => {
  worker = await spawnWorker(env);
}, 120_000);

afterAll(async () => {
  await worker?.kill();
  const route = await admin.route(MODEL).catch(() => null);
  for (const v of [route?.stable?.version, route?.canary?.version]) {
    if (v)
      await docker
        .getContainer(servingContainerName(MODEL, v))
        .remove({ force: true })
        .catch(() => undefined);
  }
  await admin.removeRoute(MODEL).catch(() => undefined);
});

describe('crashes mid-rollout', () => {
  it('SIGKILL of the worker and of Envoy, and a restart of the control plane: the rollout completes with the right weights', async () => {
    // A gateway of this test's own (its own routes file), so restarting it disturbs no other test.
    const gw = await startLocalGateway();
    const ownAdmin = gw.router;
    const crashEnv = {
      ...env,
      PAVED_TASK_QUEUE: `it-rollout-crash-${randomUUID()}`,
      PAVED_GATEWAY_PORT: String(gw.port),
      PAVED_GATEWAY_ADMIN_PORT: String(gw.adminPort),
      PAVED_GATEWAY_TOKEN: TOKEN,
    };
    const first = await spawnWorker(crashEnv);
    let second: SpawnedWorker | undefined;
    const pkg = examplePackage((doc) => {
      doc.name = MODEL;
      doc.rollout = { steps: [25, 50, 100], bake: '3s' };
    });
    const traffic = startTraffic(gw.url, MODEL, BODY, { workers: 4, pauseMs: 10 });
    try {
      // A stable version first, so the crash happens between real steps.
      expect((await paved(['release', pkg, '--wait', '--version', 'c1'], crashEnv)).code).toBe(0);
      const run = pavedBackground(['release', pkg, '--wait', '--version', 'c2'], crashEnv);
      for (let i = 0; i < 600 && (await ownAdmin.route(MODEL))?.canary?.weight !== 25; i++) await sleep(100);
      await first.kill('SIGKILL');
      await gw.restartControlPlane(); // reloads routes.json: still 25 % to c2
      // The data plane dies too, with SIGKILL, and starts again from the files it was given.
      await gw.killEnvoy();
      await gw.startEnvoy();
      const answered = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const res = await fetch(`${gw.url}/v2/models/${MODEL}/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-paved-key': `after-kill-${i}` },
            body: BODY,
          });
          return ((await res.json()) as { model_version?: string }).model_version;
        }),
      );
      expect(new Set(answered)).toEqual(new Set(['c1', 'c2'])); // still split, as before the kill
      expect((await ownAdmin.route(MODEL))!.canary).toMatchObject({ version: 'c2', weight: 25 });
      second = await spawnWorker(crashEnv);
      const res = await run.done;
      expect(res.code, res.stderr).toBe(0);
      expect(await ownAdmin.route(MODEL)).toMatchObject({ stable: { version: 'c2' }, canary: null });
      expect(await running(servingContainerName(MODEL, 'c1'))).toBe(false);
      expect(await running(servingContainerName(MODEL, 'c2'))).toBe(true);
      const all = await docker.listContainers({ filters: { label: [`paved.release=${MODEL}/c2`] } });
      expect(all).toHaveLength(1); // a retried start found its container; no second canary
    } finally {
      const sent = await traffic.stop();
      console.log(`crash test traffic: ${JSON.stringify(sent)}`);
      await second?.kill();
      await first.kill();
      await docker
        .getContainer(servingContainerName(MODEL, 'c2'))
        .remove({ force: true })
        .catch(() => undefined);
      await gw.close();
    }
  }, 600_000);
});

describe('progressive rollout behind the gateway', () => {
  it('a first release with no traffic reaches 100 %, then a healthy canary does too, without one failed request', async () => {
    // Nobody calls a model nobody has heard of: its first release must not wait for traffic.
    const first = await paved(['release', TWO_STEPS, '--wait', '--version', 'v1'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `released ${MODEL}/v1: passed validate, containerize, bind, shadow, bias, rollout; first release, not judged on live traffic`,
    );
    expect(await admin.route(MODEL)).toMatchObject({ stable: { version: 'v1' }, canary: null });
    const firstAudit = JSON.parse((await paved(['audit', `${MODEL}/v1`, '--json'], env)).stdout) as Array<{
      action: string;
      reason?: string;
      outputs?: { decision?: string };
    }>;
    const unjudged = firstAudit.find((e) => e.action === 'rollout step 100 %')!;
    expect(unjudged.outputs!.decision).toBe('unjudged');
    expect(unjudged.reason).toContain('not judged on live traffic');
    const report = readFileSync(path.join(config.home, 'reports', MODEL, 'v1', 'report.md'), 'utf8');
    expect(report).toContain('## Rollout');
    expect(report).toContain('was not judged on live traffic');

    const second = await releaseWithTraffic(TWO_STEPS, 'v2');
    expect(second.code, second.stderr).toBe(0);
    expect(second.traffic.failed).toBe(0);
    expect(second.traffic.byVersion.v1).toBeGreaterThan(0);
    expect(second.traffic.byVersion.v2).toBeGreaterThan(0);
    const route = await admin.route(MODEL);
    expect(route).toMatchObject({ stable: { version: 'v2' }, canary: null, stickyInput: 'person_id' });
    // the old stable drained and stopped; the new one serves
    expect(await running(servingContainerName(MODEL, 'v1'))).toBe(false);
    expect(await running(servingContainerName(MODEL, 'v2'))).toBe(true);
    const audit = JSON.parse((await paved(['audit', `${MODEL}/v2`, '--json'], env)).stdout) as Array<{
      action: string;
      outputs?: { canary?: { requests: number } };
    }>;
    const step = audit.find((e) => e.action === 'rollout step 25 %')!;
    expect(step.outputs!.canary!.requests).toBeGreaterThanOrEqual(20);
  }, 600_000);

  it('a canary with 20 % injected errors is rolled back after one window (exit 4); stable answered the rest', async () => {
    // Faults are per version: set for v3 before it exists, carried by every route change.
    const current = (await admin.route(MODEL))!;
    await admin.setRoute(MODEL, {
      ...current,
      faults: { v3: { abortPercent: 20, abortStatus: 503, delayMs: 0 } },
    });
    const res = await releaseWithTraffic(TWO_STEPS, 'v3');
    console.log(`rollback test printed: ${res.stdout.trim()}`);
    console.log(`traffic during it: ${JSON.stringify(res.traffic)}`);
    expect(res.code).toBe(4);
    expect(res.stdout).toMatch(
      new RegExp(`^rolled-back ${MODEL}/v3: canary error rate \\d+(\\.\\d+)? % \\(\\d+ of \\d+\\)`),
    );
    // the only failures are the injected ones; every other request was answered
    expect(Object.keys(res.traffic.statuses).sort()).toEqual(['200', '503']);
    expect(res.traffic.failed).toBe(res.traffic.statuses['503']);
    const route = await admin.route(MODEL);
    expect(route).toMatchObject({ stable: { version: 'v2' }, canary: null });
    expect(await running(servingContainerName(MODEL, 'v3'))).toBe(false);
    await admin.setRoute(MODEL, { ...route!, faults: {} });
  }, 600_000);

  it('with a stable and no traffic, a step holds (inconclusive), asks a reviewer at the deadline, and a reject rolls it back (exit 3)', async () => {
    const ref = `${MODEL}/v2q`;
    const run = pavedBackground(['release', TWO_STEPS, '--wait', '--version', 'v2q'], env);
    await untilWeight('v2q', 25);
    let status = '';
    for (let i = 0; i < 100 && !status.includes('inconclusive, too little traffic'); i++) {
      status = (await paved(['status', ref], env)).stdout;
      await sleep(200);
    }
    expect(status).toMatch(
      /rollout: 25 % to v2q; inconclusive, too little traffic: holding 25 %: inconclusive: the canary answered \d+ requests/,
    );
    // the deadline (15 s in this policy): the weight held all along, and a reviewer is asked
    let rows: Array<{ release: string; reasons: string[] }> = [];
    for (let i = 0; i < 150 && !rows.some((r) => r.release === ref); i++) {
      rows = JSON.parse((await paved(['reviews', '--json'], env)).stdout) as typeof rows;
      if (!rows.some((r) => r.release === ref)) await sleep(200);
    }
    expect(rows.find((r) => r.release === ref)!.reasons[0]).toMatch(/^v2q at 25 %: inconclusive for \d+ s/);
    expect((await admin.route(MODEL))!.canary).toMatchObject({ version: 'v2q', weight: 25 });
    expect((await paved(['status', ref], env)).stdout).toContain('waiting for a reviewer');
    const rejected = await paved(
      ['reject', ref, '--as', 'bob@example.com', '-m', 'wait for the morning'],
      env,
    );
    expect(rejected.code, rejected.stderr).toBe(0);
    const res = await run.done;
    expect(res.code).toBe(3);
    expect(res.stdout).toContain(`rejected ${ref}: rejected by bob@example.com: wait for the morning`);
    expect(await admin.route(MODEL)).toMatchObject({ stable: { version: 'v2' }, canary: null });
    expect(await running(servingContainerName(MODEL, 'v2q'))).toBe(false);
    const audit = JSON.parse((await paved(['audit', ref, '--json'], env)).stdout) as Array<{
      action: string;
      outputs?: { decision?: string };
    }>;
    const decisions = audit.filter((e) => e.action === 'rollout step 25 %').map((e) => e.outputs!.decision);
    expect(decisions.at(-1)).toBe('review');
    expect(decisions.slice(0, -1).every((d) => d === 'extend')).toBe(true);
    expect(decisions).not.toContain('rollback');
  }, 600_000);

  it('a second release of the model waits for the first rollout to end, and says so', async () => {
    const traffic = startTraffic(gatewayUrl(config), MODEL, BODY, { workers: 4, pauseMs: 10 });
    try {
      // The first bakes long enough for the second to get through its earlier stages
      // (build, bind, a shadow window with two model containers, bias) on a busy CI machine.
      const slow = examplePackage((doc) => {
        doc.name = MODEL;
        doc.rollout = { steps: [25, 100], bake: '40s' };
      });
      const a = pavedBackground(['release', slow, '--wait', '--version', 'q1'], env);
      // 25 % after the stable the tests before this one left
      for (let i = 0; i < 600 && (await admin.route(MODEL))?.canary?.version !== 'q1'; i++) await sleep(100);
      const b = pavedBackground(['release', TWO_STEPS, '--wait', '--version', 'q2'], env);
      let waiting = '';
      for (let i = 0; i < 300 && !waiting.includes('waiting for'); i++) {
        waiting = (await paved(['status', `${MODEL}/q2`], env)).stdout;
        await sleep(200);
      }
      expect(waiting).toContain(`rollout: waiting for ${MODEL}/q1 to finish its rollout`);
      expect((await a.done).code).toBe(0);
      expect((await b.done).code).toBe(0);
      const trail = async (v: string) =>
        JSON.parse((await paved(['audit', `${MODEL}/${v}`, '--json'], env)).stdout) as Array<{
          action: string;
          at: string;
        }>;
      const aEnded = (await trail('q1')).find((e) => e.action === 'release released')!.at;
      const bFirstStep = (await trail('q2')).find((e) => e.action.startsWith('rollout step'))!.at;
      expect(Date.parse(bFirstStep)).toBeGreaterThan(Date.parse(aEnded));
      expect(await admin.route(MODEL)).toMatchObject({ stable: { version: 'q2' }, canary: null });
    } finally {
      await traffic.stop();
    }
  }, 600_000);

  it('pause holds the weight, resume continues, abort rolls back, each in the audit', async () => {
    const threeSteps = examplePackage((doc) => {
      doc.name = MODEL;
      // Long enough that the pause (a CLI process on a busy machine) lands within the 25 % step.
      doc.rollout = { steps: [25, 50, 100], bake: '10s' };
    });
    const res = await releaseWithTraffic(threeSteps, 'v4', async () => {
      await untilWeight('v4', 25);
      expect(
        (await paved(['pause', `${MODEL}/v4`, '--as', 'ops@example.com', '-m', 'incident'], env)).code,
      ).toBe(0);
      await sleep(15_000); // more than a whole window
      expect((await admin.route(MODEL))!.canary).toMatchObject({ version: 'v4', weight: 25 });
      expect((await paved(['resume', `${MODEL}/v4`, '--as', 'ops@example.com'], env)).code).toBe(0);
      await untilWeight('v4', 50);
      expect(
        (await paved(['abort', `${MODEL}/v4`, '--as', 'ops@example.com', '-m', 'enough'], env)).code,
      ).toBe(0);
    });
    expect(res.code).toBe(4);
    expect(res.stdout).toContain(`rolled-back ${MODEL}/v4: aborted by ops@example.com: enough`);
    expect(res.traffic.failed).toBe(0);
    expect(await admin.route(MODEL)).toMatchObject({ stable: { version: 'q2' }, canary: null });
    const audit = JSON.parse((await paved(['audit', `${MODEL}/v4`, '--json'], env)).stdout) as Array<{
      actor: string;
      action: string;
    }>;
    expect(audit.map((e) => `${e.actor}: ${e.action}`)).toEqual(
      expect.arrayContaining([
        'ops@example.com: rollout pause',
        'ops@example.com: rollout resume',
        'ops@example.com: rollout abort',
        'paved: rollout rolled back',
      ]),
    );
  }, 600_000);
});
