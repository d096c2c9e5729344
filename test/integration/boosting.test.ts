import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { gatewayUrl, PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import type { ReleaseReport } from '../../src/report/release-report.js';
import { paved, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { examplePackage } from '../support/packages.js';
import { noTrafficPolicy } from '../support/rollout-policy.js';

// The second golden path end to end: examples/arrests-gbt (a LightGBM text model,
// template python-boosting) released through every stage beside examples/arrests
// (skops, python-sklearn), both measured by one shadow window of the same length.
// Then both answer through the data plane as a stock V2 client talks: NVIDIA's
// tritonclient, binary tensors and JSON, equal to what the models' own libraries
// predict offline. Binary requests sampled by the capture come back as JSON.
const config = loadConfig();
const suffix = randomUUID().slice(0, 6);
const work = mkdtempSync(path.join(os.tmpdir(), 'paved-boosting-'));
const python = path.join(config.home, 'ml-venv', 'bin', 'python');
const run = promisify(execFile);

/** The test policy without minimum traffic, a 15 s shadow window (150 requests per version). */
function policyFile(): string {
  const doc = parse(readFileSync(noTrafficPolicy(), 'utf8')) as Record<string, Record<string, unknown>>;
  doc.shadow = { ...doc.shadow, duration: '15s' };
  const file = path.join(work, 'platform.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const env = {
  PAVED_TASK_QUEUE: `it-boosting-${suffix}`,
  PAVED_USER: 'ci@example.com',
  PAVED_POLICY: policyFile(),
};
const MODELS = { gbt: `gbt-${suffix}`, sklearn: `skl-${suffix}` };
const EXAMPLES = { gbt: ['arrests-gbt', 'model.txt'], sklearn: ['arrests', 'model.skops'] } as const;
let worker: SpawnedWorker;
beforeAll(async () => {
  worker = await spawnWorker(env);
});
afterAll(async () => {
  await worker.kill();
});

async function py(script: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(python, [projectPath('test', 'support', script), ...args], {
    timeout: 120_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

function report(model: string): ReleaseReport {
  return JSON.parse(
    readFileSync(path.join(config.home, 'reports', model, 'v1', 'report.json'), 'utf8'),
  ) as ReleaseReport;
}

type Prediction = { label: number[]; probability: number[] };

function expectSame(got: Prediction, want: Prediction, where: string): void {
  expect(got.label, where).toEqual(want.label);
  got.probability.forEach((p, i) => expect(p, `${where} row ${i}`).toBeCloseTo(want.probability[i]!, 5));
}

describe('python-boosting beside python-sklearn', () => {
  const released: Record<string, ReleaseReport> = {};

  it('examples/arrests-gbt and examples/arrests release through every stage with exit 0', async () => {
    const results = await Promise.all(
      (['gbt', 'sklearn'] as const).map(async (kind) => {
        const dir = examplePackage((doc) => (doc.name = MODELS[kind]), EXAMPLES[kind][0]);
        return [kind, await paved(['release', dir, '--wait', '--version', 'v1'], env, 900_000)] as const;
      }),
    );
    for (const [kind, res] of results) {
      expect(res.code, `${kind}: ${res.stderr}`).toBe(0);
      expect(res.stderr).toMatch(/shadow: p50 [\d.]+ ms, p99 [\d.]+ ms, errors 0\/\d+/);
      expect(res.stderr).toMatch(/bias: colour parity ratio/);
      released[kind] = report(MODELS[kind]);
    }
    const gbt = results.find(([kind]) => kind === 'gbt')![1];
    expect(gbt.stderr).toContain('validate: golden path, template python-boosting, lightgbm-text artifact');
    // Side by side for the closing note: the same window, the same machine, at the same time.
    for (const kind of ['gbt', 'sklearn'] as const) {
      const { p50, p99 } = released[kind]!.shadow!.candidate.latency;
      process.stderr.write(`shadow ${EXAMPLES[kind][0]}: p50 ${p50} ms, p99 ${p99} ms\n`);
    }
  }, 1_000_000);

  it('tritonclient (binary and JSON) through the data plane equals the libraries offline', async () => {
    const host = new URL(gatewayUrl(config)).host;
    for (const kind of ['gbt', 'sklearn'] as const) {
      const [example, artifact] = EXAMPLES[kind];
      const request = projectPath('examples', example, 'sample-request.json');
      const offline = (await py('offline_predict.py', [
        projectPath('examples', example, artifact),
        request,
      ])) as unknown as Prediction;
      const probe = (await py('triton_probe.py', [host, MODELS[kind], request])) as {
        server_live: boolean;
        server_ready: boolean;
        server_metadata: { extensions: string[] };
        model_ready: boolean;
        model_metadata: { name: string; versions: string[]; platform: string };
        ways: Record<string, { id: string; outputs: Prediction }>;
      };
      expect(probe).toMatchObject({ server_live: true, server_ready: true, model_ready: true });
      expect(probe.server_metadata.extensions).toContain('binary_tensor_data');
      // The version is the release's, not the manifest's.
      expect(probe.model_metadata).toMatchObject({ name: MODELS[kind], versions: ['v1'] });
      for (const [way, answer] of Object.entries(probe.ways)) {
        expect(answer.id).toBe(`probe-${way}`);
        expectSame(answer.outputs, offline, `${kind} ${way}`);
      }
      // And plain JSON from fetch, the way the examples' README sends it.
      const res = await fetch(`${gatewayUrl(config)}/v2/models/${MODELS[kind]}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: readFileSync(request),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
      const out = Object.fromEntries(body.outputs.map((o) => [o.name, o.data])) as unknown as Prediction;
      expectSame(out, offline, `${kind} fetch`);
    }
  }, 300_000);

  it('binary requests the capture samples are kept as the JSON requests they stand for', async () => {
    const host = new URL(gatewayUrl(config)).host;
    const router = PavedGatewayRouter.fromConfig(config);
    const request = projectPath('examples', 'arrests-gbt', 'sample-request.json');
    const captured = async () =>
      (await router.capturedTraffic(MODELS.gbt))
        .flatMap((f) => f.split('\n').slice(1))
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { request: { inputs: Array<{ data?: unknown[] }> } }).request);
    // Each probe sends three requests (two binary); the capture keeps a share of them.
    for (let i = 0; i < 40 && (await captured()).length < 3; i++)
      await py('triton_probe.py', [host, MODELS.gbt, request]);
    const requests = await captured();
    expect(requests.length).toBeGreaterThanOrEqual(3);
    const sent = (JSON.parse(readFileSync(request, 'utf8')) as { inputs: Array<{ data: number[] }> }).inputs;
    for (const r of requests) {
      expect(r.inputs.map((i) => i.data?.length)).toEqual(sent.map((i) => i.data.length));
      r.inputs.forEach((input, k) =>
        input.data!.forEach((v, j) => expect(v as number).toBeCloseTo(sent[k]!.data[j]!, 4)),
      );
    }
  }, 600_000);
});
