import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { FeatureBinding } from '../../../domain/feature-binding.js';
import { servingContainerName, shadowContainerName } from '../../../domain/rollout.js';
import type { Endpoint, FeatureDoor } from '../../../domain/route.js';
import { endpointClient } from '../endpoint-client.js';
import type { FeatureProxy } from '../../router/feature-proxy.js';
import type { ModelRuntime, Replica, ReplicaRole, ReplicaSpec } from '../model-runtime.js';
import { FEATURE_SOCKET, MODEL_UID, sealedCreateOptions } from './hardened.js';

export function replicaName(model: string, version: string, role: ReplicaRole): string {
  if (role === 'serving') return servingContainerName(model, version);
  if (role === 'shadow') return shadowContainerName(model, version);
  return `paved-try-${model}.${version}`.slice(0, 120);
}

/** A short, fixed directory per replica: a unix socket path has at most 107 bytes. */
function socketDir(root: string, name: string): string {
  return path.join(root, createHash('sha256').update(name).digest('hex').slice(0, 16));
}

function doorName(name: string): string {
  return createHash('sha256').update(`door:${name}`).digest('hex').slice(0, 24);
}

/** The binding's features as the door lets them through. */
export function featureDoor(binding: FeatureBinding, socket: string, owner: string): FeatureDoor {
  return {
    socket,
    owner,
    service: binding.service,
    entityKey: binding.entityKey,
    features: binding.inputs.flatMap((i) => (i.ref ? [i.ref] : [])),
  };
}

async function inspect(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch {
    return undefined;
  }
}

/** The V2 readiness route, over the replica's socket. */
async function answersReady(endpoint: Endpoint): Promise<boolean> {
  const client = endpointClient(endpoint, 1000);
  try {
    const res = await client.request({ path: '/v2/health/ready', method: 'GET' });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Model replicas as sealed containers on one Docker daemon. Each has a directory of
 * its own under `socketRoot`, owned by the model's user and mounted at /run/paved: the
 * server's socket is its door in, and the data plane's feature door (opened before the
 * container starts, closed after it stops) its door out.
 */
export class DockerModelRuntime implements ModelRuntime {
  constructor(
    private readonly docker: Docker,
    private readonly opts: { socketRoot: string; features: FeatureProxy },
  ) {}

  private replica(
    name: string,
    info: { model: string; version: string; role: ReplicaRole; image: string },
  ): Replica {
    return {
      id: name,
      ...info,
      endpoint: `unix:${path.join(socketDir(this.opts.socketRoot, name), 'model.sock')}`,
    };
  }

  async start(spec: ReplicaSpec, readyTimeoutMs = 90_000): Promise<Replica> {
    const name = replicaName(spec.model, spec.version, spec.role);
    const replica = this.replica(name, spec);
    const found = await inspect(this.docker, name);
    if (found?.State.Running && found.Config.Image === spec.image) {
      await this.waitReady(replica, readyTimeoutMs);
      return replica;
    }
    if (found) await this.docker.getContainer(name).remove({ force: true });
    const dir = socketDir(this.opts.socketRoot, name);
    rmSync(dir, { recursive: true, force: true }); // a socket left by a dead replica would refuse the new one
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      chownSync(dir, MODEL_UID, MODEL_UID);
    } catch {
      chmodSync(dir, 0o777); // not root: the model's user still needs to create its socket here
    }
    const env: Record<string, string> = { PAVED_MODEL_NAME: spec.model, PAVED_MODEL_VERSION: spec.version };
    if (spec.binding) {
      const owner = `${spec.model}/${spec.version} (${spec.role})`;
      await this.opts.features.openFeatureDoor(
        doorName(name),
        featureDoor(spec.binding, path.join(dir, 'features.sock'), owner),
      );
      // The model learns its door, never the feature server's address.
      env.PAVED_FEATURE_BINDING = JSON.stringify({ ...spec.binding, server: `unix:${FEATURE_SOCKET}` });
    }
    if (spec.allowPickle) env.PAVED_ALLOW_PICKLE = '1';
    const container = await this.docker.createContainer(
      sealedCreateOptions({
        name,
        image: spec.image,
        socketDir: dir,
        memoryMB: spec.limits.memoryMB,
        cpus: spec.limits.cpus,
        pids: spec.limits.pids,
        ...(spec.limits.cpuset ? { cpuset: spec.limits.cpuset } : {}),
        env,
        labels: {
          'paved.release': `${spec.model}/${spec.version}`,
          'paved.role': spec.role,
          'paved.binding': spec.binding ? JSON.stringify(spec.binding) : '',
          'paved.allow-pickle': spec.allowPickle ? '1' : '0',
        },
      }),
    );
    await container.start();
    try {
      await this.waitReady(replica, readyTimeoutMs);
    } catch (err) {
      await this.stop(name); // a replica that never answered is not left behind
      throw err;
    }
    return replica;
  }

  async find(model: string, version: string, role: ReplicaRole) {
    const name = replicaName(model, version, role);
    const info = await inspect(this.docker, name);
    if (!info?.State.Running) return null;
    const labels = info.Config.Labels ?? {};
    return {
      ...this.replica(name, { model, version, role, image: info.Config.Image }),
      binding: labels['paved.binding'] ? (JSON.parse(labels['paved.binding']) as FeatureBinding) : null,
      allowPickle: labels['paved.allow-pickle'] === '1',
    };
  }

  async stop(id: string): Promise<void> {
    if (await inspect(this.docker, id)) await this.docker.getContainer(id).remove({ force: true });
    await this.opts.features.closeFeatureDoor(doorName(id));
    rmSync(socketDir(this.opts.socketRoot, id), { recursive: true, force: true });
  }

  async logs(id: string, tail = 20): Promise<string> {
    try {
      return (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail })).toString('utf8');
    } catch {
      return '';
    }
  }

  /** On exit or timeout, the error carries the container's last log lines. */
  private async waitReady(replica: Replica, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let round = 1; ; round++) {
      if (await answersReady(replica.endpoint)) return;
      const info = await inspect(this.docker, replica.id);
      const over = !info?.State.Running || Date.now() > deadline;
      // Every two seconds, and at the end: a server that came up on TCP will never answer here.
      if (over || round % 8 === 0) {
        const logs = info ? await this.logs(replica.id) : '';
        if (/Uvicorn running on http:/.test(logs))
          throw new Error(
            `model container ${replica.id} serves on TCP, not on its socket: its image was built with a runtime from before sealed replicas. Fix: release the package again under a new --version, which rebuilds the image`,
          );
        if (over)
          throw new Error(
            `model container ${replica.id} ${info?.State.Running ? 'not ready in time' : `exited (${info?.State.ExitCode ?? 'gone'})`}:\n${logs}`,
          );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
