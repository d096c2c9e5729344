import type Docker from 'dockerode';

/**
 * How a model container is created: sealed and hardened. No network at all (Docker's
 * `none`: the container has its own loopback only), read-only root with a small /tmp,
 * no capabilities, no privilege escalation, an unprivileged user, memory/CPU/pid
 * limits. The one directory mounted in (`/run/paved`) holds its door in (the socket its
 * server listens on) and its door out (the feature proxy's socket).
 */
export const SOCKET_DIR_IN_CONTAINER = '/run/paved';
export const MODEL_SOCKET = `${SOCKET_DIR_IN_CONTAINER}/model.sock`;
export const FEATURE_SOCKET = `${SOCKET_DIR_IN_CONTAINER}/features.sock`;
/** The unprivileged user model code runs as; it owns its socket directory. */
export const MODEL_UID = 1000;

export interface SealedContainerSpec {
  /** Deterministic, e.g. paved-arrests.v1: a retried activity finds its container. */
  name: string;
  image: string;
  /** Host directory mounted at /run/paved. */
  socketDir: string;
  memoryMB: number;
  cpus: number;
  pids: number;
  cpuset?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** Overrides the image's command (tests use it to probe the sandbox). */
  cmd?: string[];
  entrypoint?: string[];
}

export function sealedCreateOptions(spec: SealedContainerSpec): Docker.ContainerCreateOptions {
  const env = { PAVED_SOCKET: MODEL_SOCKET, ...spec.env };
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { 'paved.managed': 'true', ...spec.labels },
    User: `${MODEL_UID}:${MODEL_UID}`,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    HostConfig: {
      NetworkMode: 'none',
      Binds: [`${spec.socketDir}:${SOCKET_DIR_IN_CONTAINER}:rw`],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: spec.memoryMB * 1024 * 1024,
      MemorySwap: spec.memoryMB * 1024 * 1024,
      NanoCpus: Math.round(spec.cpus * 1e9),
      ...(spec.cpuset ? { CpusetCpus: spec.cpuset } : {}),
      PidsLimit: spec.pids,
      RestartPolicy: { Name: 'no' },
      // Its stdout is untrusted too: a model that prints in a loop must not fill the host's disk.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}
