import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { PavedConfig } from '../domain/config.js';

function tlsOptions(config: PavedConfig): ConnectionOptions['tls'] {
  const tls = config.temporal.tls;
  if (!tls) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caFile ? readFileSync(tls.caFile) : undefined,
    clientCertPair:
      tls.certFile && tls.keyFile
        ? { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }
        : undefined,
  };
}

/** A client-side connection (CLI, tests, demo) to the configured Temporal frontend. */
export async function connectClient(config: PavedConfig, connectTimeoutMs = 10_000): Promise<Client> {
  const connection = await Connection.connect({
    address: config.temporal.address,
    tls: tlsOptions(config),
    connectTimeout: connectTimeoutMs,
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The worker-side (Rust core) connection. */
export function connectWorker(config: PavedConfig): Promise<NativeConnection> {
  const opts: NativeConnectionOptions = { address: config.temporal.address, tls: tlsOptions(config) };
  return NativeConnection.connect(opts);
}

/** The Temporal UI page of one workflow run, for people to click. */
export function workflowUiUrl(config: PavedConfig, workflowId: string, runId?: string): string {
  const host = config.temporal.address.replace(/:\d+$/, '');
  const base = `http://${host}:${config.temporal.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
