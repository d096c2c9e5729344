import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isLoopbackHost, splitHostPort } from '../../domain/config.js';
import { RegistryClient } from '../registry-client.js';
import { ensureDebianPackages, MissingPrerequisiteError } from './debian.js';
import { run } from './exec.js';
import type { PartStatus, StackPart } from './part.js';
import { findPortOwner, isListening, PortTakenError } from './ports.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';

const NAME = 'registry';
const BINARY = '/usr/bin/docker-registry';

async function binaryVersion(): Promise<string | null> {
  try {
    return (await run(BINARY, ['--version'], { timeoutMs: 5000 })).trim().split(/\s+/).pop() ?? null;
  } catch {
    return null;
  }
}

/** Debian's docker-registry (the CNCF distribution registry), storage under PAVED_HOME. */
export const registry: StackPart = {
  name: 'registry',
  daemon: NAME,

  async status(config) {
    const healthy = await new RegistryClient(config.registry.address).ping();
    const managed = managedPid(config.home, NAME) !== undefined;
    return {
      part: 'registry',
      address: `http://${config.registry.address}`,
      version: healthy && managed ? await binaryVersion() : healthy ? 'registry/2.0 API' : null,
      healthy,
      managed,
      detail: healthy ? (managed ? 'started by paved' : 'existing registry') : 'not answering',
    } satisfies PartStatus;
  },

  async up(config) {
    const current = await this.status(config);
    if (current.healthy) return current;
    const { host, port } = splitHostPort(config.registry.address);
    if (!isLoopbackHost(host)) {
      throw new MissingPrerequisiteError(
        `the registry at ${config.registry.address} does not answer, and paved starts one only on loopback`,
        'start that registry, or unset PAVED_REGISTRY to use the local one on 127.0.0.1:5000',
      );
    }
    if (await isListening(host, port)) {
      throw new PortTakenError(
        'registry',
        port,
        findPortOwner(port),
        'set PAVED_REGISTRY=127.0.0.1:<free port>',
      );
    }
    await ensureDebianPackages([{ pkg: 'docker-registry', provides: BINARY }], 'the image registry');
    const dir = path.join(config.home, 'registry');
    mkdirSync(path.join(dir, 'storage'), { recursive: true });
    const configFile = path.join(dir, 'config.yml');
    writeFileSync(
      configFile,
      toYaml({
        version: 0.1,
        log: { level: 'warn', formatter: 'json' },
        storage: { filesystem: { rootdirectory: path.join(dir, 'storage') }, delete: { enabled: true } },
        http: { addr: `${host}:${port}` },
      }),
    );
    const pid = startDaemon(config.home, { name: NAME, command: BINARY, args: ['serve', configFile] });
    await waitUntil('registry', () => new RegistryClient(config.registry.address).ping(500), {
      timeoutMs: 20_000,
      pid,
      onDeath: () =>
        new Error(
          `docker-registry exited while starting (log: ${logPath(config.home, NAME)}):\n${logTail(config.home, NAME)}`,
        ),
    });
    return this.status(config);
  },

  async down(config) {
    return (await stopDaemon(config.home, NAME))
      ? 'stopped docker-registry'
      : 'not started by paved; left alone';
  },
};
