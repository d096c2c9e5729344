import { venvRoot } from '../../src/domain/config.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainerizeActivities, type ContainerizeOutput } from '../../src/activities/containerize.js';
import { packageStore } from '../../src/activities/index.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { sealedCreateOptions } from '../../src/adapters/runtime/docker/hardened.js';
import { endpointClient } from '../../src/adapters/runtime/endpoint-client.js';
import { localModelRuntime } from '../../src/adapters/runtime/local.js';
import { packDirectory } from '../../src/adapters/package-store.js';
import { pushImage } from '../../src/adapters/docker-push.js';
import { projectPath } from '../../src/adapters/project.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { baseImageRef } from '../../src/adapters/stack/base-image.js';
import { venvBin } from '../../src/adapters/stack/python-env.js';
import type { PackageRef, StageOutcome } from '../../src/domain/release.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';

// Real Docker, real registry, real wheelhouse: the activity as the worker runs it.
const config = loadConfig();
const docker = dockerClient(config);
const registry = new RegistryClient(config.registry.address);
const activities = createContainerizeActivities({
  docker,
  registry,
  store: packageStore(config),
  baseImage: baseImageRef(config),
  cacheDir: config.cacheDir,
  home: config.home,
  python: venvBin(venvRoot(config), 'python'),
});
const EXAMPLE = projectPath('examples', 'arrests');
const runtime = localModelRuntime(config);
const containers: string[] = [];
let ref: PackageRef;
let first: StageOutcome<ContainerizeOutput>;

function containerize(): Promise<StageOutcome<ContainerizeOutput>> {
  return new MockActivityEnvironment().run(activities.containerizePackage, {
    model: 'arrests',
    version: 'it',
    template: 'python-sklearn',
    package: ref,
  });
}

beforeAll(async () => {
  ref = await packageStore(config).put(await packDirectory(EXAMPLE));
  first = await containerize();
}, 900_000);
afterAll(async () => {
  for (const name of containers)
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  await runtime.stop(replicaId).catch(() => undefined);
});
let replicaId = '';

/** What the model itself predicts for the sample rows, computed offline with the training venv. */
function offlinePrediction(): { label: number[]; probability: number[] } {
  const script = `
import json, sys, numpy as np, skops.io as sio, yaml
d = sys.argv[1]
m = yaml.safe_load(open(d + '/paved.yaml'))
req = json.load(open(d + '/sample-request.json'))
cols = {i['name']: i['data'] for i in req['inputs']}
X = np.array([cols[f['name']] for f in m['inputs']], dtype=np.float32).T
model = sio.load(d + '/model.skops', trusted=sio.get_untrusted_types(file=d + '/model.skops'))
print(json.dumps({'label': model.predict(X).tolist(), 'probability': model.predict_proba(X)[:, 1].tolist()}))
`;
  const python = path.join(config.home, 'ml-venv', 'bin', 'python');
  return JSON.parse(execFileSync(python, ['-c', script, EXAMPLE], { encoding: 'utf8' })) as {
    label: number[];
    probability: number[];
  };
}

