import { request } from 'undici';
import { gatewayUrl } from '../gateway-admin.js';
import { projectPath } from '../project.js';
import type { PartStatus, StackPart } from './part.js';
import { findPortOwner, isListening, PortTakenError } from './ports.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';

const NAME = 'gateway';

async function live(url: string): Promise<boolean> {
  try {
    const res = await request(`${url}/v2/health/live`, { headersTimeout: 1000, bodyTimeout: 1000 });
    const body = await res.body.text();
    return res.statusCode === 200 && body.includes('live');
  } catch {
    return false;
  }
}

/** paved's serving gateway (`paved gateway`), a daemon of this PAVED_HOME. */
export const gateway: StackPart = {
  name: 'gateway',

  async status(config) {
    const url = gatewayUrl(config);
    const healthy = await live(url);
    return {
      part: 'gateway',
      address: url,
      version: healthy ? 'paved' : null,
      healthy,
      managed: managedPid(config.home, NAME) !== undefined,
      detail: healthy ? 'routes in PAVED_HOME/gateway/routes.json' : 'not answering',
    } satisfies PartStatus;
  },

  async up(config) {
    const url = gatewayUrl(config);
    if (await live(url)) return this.status(config);
    const port = config.gateway.port;
    if (await isListening('127.0.0.1', port)) {
      throw new PortTakenError('gateway', port, findPortOwner(port), 'set PAVED_GATEWAY_PORT=<free port>');
    }
    const pid = startDaemon(config.home, {
      name: NAME,
      command: process.execPath,
      args: [projectPath('bin', 'paved.js'), 'gateway'],
      env: { ...process.env, PAVED_HOME: config.home, PAVED_GATEWAY_PORT: String(port) },
    });
    await waitUntil('gateway', () => live(url), {
      timeoutMs: 30_000,
      pid,
      onDeath: () =>
        new Error(
          `the gateway exited while starting (log: ${logPath(config.home, NAME)}):\n${logTail(config.home, NAME)}`,
        ),
    });
    return this.status(config);
  },

  async down(config) {
    return (await stopDaemon(config.home, NAME)) ? 'stopped the gateway' : 'not started by paved; left alone';
  },
};
