import type Docker from 'dockerode';

/**
 * The one place that starts model containers, so every stage (shadow, rollout)
 * gets the same hardening: read-only root with a small /tmp, no capabilities, no
 * privilege escalation, an unprivileged user, memory/CPU/pid limits, and host
 * networking bound to 127.0.0.1 on a port the workflow allocated.
 */
export interface ModelContainerSpec {
  /** Deterministic, e.g. paved-arrests.v1: a retried activity finds its container. */
  name: string;
  image: string;
  port: number;
  memoryMB: number;
  cpus: number;
  /** CPUs the container may run on (e.g. "1"): the shadow stage pins the versions it compares to the same one. */
  cpuset?: string;
  /** Set only after a human approved an off-path (pickle) release. */
  allowPickle?: boolean;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** Overrides the image's command (tests use it to probe the sandbox). */
  cmd?: string[];
  entrypoint?: string[];
}

export function hardenedCreateOptions(spec: ModelContainerSpec): Docker.ContainerCreateOptions {
  const env = {
    PAVED_BIND: '127.0.0.1',
    PAVED_PORT: String(spec.port),
    ...(spec.allowPickle ? { PAVED_ALLOW_PICKLE: '1' } : {}),
    ...spec.env,
  };
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { 'paved.managed': 'true', ...spec.labels },
    User: '1000:1000',
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    HostConfig: {
      NetworkMode: 'host',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: spec.memoryMB * 1024 * 1024,
      MemorySwap: spec.memoryMB * 1024 * 1024,
      NanoCpus: Math.round(spec.cpus * 1e9),
      ...(spec.cpuset ? { CpusetCpus: spec.cpuset } : {}),
      PidsLimit: 256,
      RestartPolicy: { Name: 'no' },
    },
  };
}

async function existing(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch {
    return undefined;
  }
}

/** Starts (or finds, when already running from the same image) a hardened model container. */
export async function startModelContainer(
  docker: Docker,
  spec: ModelContainerSpec,
): Promise<Docker.Container> {
  const found = await existing(docker, spec.name);
  if (found) {
    const sameImage = found.Config.Image === spec.image;
    if (sameImage && found.State.Running) return docker.getContainer(spec.name);
    await docker.getContainer(spec.name).remove({ force: true });
  }
  const container = await docker.createContainer(hardenedCreateOptions(spec));
  await container.start();
  return container;
}

export async function stopModelContainer(docker: Docker, name: string): Promise<void> {
  const found = await existing(docker, name);
  if (!found) return;
  await docker.getContainer(name).remove({ force: true });
}

/** Waits for the V2 readiness route; on exit or timeout, the error carries the container's last log lines. */
export async function waitReady(
  docker: Docker,
  name: string,
  port: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/health/ready`, {
        signal: AbortSignal.timeout(1000),
      });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    const info = await existing(docker, name);
    if (!info?.State.Running || Date.now() > deadline) {
      const logs = info
        ? (await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: 20 })).toString('utf8')
        : '';
      throw new Error(
        `model container ${name} ${info?.State.Running ? 'not ready in time' : `exited (${info?.State.ExitCode ?? 'gone'})`}:\n${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
