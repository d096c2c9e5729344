import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { isListening, PortTakenError } from '../../src/adapters/stack/ports.js';
import { MissingPrerequisiteError } from '../../src/adapters/stack/debian.js';
import { isRunning, managedPid, runDir } from '../../src/adapters/stack/processes.js';
import { registry } from '../../src/adapters/stack/registry.js';
import { stackDown, stackStatus, stackUp } from '../../src/adapters/stack/stack.js';
import { temporalServer } from '../../src/adapters/stack/temporal-server.js';
import { featureStore } from '../../src/adapters/stack/feature-store.js';
import { freePort, occupyPort } from '../support/free-port.js';

const config = loadConfig();
const scratch: string[] = [];
function otherHome(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-home-'));
  scratch.push(dir);
  return dir;
}
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

function pids(): Record<string, number | undefined> {
  const names = readdirSync(runDir(config.home)).map((f) => f.replace(/\.pid$/, ''));
  return Object.fromEntries(names.map((n) => [n, managedPid(config.home, n)]));
}

describe('the local stack', () => {
  it('reports docker, the registry, temporal, the base image, the feature store, Envoy and the gateway as healthy', async () => {
    const parts = await stackStatus(config);
    expect(parts.map((p) => p.part)).toEqual([
      'docker',
      'registry',
      'temporal',
      'base-image',
      'feature-store',
      'envoy',
      'gateway',
    ]);
    for (const p of parts) {
      expect(p.healthy, `${p.part}: ${p.detail}`).toBe(true);
      expect(p.version).toBeTruthy();
    }
  });

  it('a second `up` reuses every running part instead of starting another', async () => {
    const before = pids();
    const parts = await stackUp(config);
    expect(parts.every((p) => p.healthy)).toBe(true);
    expect(pids()).toEqual(before);
  });

  it('`down` with another PAVED_HOME stops nothing it did not start', async () => {
    const foreign = loadConfig({ ...process.env, PAVED_HOME: otherHome() });
    const results = await stackDown(foreign);
    expect(results.filter((r) => r.part !== 'base-image').map((r) => r.result)).toEqual(
      Array(6).fill('not started by paved; left alone'),
    );
    expect((await stackStatus(config)).every((p) => p.healthy)).toBe(true);
  });
});

describe('a port taken by something else', () => {
  it('registry: names the port and the process, and leaves it running', async () => {
    const squatter = await occupyPort();
    try {
      const cfg = loadConfig({
        ...process.env,
        PAVED_HOME: otherHome(),
        PAVED_REGISTRY: `127.0.0.1:${squatter.port}`,
      });
      const err = await registry.up(cfg).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortTakenError);
      const msg = (err as Error).message;
      expect(msg).toContain(`port ${squatter.port}`);
      expect(msg).toContain(`process ${process.pid}`);
      expect(msg).toContain('PAVED_REGISTRY=127.0.0.1:<free port>');
      expect((await registry.status(cfg)).healthy).toBe(false);
    } finally {
      await squatter.close();
    }
  });

  it('temporal: refuses to start over it and says how to choose another port', async () => {
    const squatter = await occupyPort();
    try {
      const cfg = loadConfig({
        ...process.env,
        PAVED_HOME: otherHome(),
        PAVED_TEMPORAL_ADDRESS: `127.0.0.1:${squatter.port}`,
      });
      const err = await temporalServer.up(cfg).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortTakenError);
      expect((err as Error).message).toContain('PAVED_TEMPORAL_ADDRESS=127.0.0.1:<free port>');
    } finally {
      await squatter.close();
    }
  });

  it('feature store: refuses to start over it before installing or building anything', async () => {
    const squatter = await occupyPort();
    try {
      const cfg = loadConfig({
        ...process.env,
        PAVED_HOME: otherHome(),
        PAVED_FEATURE_STORE_PORT: String(squatter.port),
      });
      const err = await featureStore.up(cfg).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortTakenError);
      expect((err as Error).message).toContain('PAVED_FEATURE_STORE_PORT=<free port>');
      expect(existsSync(path.join(cfg.home, 'feast-venv'))).toBe(false);
      expect((await featureStore.status(cfg)).detail).toBe('not answering');
    } finally {
      await squatter.close();
    }
  });
});

describe('parts paved starts', () => {
  it('`down` stops what `up` started: a registry of its own, then no process left', async () => {
    const port = await freePort();
    const cfg = loadConfig({ ...process.env, PAVED_HOME: otherHome(), PAVED_REGISTRY: `127.0.0.1:${port}` });
    const up = await registry.up(cfg);
    expect(up).toMatchObject({ healthy: true, managed: true });
    const pid = managedPid(cfg.home, 'registry')!;
    expect(isRunning(pid)).toBe(true);
    expect(await registry.down(cfg)).toBe('stopped docker-registry');
    expect(isRunning(pid)).toBe(false);
    expect(await isListening('127.0.0.1', port)).toBe(false);
  });
});

describe('without root and without Docker', () => {
  it('says what is missing and how to install it, and starts nothing', async () => {
    const home = otherHome();
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const cfg = loadConfig({
      ...process.env,
      PAVED_HOME: home,
      DOCKER_HOST: `unix://${home}/no-docker.sock`,
      PAVED_REGISTRY: `127.0.0.1:${p1}`,
      PAVED_TEMPORAL_ADDRESS: `127.0.0.1:${p2}`,
      PAVED_TEMPORAL_UI_PORT: String(p3),
    });
    // This process runs as root; the stack must behave as it would for uid 65534.
    const uid = vi.spyOn(process, 'getuid').mockReturnValue(65534);
    try {
      const err = await stackUp(cfg).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingPrerequisiteError);
      expect((err as Error).message).toBe(
        `no Docker daemon answers on unix://${home}/no-docker.sock, and starting one needs root. Fix: sudo apt-get install -y docker.io && sudo dockerd &  (or run paved as root, which does this for you)`,
      );
    } finally {
      uid.mockRestore();
    }
    expect(existsSync(path.join(home, 'run')) ? readdirSync(path.join(home, 'run')) : []).toEqual([]);
    for (const port of [p1, p2, p3]) expect(await isListening('127.0.0.1', port)).toBe(false);
  });
});
