import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { dockerdArgs } from '../../src/adapters/stack/docker-engine.js';
import { startDaemon, stopDaemon, waitUntil } from '../../src/adapters/stack/processes.js';

const NAME = 'dockerd-2';

/**
 * A second Docker daemon on this machine, a host of its own for replicas: its own
 * data root, exec root, socket, cgroup parent and containerd namespaces
 * (MACHINE-FACTS: two daemons on one machine), no bridge, like the stack's first.
 */
export async function startSecondDocker(
  home: string,
): Promise<{ url: string; docker: Docker; stop: () => Promise<void> }> {
  const root = path.join(home, 'docker-2');
  // containerd's socket lives under the exec root: a short path (108 bytes at most).
  const execRoot = '/run/paved-docker-2';
  const socket = path.join(execRoot, 'docker.sock');
  mkdirSync(path.join(root, 'data'), { recursive: true });
  mkdirSync(execRoot, { recursive: true });
  const pid = startDaemon(home, {
    name: NAME,
    command: '/usr/sbin/dockerd',
    args: dockerdArgs({
      host: `unix://${socket}`,
      dataRoot: path.join(root, 'data'),
      execRoot,
      extra: [
        '--cgroup-parent',
        'paved-docker-2',
        '--containerd-namespace',
        'paved2',
        '--containerd-plugins-namespace',
        'paved2-plugins',
      ],
    }),
  });
  const docker = new Docker({ socketPath: socket });
  await waitUntil(
    NAME,
    async () => {
      try {
        await docker.version();
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, pid, onDeath: () => new Error(`${NAME} exited while starting`) },
  );
  return {
    url: `unix://${socket}`,
    docker,
    stop: async () => {
      await stopDaemon(home, NAME, 30_000);
    },
  };
}
