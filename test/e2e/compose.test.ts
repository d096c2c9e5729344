import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { projectPath } from '../../src/adapters/project.js';
import { ensureDebianPackages } from '../../src/adapters/stack/debian.js';
import { buildPlatformImage } from '../../src/adapters/stack/platform-image.js';
import { paved } from '../support/cli.js';
import { freePort } from '../support/free-port.js';
import { examplePackage } from '../support/packages.js';

// docker-compose.yml as a platform team runs it: the platform image built offline,
// every service up on ports of its own beside the test stack, a release from the CLI
// on the host through it, and all of it taken down again.
const execFileP = promisify(execFile);
const config = loadConfig();
const project = `pavede2e${randomUUID().slice(0, 8)}`;
const model = `arrests-compose-${randomUUID().slice(0, 6)}`;
const home = mkdtempSync('/tmp/paved-compose-');
let env: NodeJS.ProcessEnv;

function compose(args: string[], timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
  return execFileP('docker-compose', ['-p', project, '-f', projectPath('docker-compose.yml'), ...args], {
    cwd: projectPath(),
    env,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
}

beforeAll(async () => {
  await ensureDebianPackages(
    [{ pkg: 'docker-compose', provides: '/usr/bin/docker-compose' }],
    'the docker-compose.yml test',
  );
  await buildPlatformImage(config);
  const ports = new Set<number>();
  while (ports.size < 8) ports.add(await freePort());
  const [temporal, ui, registry, features, gateway, admin, dataPlaneAdmin, metrics] = [...ports];
  env = {
    ...process.env,
    // The compose worker polls the default queue.
    PAVED_TASK_QUEUE: 'paved',
    DOCKER_HOST: config.docker.host,
    PAVED_HOME: home,
    PAVED_TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    PAVED_TEMPORAL_UI_PORT: String(ui),
    PAVED_REGISTRY: `127.0.0.1:${registry}`,
    PAVED_FEATURE_STORE_PORT: String(features),
    PAVED_GATEWAY_PORT: String(gateway),
    PAVED_GATEWAY_ADMIN_PORT: String(admin),
    PAVED_DATA_PLANE_ADMIN_PORT: String(dataPlaneAdmin),
    PAVED_METRICS_PORT: String(metrics),
    // The template's wheelhouse is content-keyed: the machine's cache serves both.
    PAVED_CACHE_VOLUME: config.cacheDir,
    PAVED_DOCKER_SOCKET: config.docker.host.replace(/^unix:\/\//, ''),
  };
  await compose(['up', '-d']);
}, 900_000);

afterAll(async () => {
  if (env) await compose(['down', '--volumes', '--timeout', '30']).catch(() => undefined);
  // The worker started the model's replicas on the host's Docker, outside the project.
  const docker = dockerClient(config);
  for (const c of await docker.listContainers({ all: true, filters: { name: [model] } }))
    await docker.getContainer(c.Id).remove({ force: true });
  rmSync(home, { recursive: true, force: true });
}, 300_000);

describe('docker-compose.yml', () => {
  it('runs every service healthy, a release through them to 100 %, and serves the model on its data plane', async () => {
    const ids = (await compose(['ps', '-q'])).stdout.trim().split('\n');
    const states = await Promise.all(ids.map((id) => dockerClient(config).getContainer(id).inspect()));
    const byService = Object.fromEntries(
      states.map((s) => [
        s.Config.Labels['com.docker.compose.service'],
        s.State.Health?.Status ?? s.State.Status,
      ]),
    );
    expect(byService).toEqual({
      temporal: 'healthy',
      registry: 'healthy',
      'feature-store': 'healthy',
      'data-plane': 'healthy',
      'control-plane': 'healthy',
      worker: 'running',
    });
    for (const s of states) expect(s.HostConfig.NetworkMode).toBe('host');

    // The compose worker reads the shipped policy and its rollout floor; a first
    // release takes 100 % once ready, whatever its steps say.
    const pkg = examplePackage((doc) => {
      doc.name = model;
      doc.rollout = { steps: [25, 100], bake: '10s' };
    });
    const release = await paved(['release', pkg, '--wait'], env, 600_000);
    expect(release.code, release.stdout + release.stderr).toBe(0);
    expect(release.stdout).toMatch(
      new RegExp(`^released ${model}/\\w+: passed validate, containerize, bind, shadow, bias, rollout`, 'm'),
    );

    // The image went to the compose registry, whose storage is a named volume.
    const catalog = (await (await fetch(`http://${env.PAVED_REGISTRY}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).toContain(`paved/${model}`);
    const volumes = await dockerClient(config).listVolumes({
      filters: { label: [`com.docker.compose.project=${project}`] },
    });
    expect(volumes.Volumes.map((v) => v.Name).sort()).toEqual(
      ['cache', 'home', 'registry', 'temporal'].map((v) => `${project}_${v}`).sort(),
    );

    const request = readFileSync(path.join(pkg, 'sample-request.json'), 'utf8');
    const res = await fetch(`http://127.0.0.1:${env.PAVED_GATEWAY_PORT}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request,
    });
    const body = (await res.json()) as {
      model_name: string;
      outputs: Array<{ name: string; data: unknown[] }>;
    };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.model_name).toBe(model);
    const inputs = (JSON.parse(request) as { inputs: Array<{ shape: number[] }> }).inputs;
    const label = body.outputs.find((o) => o.name === 'label');
    expect(label?.data).toHaveLength(inputs[0]!.shape[0]!);
  }, 900_000);
});
