import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { gatewayAdminUrl } from '../router/paved-gateway/client.js';
import { projectPath } from '../project.js';
import type { PartStatus, StackPart } from './part.js';
import { findPortOwner, isListening, PortTakenError } from './ports.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';

const NAME = 'gateway';

/** A hash of the gateway's sources: a running gateway with another build is restarted by `up`. */
export function gatewayBuild(): string {
  const dir = projectPath('src', 'gateway');
  const hash = createHash('sha256');
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = path.join(dir, f);
    if (statSync(file).isFile()) hash.update(f).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 12);
}

/** The build of the control plane answering at url, or null when nothing answers like one. */
async function liveBuild(url: string): Promise<string | null> {
  try {
    const res = await request(`${url}/healthz`, { headersTimeout: 3000, bodyTimeout: 3000 });
    const body = (await res.body.json()) as { live?: boolean; build?: string | null };
    return res.statusCode === 200 && body.live ? (body.build ?? 'unknown') : null;
  } catch {
    return null;
  }
}

async function live(url: string): Promise<boolean> {
  return (await liveBuild(url)) === gatewayBuild();
}

/** The gateway's control plane (`paved gateway`), a daemon of this PAVED_HOME. */
export const gateway: StackPart = {
  name: 'gateway',
  daemon: NAME,

  async status(config) {
    const url = gatewayAdminUrl(config);
    const build = await liveBuild(url);
    const healthy = build === gatewayBuild();
    return {
      part: 'gateway',
      address: url,
      version: build ? `build ${build}` : null,
      healthy,
      managed: managedPid(config.home, NAME) !== undefined,
      detail: healthy
        ? 'control plane; routes in PAVED_HOME/gateway/routes.json'
        : build
          ? `runs build ${build}, the code is ${gatewayBuild()}; \`stack up\` restarts it`
          : 'not answering',
    } satisfies PartStatus;
  },

  async up(config) {
    const url = gatewayAdminUrl(config);
    if (await live(url)) return this.status(config);
    // Ours but stale: restart it (routes are on disk, so it serves the same versions).
    if ((await liveBuild(url)) !== null) await stopDaemon(config.home, NAME);
    const port = config.gateway.adminPort;
    if (await isListening('127.0.0.1', port)) {
      throw new PortTakenError(
        'gateway',
        port,
        findPortOwner(port),
        'set PAVED_GATEWAY_ADMIN_PORT=<free port>',
      );
    }
    const pid = startDaemon(config.home, {
      name: NAME,
      command: process.execPath,
      args: [projectPath('bin', 'paved.js'), 'gateway'],
      env: { ...process.env, PAVED_HOME: config.home },
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
