import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { PavedConfig } from '../../domain/config.js';
import { dockerClient } from '../docker-client.js';
import { ensureDebianPackages, MissingPrerequisiteError } from './debian.js';
import { isRoot } from './exec.js';
import type { PartStatus, StackPart } from './part.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';

const NAME = 'dockerd';

async function engineVersion(config: PavedConfig): Promise<string | null> {
  try {
    const v = await dockerClient(config).version();
    return v.Version;
  } catch {
    return null;
  }
}

/**
 * Docker Engine. A daemon that already answers is used as it is. Otherwise paved
 * starts Debian's dockerd itself, without a bridge or iptables rules: model
 * containers use host networking and bind to 127.0.0.1 only.
 */
/**
 * A daemon of paved's own: no bridge, no iptables rules (models get no network),
 * its own data and exec roots. `extra` keeps a second daemon on the same machine
 * apart (cgroup parent, containerd namespaces).
 */
export function dockerdArgs(d: {
  host: string;
  dataRoot: string;
  execRoot: string;
  extra?: string[];
}): string[] {
  return [
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--host',
    d.host,
    '--data-root',
    d.dataRoot,
    '--exec-root',
    d.execRoot,
    '--pidfile',
    path.join(d.execRoot, 'dockerd.pid'),
    '--log-level',
    'warn',
    ...(d.extra ?? []),
  ];
}

export const dockerEngine: StackPart = {
  name: 'docker',

  async status(config) {
    const version = await engineVersion(config);
    const managed = managedPid(config.home, NAME) !== undefined;
    return {
      part: 'docker',
      address: config.docker.host,
      version,
      healthy: version !== null,
      managed,
      detail: version ? (managed ? 'started by paved' : 'existing daemon') : 'not answering',
    } satisfies PartStatus;
  },

  async up(config) {
    const current = await this.status(config);
    if (current.healthy) return current;
    const host = config.docker.host;
    if (!host.startsWith('unix://')) {
      throw new MissingPrerequisiteError(
        `Docker at ${host} does not answer, and paved starts a daemon only on a local unix socket`,
        'start that Docker daemon, or unset DOCKER_HOST to let paved start one locally',
      );
    }
    if (!isRoot()) {
      throw new MissingPrerequisiteError(
        `no Docker daemon answers on ${host}, and starting one needs root`,
        'sudo apt-get install -y docker.io && sudo dockerd &  (or run paved as root, which does this for you)',
      );
    }
    await ensureDebianPackages([{ pkg: 'docker.io', provides: '/usr/sbin/dockerd' }], 'the Docker Engine');
    const socket = host.slice('unix://'.length);
    const dataRoot = path.join(config.home, 'docker', 'data');
    // Unix socket paths are limited to 108 bytes, so the exec root (which holds
    // containerd's socket) lives in /run, keyed by PAVED_HOME to keep stacks apart.
    const execRoot = `/run/paved-docker-${createHash('sha256').update(config.home).digest('hex').slice(0, 10)}`;
    mkdirSync(dataRoot, { recursive: true });
    mkdirSync(path.dirname(socket), { recursive: true });
    const pid = startDaemon(config.home, {
      name: NAME,
      command: '/usr/sbin/dockerd',
      args: dockerdArgs({ host, dataRoot, execRoot }),
    });
    await waitUntil('dockerd', async () => (await engineVersion(config)) !== null, {
      timeoutMs: 60_000,
      pid,
      onDeath: () =>
        new Error(
          `dockerd exited while starting (log: ${logPath(config.home, NAME)}):\n${logTail(config.home, NAME)}`,
        ),
    });
    return this.status(config);
  },

  async down(config) {
    return (await stopDaemon(config.home, NAME, 30_000))
      ? 'stopped dockerd'
      : 'not started by paved; left alone';
  },
};
