import { venvRoot } from '../../src/domain/config.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBindActivities, type BindOutput } from '../../src/activities/bind.js';
import { createContainerizeActivities, type ContainerizeOutput } from '../../src/activities/containerize.js';
import { packageStore } from '../../src/activities/index.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { FeatureServerClient } from '../../src/adapters/feature-store/feature-server.js';
import { LocalFeast } from '../../src/adapters/feature-store/local-feast.js';
import { DockerModelRuntime } from '../../src/adapters/runtime/docker/docker-runtime.js';
import { endpointClient } from '../../src/adapters/runtime/endpoint-client.js';
import { startLocalGateway, type LocalGateway } from '../support/local-gateway.js';
import { packDirectory } from '../../src/adapters/package-store.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { baseImageRef } from '../../src/adapters/stack/base-image.js';
import { FEATURE_SERVER, startFeatureServer } from '../../src/adapters/stack/feature-store.js';
import { stopDaemon } from '../../src/adapters/stack/processes.js';
import { feastVenvBin, venvBin } from '../../src/adapters/stack/python-env.js';
import type { Manifest } from '../../src/domain/manifest.js';
import type { StageOutcome } from '../../src/domain/release.js';
import { freePort } from '../support/free-port.js';

// A Feast store of its own (pipeline, registry, online store, `feast serve`), built
// by the real pipeline with the stack's Feast venv, so corrupting it on purpose
// cannot disturb the stack's store or another test.
const config = loadConfig();
const home = mkdtempSync(path.join(os.tmpdir(), 'paved-feast-'));
const feast = new LocalFeast(feastVenvBin(venvRoot(config), 'python'), path.join(home, 'featurestore'));
const pipelineLog = path.join(home, 'pipeline.log');
const EXAMPLE = projectPath('examples', 'arrests');
const manifest = parseYaml(readFileSync(path.join(EXAMPLE, 'paved.yaml'), 'utf8')) as Manifest;
// seed 10 for the sample, as the activity derives it from the digest
const DIGEST = `sha256:0000000a${'0'.repeat(56)}`;
const DAY_MS = 86_400_000;
let server: FeatureServerClient;
const replicas: string[] = [];
/** A gateway of the test's own: its feature doors lead to this test's feature server. */
let gateway: LocalGateway;
let runtime: DockerModelRuntime;

function bind(): Promise<StageOutcome<BindOutput>> {
  const activities = createBindActivities({ feast, server, policy: () => loadPolicy() });
  return activities.bindFeatures({ model: 'arrests', version: 'it', packageDigest: DIGEST, manifest });
}

beforeAll(async () => {
  // The store's last materialization ends three days ago: the data pipeline "stopped".
  await feast.runPipeline(pipelineLog, new Date(Date.now() - 3 * DAY_MS));
  const port = await freePort();
  server = new FeatureServerClient(`http://127.0.0.1:${port}`);
  await startFeatureServer({ home, feast, port, feastBin: feastVenvBin(venvRoot(config), 'feast') });
  gateway = await startLocalGateway({ featureServerPort: port });
  runtime = new DockerModelRuntime(dockerClient(config), {
    socketRoot: path.join(gateway.dir, 'replicas'),
    features: gateway.router,
  });
}, 300_000);

afterAll(async () => {
  for (const id of replicas) await runtime.stop(id).catch(() => undefined);
  await gateway?.close();
  await stopDaemon(home, FEATURE_SERVER);
  rmSync(home, { recursive: true, force: true });
});

