import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { FeatureBinding } from '../../../domain/feature-binding.js';
import type { ManagedContainer } from '../../../domain/janitor.js';
import { servingReplicaName, shadowContainerName } from '../../../domain/rollout.js';
import type { Endpoint, FeatureDoor } from '../../../domain/route.js';
import { endpointClient } from '../endpoint-client.js';
import type { FeatureProxy } from '../../router/feature-proxy.js';
import type { ModelRuntime, Replica, ReplicaRole, ReplicaSpec } from '../model-runtime.js';
import { FEATURE_SOCKET, MODEL_UID, sealedCreateOptions } from './hardened.js';

export function replicaName(
  model: string,
  version: string,
  role: ReplicaRole,
  index = 0,
  measuredFor?: string,
): string {
  if (role === 'serving') return servingReplicaName(model, version, index);
  if (role === 'shadow') return shadowContainerName(model, version, measuredFor);
  return `paved-try-${model}.${version}`;
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

/** A host other than the one that built the image pulls it from the registry. */
async function ensureImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    /* not here yet */
  }
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
  );
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

export interface DockerHost {
  url: string;
  docker: Docker;
}

/**
 * Model replicas as sealed containers on one or more Docker daemons; replica i of a
 * version runs on host i mod n. Each has a directory of its own under `socketRoot`,
 * owned by the model's user and mounted at /run/paved: the server's socket is its
 * door in, and the data plane's feature door (opened before the container starts,
 * closed after it stops) its door out. The daemons share this machine's file system
 * (sockets); across machines, each host would run its own data plane
 * (docs/scale-out.md).
 */
export class DockerModelRuntime implements ModelRuntime {
  private readonly hosts: DockerHost[];

  constructor(
    hosts: Docker | DockerHost[],
    private readonly opts: {
      socketRoot: string;
      features: FeatureProxy;
      /** The platform's exact type names, which a skops model may be built from (the loader checks). */
      allowedTypes?: () => readonly string[];
    },
  ) {
    this.hosts = Array.isArray(hosts) ? hosts : [{ url: 'default', docker: hosts }];
    if (this.hosts.length === 0) throw new Error('DockerModelRuntime needs at least one Docker host');
  }

  private hostFor(index: number): DockerHost {
    return this.hosts[index % this.hosts.length]!;
  }

  private replica(
    name: string,
    info: { model: string; version: string; role: ReplicaRole; image: string; index: number; host: string },
  ): Replica {
    return {
      id: name,
      ...info,
      endpoint: this.endpointOf(name),
    };
  }

  private endpointOf(name: string): Endpoint {
    return `unix:${path.join(socketDir(this.opts.socketRoot, name), 'model.sock')}`;
  }

  /** The host a container of this name runs on, with its inspect output. */
  private async locate(
    name: string,
  ): Promise<{ host: DockerHost; info: Docker.ContainerInspectInfo } | null> {
    for (const host of this.hosts) {
      const info = await inspect(host.docker, name);
      if (info) return { host, info };
    }
    return null;
  }

  async start(spec: ReplicaSpec, readyTimeoutMs = 90_000): Promise<Replica> {
    const index = spec.index ?? 0;
    const name = replicaName(spec.model, spec.version, spec.role, index, spec.measuredFor);
    const host = this.hostFor(index);
    const replica = this.replica(name, { ...spec, index, host: host.url });
    const found = await this.locate(name);
    if (found?.info.State.Running && found.info.Config.Image === spec.image && found.host === host) {
      await this.waitReady(replica, host, readyTimeoutMs);
      return replica;
    }
    if (found) await found.host.docker.getContainer(name).remove({ force: true });
    // A replica that died was never stopped: its door is still open on a socket about to
    // be removed with its directory. Closed first, it is opened again on a fresh socket.
    await this.opts.features.closeFeatureDoor(doorName(name));
    await ensureImage(host.docker, spec.image);
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
    const allowed = this.opts.allowedTypes?.();
    if (allowed) env.PAVED_ALLOWED_TYPES = allowed.join(',');
    const container = await host.docker.createContainer(
      sealedCreateOptions({
        name,
        image: spec.image,
        socketDir: dir,
        memoryMB: spec.limits.memory_mb,
        cpus: spec.limits.cpus,
        pids: spec.limits.pids,
        ...(spec.limits.cpuset ? { cpuset: spec.limits.cpuset } : {}),
        env,
        labels: {
          'paved.release': `${spec.model}/${spec.version}`,
          'paved.role': spec.role,
          'paved.binding': spec.binding ? JSON.stringify(spec.binding) : '',
          'paved.allow-pickle': spec.allowPickle ? '1' : '0',
          'paved.replica': String(index),
          'paved.keeper': spec.keeper ?? '',
        },
      }),
    );
    await container.start();
    try {
      await this.waitReady(replica, host, readyTimeoutMs);
    } catch (err) {
      await this.stop(name); // a replica that never answered is not left behind
      throw err;
    }
    return replica;
  }

