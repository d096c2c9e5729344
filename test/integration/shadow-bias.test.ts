import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { gatewayUrl, PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import { projectPath } from '../../src/adapters/project.js';
import { startTraffic } from '../../src/cli/traffic.js';
import type { ReleaseReport } from '../../src/report/release-report.js';
import { paved, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { examplePackage } from '../support/packages.js';
import { anyRollout, basePolicyDoc, looseLatency } from '../support/rollout-policy.js';

// The shadow and bias stages for real: the worker starts the candidate (and a twin
// of the stable version) in pinned containers, replays the package's held-out
// sample open-loop for the policy's full window, reads Docker stats, joins the
// predictions with colour and sex from Feast, and writes the report.
const config = loadConfig();
const MODEL = `gates-${randomUUID().slice(0, 6)}`;
const ENTITIES = readFileSync(projectPath('examples', 'arrests', 'sample-request-entities.json'), 'utf8');

/**
 * The platform policy as shipped, except that a rollout needs no traffic (nothing
 * sends any here) and the shadow window is shorter; `loose` also lifts the latency
 * budgets, for the test whose subject is the comparison with stable, not the budget.
 */
function policyFile(loose: boolean): string {
  const doc = basePolicyDoc();
  doc.rollout_analysis = { ...doc.rollout_analysis, min_requests: 0, drain: '0s' };
  // 200 requests (20 s at the policy's 10/s) instead of 450: enough for the p99 and
  // for 30 or more in each colour group, and the suite stays within CI's budget.
  doc.shadow = { ...doc.shadow, duration: '20s' };
  anyRollout(doc);
  if (loose) {
    looseLatency(doc);
    // Enough live traffic to replay after half a minute of test traffic (5 % is kept).
    doc.shadow = { ...doc.shadow, min_captured: 10 };
  } else {
    // The slow model queues every request behind the last; with the shipped 5 s timeout a
    // slow VM may answer none of them, and its sentence carries no accuracy figure. A
    // timeout past the queue's length lets them answer (late): the figure is always there.
    doc.shadow = { ...doc.shadow, timeout: '60s' };
  }
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const env = {
  PAVED_TASK_QUEUE: `it-shadow-${randomUUID()}`,
  PAVED_USER: 'ci@example.com',
  PAVED_POLICY: policyFile(false),
};
const looseEnv = {
  ...env,
  PAVED_TASK_QUEUE: `it-shadow-loose-${randomUUID()}`,
  PAVED_POLICY: policyFile(true),
};
let workers: SpawnedWorker[] = [];
beforeAll(async () => {
  workers = await Promise.all([spawnWorker(env), spawnWorker(looseEnv)]);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
});

function report(model: string, version: string): ReleaseReport {
  const file = path.join(config.home, 'reports', model, version, 'report.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ReleaseReport;
}

describe('shadow and bias gates', () => {
  it('examples/arrests-slow stops at shadow with exit 2 and the latency sentence', async () => {
    const v = `slow-${randomUUID().slice(0, 6)}`;
    const res = await paved(
      // The package tightens its own p99 budget to 100 ms (a package may): the 2000-tree
      // forest measured a p99 of 183 ms on a fast run, under the platform's 200.
      [
        'release',
        examplePackage((doc) => (doc.budgets = { p99_ms: 100 }), 'arrests-slow'),
        '--wait',
        '--version',
        v,
      ],
      env,
    );
    expect(res.code, res.stderr).toBe(2);
    // How many held-out requests it answers in time depends on the machine's speed:
    // enough to be called accurate, or too few to judge; either way with its accuracy.
    expect(res.stdout).toMatch(
      /^stopped arrests-slow\/slow-\w+: Your model (is accurate \(accuracy 0\.\d\d on \d+ held-out requests\)|answers \(accuracy \d\.\d\d on \d+ held-out requests, too few answered to judge it\)), but its p99 is \d+ ms, \d+ ms over the 100 ms budget\. Optimize it/,
    );
    const r = report('arrests-slow', v);
    expect(r.shadow!.candidate.accuracy!.labelled).toBeGreaterThan(0);
    expect(r.shadow!.judgement.verdict).toBe('fail');
    expect(r.shadow!.candidate.latency.p99).toBeGreaterThan(100);
    expect(r.shadow!.candidate.resources!.cpuSeconds).toBeGreaterThan(0);
    const html = readFileSync(path.join(config.home, 'reports', 'arrests-slow', v, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('p99 budget 100 ms');
  }, 400_000);

  it('examples/arrests-biased stops at bias with exit 2, naming the group and both rates', async () => {
    const v = `biased-${randomUUID().slice(0, 6)}`;
    const res = await paved(
      ['release', examplePackage(() => {}, 'arrests-biased'), '--wait', '--version', v],
      env,
    );
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toMatch(
      /^stopped arrests-biased\/biased-\w+: Selection rate for colour=Black is 0\.\d\d against 0\.\d\d for colour=White: demographic parity ratio 0\.\d\d, below the 0\.80 minimum\./,
    );
    const md = readFileSync(path.join(config.home, 'reports', 'arrests-biased', v, 'report.md'), 'utf8');
    expect(md).toMatch(/\| colour \| Black \| \d+ \| 0\.\d{3} \|/);
  }, 400_000);

  it('examples/arrests passes both gates; a second release is measured against the first as stable', async () => {
    const pkg = (steps: number[]) =>
      examplePackage((doc) => {
        doc.name = MODEL;
        doc.rollout = { steps, bake: '1s' };
      });
    const first = await paved(['release', pkg([100]), '--wait', '--version', 'v1'], looseEnv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/shadow: p50 [\d.]+ ms, p99 [\d.]+ ms, errors 0\/200/);
    expect(first.stderr).toMatch(
      /bias: colour parity ratio 0\.\d\d, sex parity ratio [01]\.\d\d on 200 predictions/,
    );
    const r1 = report(MODEL, 'v1');
    expect(r1.shadow!.stable).toBeNull();
    expect(r1.sections.map((s) => s.title)).toEqual(['Bias', 'Rollout']);
    expect(r1.sections[0]!.markdown).toContain('| sex | Female |');
    // colour=Black is gated (no "(not gated)"), not merely listed
    expect(r1.sections[0]!.markdown).toMatch(/\| colour \| Black \| \d+ \| [01]\.\d{3} \|/);
    // the model's first release: nothing to compare with, so not judged on live traffic
    expect(r1.sections[1]!.markdown).toContain('was not judged on live traffic');

    // Live traffic to v1 through the gateway, sampled by its capture, is what v2 is measured on.
    const router = PavedGatewayRouter.fromConfig(config);
    // About 10 requests a second: the replay runs at that peak × 1.5 for candidate
    // and stable, which share one core on a two-CPU machine.
    const traffic = startTraffic(gatewayUrl(config), MODEL, ENTITIES, { workers: 1, pauseMs: 100 });
    try {
      const lines = async () => ((await router.capturedTraffic(MODEL)).at(-1) ?? '\n').split('\n').length - 2;
      for (let i = 0; i < 1200 && (await lines()) < 10; i++) await sleep(100);
    } finally {
      await traffic.stop();
    }
    const second = await paved(['release', pkg([50, 100]), '--wait', '--version', 'v2'], looseEnv);
    expect(second.code, second.stderr).toBe(0);
    const r2 = report(MODEL, 'v2');
    expect(r2.shadow!.stable!.version).toBe('v1');
    expect(r2.shadow!.traffic.source).toBe('live capture');
    expect(r2.shadow!.traffic.rateWhy).toMatch(
      /^live peak [\d.]+\/s \([\d.]+\/s recorded at 5 % sampling\) × headroom 1.5/,
    );
    expect(r2.shadow!.stable!.sent).toBe(r2.shadow!.candidate.sent);
    // Same model bytes, same requests: the twins agree on every label. Captured
    // requests carry no labels, so the bias gate measures selection rates only.
    expect(r2.shadow!.agreement!.labelAgreement).toBe(1);
    expect(r2.shadow!.judgement.rows.map((g) => g.metric)).toContain('p99 vs stable');
    expect(r2.sections[0]!.markdown).toMatch(/\| colour \| Black \| \d+ \| [01]\.\d{3} \| [01]\.\d{3} \|/);
    expect(existsSync(path.join(config.home, 'reports', MODEL, 'v2', 'predictions.jsonl'))).toBe(true);
  }, 900_000);
});