describe('the bind stage on a real Feast store', () => {
  it('fails when materialization stopped, naming the view, its age and its TTL', async () => {
    const out = await bind();
    expect(out.verdict.kind).toBe('fail');
    const reason = out.verdict.kind === 'fail' ? out.verdict.reason : '';
    expect(reason).toContain(
      '`person_profile` was last materialized 3 days ago, TTL is 1 day — run the pipeline (featurestore/pipeline.py, or `paved stack up`)',
    );
    expect(reason).toContain('`person_record` was last materialized 3 days ago, TTL is 1 day');
  });

  it('binds examples/arrests once the pipeline ran: every input found, fresh, no skew', async () => {
    await feast.runPipeline(pipelineLog);
    const out = await bind();
    expect(out.verdict, out.summary).toEqual({ kind: 'pass' });
    const report = out.output.report!;
    expect(report.binding).toMatchObject({
      server: server.url,
      service: 'arrests_model',
      entityKey: 'person_id',
    });
    expect(report.binding.inputs.map((i) => [i.name, i.ref, i.feastDtype])).toEqual([
      ['age', 'person_profile__age', 'Float32'],
      ['employed', 'person_profile__employed', 'Float32'],
      ['citizen', 'person_profile__citizen', 'Float32'],
      ['checks', 'person_record__checks', 'Float32'],
      ['year', 'person_record__year', 'Float32'],
    ]);
    expect(report.sampleSize).toBe(200);
    expect(report.skew.map((s) => [s.ref, s.compared, s.mismatches])).toEqual(
      report.binding.inputs.map((i) => [i.ref, 200, 0]),
    );
    for (const f of report.freshness) expect(f.ageSeconds!).toBeLessThan(f.limitSeconds!);
    console.log(`bind figures: ${out.summary}; freshness ${JSON.stringify(report.freshness)}`);
  });

  it('a wrong feature service is a verdict that lists the services there are', async () => {
    const activities = createBindActivities({ feast, server, policy: () => loadPolicy() });
    const out = await activities.bindFeatures({
      model: 'arrests',
      version: 'it',
      packageDigest: DIGEST,
      manifest: { ...manifest, features: { service: 'arrests_modle', request: [] } },
    });
    expect(out.verdict).toEqual({
      kind: 'fail',
      reason:
        "feature service 'arrests_modle' is not in the registry (it has: arrests_model, arrests_sensitive) — fix features.service in paved.yaml",
    });
  });

  it('fails on skew when one online value is corrupted, naming the feature and the entity', async () => {
    const sample = await feast.inspect({ service: 'arrests_model', sampleSize: 200, seed: 10 });
    const victim = sample.sample.entities[0]!;
    const checks = sample.sample.offline.person_record__checks![0] as number;
    const year = sample.sample.offline.person_record__year![0] as number;
    const now = new Date().toISOString();
    await server.writeOnline('person_record', {
      person_id: [victim],
      checks: [checks + 5],
      year: [year],
      event_timestamp: [now],
      created: [now],
    });
    const out = await bind();
    expect(out.verdict.kind).toBe('fail');
    expect(out.verdict.kind === 'fail' && out.verdict.reason).toBe(
      `feature \`checks\` (person_record__checks) differs between the online and the offline store for 1 of 200 ` +
        `sampled entities (0.5 %, limit 0 %), e.g. person_id ${victim}: online ${checks + 5}, offline ${checks} — ` +
        're-materialize (featurestore/pipeline.py) and find what wrote to the online store',
    );
    const skew = out.output.report!.skew;
    expect(skew.filter((s) => s.mismatches > 0).map((s) => s.ref)).toEqual(['person_record__checks']);
  });
});

describe('the template serves by entity key through the binding', () => {
  it('predicts for person ids exactly what it predicts for the same rows sent by value', async () => {
    // Undo the corruption of the previous test: the pipeline rewrites every online value.
    await feast.runPipeline(pipelineLog);
    const bound = await bind();
    expect(bound.verdict).toEqual({ kind: 'pass' });

    const docker = dockerClient(config);
    const store = packageStore(config);
    const ref = await store.put(await packDirectory(EXAMPLE));
    const built: StageOutcome<ContainerizeOutput> = await new MockActivityEnvironment().run(
      createContainerizeActivities({
        docker,
        registry: new RegistryClient(config.registry.address),
        store,
        baseImage: baseImageRef(config),
        cacheDir: config.cacheDir,
        home: config.home,
        python: venvBin(venvRoot(config), 'python'),
      }).containerizePackage,
      { model: 'arrests', version: 'it', template: 'python-sklearn', package: ref },
    );
    const replica = await runtime.start(
      {
        model: 'arrests',
        version: 'it-features',
        role: 'try',
        image: built.output.image,
        binding: bound.output.report!.binding,
        allowPickle: false,
        limits: { ...loadPolicy().model_limits, memory_mb: 512 },
      },
      60_000,
    );
    replicas.push(replica.id);
    const client = endpointClient(replica.endpoint);
    const infer = async (body: unknown) => {
      const res = await client.request({
        path: '/v2/models/arrests/infer',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };
    const byKey = await infer(
      JSON.parse(readFileSync(path.join(EXAMPLE, 'sample-request-entities.json'), 'utf8')),
    );
    const byValue = await infer(JSON.parse(readFileSync(path.join(EXAMPLE, 'sample-request.json'), 'utf8')));
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(200);
    expect(byValue.status).toBe(200);
    expect(byKey.body.outputs).toEqual(byValue.body.outputs);

    const missing = await infer({
      inputs: [{ name: 'person_id', shape: [2], datatype: 'INT64', data: [1, 999999] }],
    });
    expect(missing).toEqual({
      status: 404,
      body: { error: 'person_id 999999: not found in feature service arrests_model' },
    });
  }, 900_000);
});