  async find(model: string, version: string, role: ReplicaRole, index = 0) {
    const name = replicaName(model, version, role, index);
    const found = await this.locate(name);
    if (!found?.info.State.Running) return null;
    const labels = found.info.Config.Labels ?? {};
    return {
      ...this.replica(name, {
        model,
        version,
        role,
        image: found.info.Config.Image,
        index,
        host: found.host.url,
      }),
      binding: labels['paved.binding'] ? (JSON.parse(labels['paved.binding']) as FeatureBinding) : null,
      allowPickle: labels['paved.allow-pickle'] === '1',
    };
  }

  async list(model: string, role: ReplicaRole): Promise<Replica[]> {
    const out: Replica[] = [];
    for (const host of this.hosts) {
      const running = await host.docker.listContainers({
        filters: { label: ['paved.managed=true', `paved.role=${role}`] },
      });
      for (const c of running) {
        const labels = c.Labels ?? {};
        const [m, version] = (labels['paved.release'] ?? '').split('/');
        if (m !== model || !version) continue;
        const name = (c.Names[0] ?? '').replace(/^\//, '');
        const index = Number(labels['paved.replica'] ?? '0');
        out.push({
          ...this.replica(name, { model, version, role, image: c.Image, index, host: host.url }),
          keeper: labels['paved.keeper'] || null,
        });
      }
    }
    return out;
  }

  async listManaged(): Promise<ManagedContainer[]> {
    const out: ManagedContainer[] = [];
    for (const host of this.hosts) {
      let listed: Docker.ContainerInfo[];
      try {
        listed = await host.docker.listContainers({ all: true, filters: { label: ['paved.managed=true'] } });
      } catch (err) {
        throw new Error(`Docker host ${host.url} does not answer (${(err as Error).message})`);
      }
      for (const c of listed) {
        const labels = c.Labels ?? {};
        const release = labels['paved.release'] ?? '';
        const slash = release.indexOf('/');
        const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
        out.push({
          name,
          model: slash > 0 ? release.slice(0, slash) : null,
          version: slash > 0 ? release.slice(slash + 1) : null,
          role: labels['paved.role'] || null,
          keeper: labels['paved.keeper'] || null,
          host: host.url,
          running: c.State === 'running',
          endpoint: this.endpointOf(name),
        });
      }
    }
    return out;
  }

  async stop(id: string): Promise<void> {
    const found = await this.locate(id);
    if (found) await found.host.docker.getContainer(id).remove({ force: true });
    await this.opts.features.closeFeatureDoor(doorName(id));
    rmSync(socketDir(this.opts.socketRoot, id), { recursive: true, force: true });
  }

  async logs(id: string, tail = 20): Promise<string> {
    const found = await this.locate(id);
    if (!found) return '';
    try {
      return (await found.host.docker.getContainer(id).logs({ stdout: true, stderr: true, tail })).toString(
        'utf8',
      );
    } catch {
      return '';
    }
  }

  /** On exit or timeout, the error carries the container's last log lines. */
  private async waitReady(replica: Replica, host: DockerHost, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let round = 1; ; round++) {
      if (await answersReady(replica.endpoint)) return;
      const info = await inspect(host.docker, replica.id);
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