describe('containerize examples/arrests', () => {
  it('pushes an image the registry serves under the recorded digest', async () => {
    expect(first.verdict.kind).toBe('pass');
    const { image, digest } = first.output;
    expect(image).toMatch(
      new RegExp(`^${config.registry.address}/paved/arrests:pkg-[0-9a-f]{12}-t-[0-9a-f]{8}$`),
    );
    const tag = image.split(':').at(-1)!;
    expect(await registry.manifestDigest('paved/arrests', tag)).toBe(digest);
    const labels = (await docker.getImage(image).inspect()).Config.Labels;
    expect(labels).toMatchObject({ 'paved.model': 'arrests', 'paved.package.digest': ref.digest });
  });

  it('an unchanged package is a cache hit with the same digest', async () => {
    const again = await containerize();
    expect(again.output).toMatchObject({
      cached: true,
      digest: first.output.digest,
      image: first.output.image,
    });
  });

  it('runs sealed and hardened, and answers on its socket exactly as the model predicts offline', async () => {
    const replica = await runtime.start({
      model: 'arrests',
      version: 'it-sealed',
      role: 'try',
      image: first.output.image,
      binding: null,
      allowPickle: false,
      limits: { ...loadPolicy().model_limits, memory_mb: 512 },
    });
    replicaId = replica.id;
    expect(replica.endpoint).toMatch(/^unix:\/.+\/model\.sock$/);
    const info = await docker.getContainer(replica.id).inspect();
    expect(info.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
    });
    expect(info.Config.User).toBe('1000:1000');

    const client = endpointClient(replica.endpoint);
    const infer = async (body: string) => {
      const res = await client.request({
        path: '/v2/models/arrests/infer',
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      return {
        status: res.statusCode,
        json: (await res.body.json()) as { outputs: Array<{ name: string; data: number[] }> },
      };
    };
    const sample = readFileSync(path.join(EXAMPLE, 'sample-request.json'), 'utf8');
    const batch = (JSON.parse(sample) as { inputs: Array<{ shape: number[] }> }).inputs[0]!.shape[0]!;
    expect(batch).toBeGreaterThan(1);
    const res = await infer(sample);
    expect(res.status).toBe(200);
    const expected = offlinePrediction();
    expect(expected.probability).toHaveLength(batch);
    expect(res.json.outputs.find((o) => o.name === 'label')!.data).toEqual(expected.label);
    const probs = res.json.outputs.find((o) => o.name === 'probability')!.data;
    // one probability per row: an empty or short array would pass the comparison below
    expect(probs).toHaveLength(batch);
    probs.forEach((p, i) => expect(p).toBeCloseTo(expected.probability[i]!, 6));
    expect((await infer('{"inputs": 3}')).status).toBe(400);
    await client.close();
  });

  it('a container that writes to / fails; /tmp is the only writable place', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-probe-'));
    const probe = async (code: string) => {
      const name = `paved-it-probe-${Math.random().toString(36).slice(2, 10)}`;
      containers.push(name);
      const c = await docker.createContainer(
        sealedCreateOptions({
          name,
          image: first.output.image,
          socketDir: dir,
          memoryMB: 128,
          cpus: 0.5,
          pids: 64,
          entrypoint: ['/opt/venv/bin/python', '-c', code],
        }),
      );
      await c.start();
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      const logs = (await c.logs({ stdout: true, stderr: true })).toString('utf8');
      return { StatusCode, logs };
    };
    const root = await probe("open('/pwned', 'w').write('x')");
    expect(root.StatusCode).not.toBe(0);
    expect(root.logs).toContain('Read-only file system');
    // A hook dropped into the package is refused by the read-only filesystem itself.
    const hook = await probe("open('/model/model.py', 'w').write('x')");
    expect(hook.StatusCode).not.toBe(0);
    expect(hook.logs).toContain("OSError: [Errno 30] Read-only file system: '/model/model.py'");
    // The package's own files are root's, and the kernel checks ownership before the
    // mount: editing one fails for the permission.
    const model = await probe("open('/model/paved.yaml', 'a').write('x')");
    expect(model.StatusCode).not.toBe(0);
    expect(model.logs).toContain("PermissionError: [Errno 13] Permission denied: '/model/paved.yaml'");
    // What is printed is what was read back from /tmp, upper-cased so that it cannot be
    // the probe's own source echoed in a traceback.
    const token = `scratch-${Math.random().toString(36).slice(2, 10)}`;
    const tmp = await probe(
      `open('/tmp/scratch', 'w').write('${token}'); print(open('/tmp/scratch').read().upper())`,
    );
    expect(tmp.StatusCode).toBe(0);
    expect(tmp.logs).toContain(token.toUpperCase());
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a tag someone else pushed', () => {
  it('is not trusted as a cache hit: the image is rebuilt from the package', async () => {
    const tag = first.output.image.split(':').at(-1)!;
    // Overwrite the tag with an unrelated image (the base image has no paved labels).
    const impostor = `${config.registry.address}/paved/arrests:${tag}`;
    await docker
      .getImage(baseImageRef(config))
      .tag({ repo: `${config.registry.address}/paved/arrests`, tag });
    await pushImage(docker, impostor);
    expect((await registry.imageLabels('paved/arrests', tag))?.['paved.package.digest']).toBeUndefined();

    const rebuilt = await containerize();
    expect(rebuilt.output.cached).toBe(false);
    expect((await registry.imageLabels('paved/arrests', tag))?.['paved.package.digest']).toBe(ref.digest);
    expect(await registry.manifestDigest('paved/arrests', tag)).toBe(rebuilt.output.digest);
  });
});
