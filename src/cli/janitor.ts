import type { Client } from '@temporalio/client';
import { replicaHosts } from '../adapters/docker-client.js';
import type { JanitorAuditLog } from '../adapters/janitor-audit.js';
import { PavedGatewayRouter } from '../adapters/router/paved-gateway/client.js';
import type { TrafficRouter } from '../adapters/router/traffic-router.js';
import type { ModelRuntime } from '../adapters/runtime/model-runtime.js';
import { localModelRuntime } from '../adapters/runtime/local.js';
import { connectClient } from '../adapters/temporal-connection.js';
import { runningServingWorkflows, runningWorkflows } from '../adapters/workflow-status.js';
import type { PavedConfig } from '../domain/config.js';
import { PavedError } from '../domain/errors.js';
import {
  findStrays,
  keeperWorkflowIds,
  type JanitorFindings,
  type RunningWorkflows,
  type Stray,
} from '../domain/janitor.js';

export interface JanitorDeps {
  runtime: Pick<ModelRuntime, 'listManaged' | 'stop'>;
  router: Pick<TrafficRouter, 'listRoutes' | 'removeRoute'>;
  /** The given keeper workflows that run, and every running serving workflow. */
  running: (keeperIds: string[]) => Promise<RunningWorkflows>;
}

/**
 * Runs fn with the janitor's view of this installation: the runtime over every host in
 * `docker.hosts`, the gateway's routes, and Temporal. With timeoutMs, every call (connect,
 * Docker, gateway, Temporal) gives up after it, so nothing that does not answer holds fn.
 */
export async function withJanitor<T>(
  config: PavedConfig,
  fn: (deps: JanitorDeps) => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  let client: Client;
  try {
    client = await connectClient(config, timeoutMs ?? 5000);
  } catch (err) {
    throw new PavedError(
      `cannot reach Temporal at ${config.temporal.address} (${(err as Error).message}). Fix: run \`npx paved stack up\`, or set PAVED_TEMPORAL_ADDRESS.`,
    );
  }
  const router = PavedGatewayRouter.fromConfig(config, timeoutMs);
  const ask = async (ids: string[]) => {
    const keepers = await runningWorkflows(client, ids);
    return new Map([...(await runningServingWorkflows(client)), ...keepers]);
  };
  try {
    return await fn({
      runtime: localModelRuntime(config, replicaHosts(config, timeoutMs), router),
      router,
      running: (ids) =>
        timeoutMs === undefined
          ? ask(ids)
          : client.connection.withDeadline(Date.now() + timeoutMs, () => ask(ids)),
    });
  } finally {
    await client.connection.close();
  }
}

/** What is stray now, limited to the given models when there are any. */
export async function survey(deps: JanitorDeps, models: readonly string[] = []): Promise<JanitorFindings> {
  const containers = await deps.runtime.listManaged();
  const routes = await deps.router.listRoutes();
  const found = findStrays({
    containers,
    routes,
    running: await deps.running(keeperWorkflowIds(containers)),
  });
  const wanted = (s: Stray) => models.length === 0 || (s.model !== null && models.includes(s.model));
  return { strays: found.strays.filter(wanted), unkept: found.unkept.filter(wanted) };
}

/**
 * Removes the strays, routes first (so the data plane stops sending to a replica before
 * it goes), each removal one line of the audit trail whether it worked or not. A
 * failure does not stop the others. Answers the strays that could not be removed.
 */
export async function sweep(
  deps: JanitorDeps,
  strays: readonly Stray[],
  audit: JanitorAuditLog,
  actor: string,
): Promise<Array<Stray & { error: string }>> {
  const failed: Array<Stray & { error: string }> = [];
  const ordered = [...strays].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'route' ? -1 : 1));
  for (const s of ordered) {
    let result = 'removed';
    try {
      if (s.kind === 'route') await deps.router.removeRoute(s.name);
      else await deps.runtime.stop(s.name);
    } catch (err) {
      result = `failed: ${(err as Error).message}`;
      failed.push({ ...s, error: (err as Error).message });
    }
    audit.append({
      at: new Date().toISOString(),
      actor,
      via: 'paved janitor',
      action: s.kind === 'route' ? 'remove route' : 'remove container',
      target: s.name,
      model: s.model,
      ...(s.host ? { host: s.host } : {}),
      reason: s.reason,
      result,
    });
  }
  return failed;
}

/**
 * How many strays there are, for `paved stack status`: within timeoutMs whatever does
 * not answer, and never an exception (why it could not count instead).
 */
export async function countStrays(
  config: PavedConfig,
  timeoutMs = 4000,
): Promise<{ count: number } | { count: null; error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const found = await Promise.race([
      withJanitor(config, (deps) => survey(deps), Math.max(1000, timeoutMs - 1000)),
      deadline,
    ]);
    return { count: found.strays.length };
  } catch (err) {
    return { count: null, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
