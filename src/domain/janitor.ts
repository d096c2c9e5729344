import { routedVersions, type Endpoint, type ModelRoute } from './route.js';

/** A container carrying `paved.managed`, as the runtime lists it (running or not). */
export interface ManagedContainer {
  /** The container's name: what the runtime removes it by. */
  name: string;
  /** From `paved.release`; null when the container has no such label. */
  model: string | null;
  version: string | null;
  role: string | null;
  /** `paved.keeper`; null when it has none (from before keepers, or started outside a workflow). */
  keeper: string | null;
  host: string;
  running: boolean;
  endpoint: Endpoint;
}

/** A keeper label: its workflow id and, for shadow containers, the task queue after `@`. */
export interface Keeper {
  workflowId: string;
  taskQueue: string | null;
}

/** Workflows that run now: id -> the task queue they run on. */
export type RunningWorkflows = ReadonlyMap<string, string>;

/** Null for an empty or malformed label; a workflow id never holds an `@`, a queue name may. */
export function parseKeeper(label: string | null | undefined): Keeper | null {
  if (!label) return null;
  const at = label.indexOf('@');
  if (at === 0 || at === label.length - 1) return null;
  return at < 0
    ? { workflowId: label, taskQueue: null }
    : { workflowId: label.slice(0, at), taskQueue: label.slice(at + 1) };
}

/** A keeper that names a queue runs only when its workflow runs on that queue. */
export function keeperRunning(keeper: Keeper, running: RunningWorkflows): boolean {
  const queue = running.get(keeper.workflowId);
  return queue !== undefined && (keeper.taskQueue === null || keeper.taskQueue === queue);
}

/** The model a serving workflow id (`serving/<model>`, `serving/<queue>/<model>`) is for, else null. */
export function servingWorkflowModel(workflowId: string): string | null {
  if (!workflowId.startsWith('serving/')) return null;
  return workflowId.slice(workflowId.lastIndexOf('/') + 1) || null;
}

export interface Stray {
  kind: 'container' | 'route';
  /** The container's name, or the routed model's. */
  name: string;
  model: string | null;
  /** The Docker host of a container. */
  host?: string;
  /** One sentence: why nothing would ever remove it. */
  reason: string;
}

export interface JanitorFindings {
  strays: Stray[];
  /** Containers without a keeper that are left alone, each with why. */
  unkept: Stray[];
}

function keeperText(k: Keeper): string {
  return k.taskQueue === null ? k.workflowId : `${k.workflowId} on task queue ${k.taskQueue}`;
}

/**
 * What belongs to no running release or serving version. A container whose keeper
 * workflow does not run is stray: its release or serving workflow ended, was
 * terminated by hand, or is unknown to this Temporal namespace. A container without
 * a keeper (from before keepers, or not started by a workflow) cannot be tied to a
 * workflow, so it is stray only when its model has no running serving workflow
 * (which may have adopted it) and no route sends to it (it may be serving live
 * traffic from before serving workflows); one without a model label is only reported.
 * A route is stray when no serving workflow runs for its model and none of the
 * model's serving replicas is left.
 */
export function findStrays(input: {
  containers: readonly ManagedContainer[];
  routes: Readonly<Record<string, ModelRoute>>;
  running: RunningWorkflows;
}): JanitorFindings {
  const served = new Set<string>();
  for (const id of input.running.keys()) {
    const model = servingWorkflowModel(id);
    if (model) served.add(model);
  }
  const routed = new Set<Endpoint>(
    Object.values(input.routes).flatMap((r) => routedVersions(r).flatMap((b) => b.endpoints)),
  );
  const strays: Stray[] = [];
  const unkept: Stray[] = [];
  const left: ManagedContainer[] = [];
  for (const c of input.containers) {
    const verdict = judgeContainer(c, input.running, served, routed);
    const found = { kind: 'container' as const, name: c.name, model: c.model, host: c.host };
    if (verdict.stray) strays.push({ ...found, reason: verdict.reason });
    else left.push(c);
    if (!verdict.stray && verdict.reason) unkept.push({ ...found, reason: verdict.reason });
  }
  for (const [model, route] of Object.entries(input.routes)) {
    if (served.has(model)) continue;
    if (left.some((c) => c.model === model && c.role === 'serving')) continue;
    const versions = routedVersions(route).map((b) => b.version);
    strays.push({
      kind: 'route',
      name: model,
      model,
      reason: `no serving workflow runs for ${model} and none of its serving replicas is left, so the route (${versions.join(', ') || 'no versions'}) sends traffic to nothing that will be kept`,
    });
  }
  return { strays, unkept };
}

/** Stray or not, and why; a kept container with a running keeper needs no reason. */
function judgeContainer(
  c: ManagedContainer,
  running: RunningWorkflows,
  served: ReadonlySet<string>,
  routed: ReadonlySet<Endpoint>,
): { stray: true; reason: string } | { stray: false; reason: string | null } {
  const keeper = parseKeeper(c.keeper);
  if (keeper)
    return keeperRunning(keeper, running)
      ? { stray: false, reason: null }
      : {
          stray: true,
          reason: `its keeper ${keeperText(keeper)} does not run (ended, terminated or unknown to this Temporal namespace), so nothing would ever stop it`,
        };
  const none = c.keeper
    ? `its keeper label ${JSON.stringify(c.keeper)} names no workflow`
    : 'it has no keeper';
  if (c.model === null)
    return {
      stray: false,
      reason: `${none} and no paved.release label, so no model or workflow vouches for it; remove it by hand if nothing uses it`,
    };
  if (served.has(c.model))
    return {
      stray: false,
      reason: `${none}, but ${c.model}'s serving workflow runs and may have adopted it; its reconcile decides`,
    };
  if (routed.has(c.endpoint))
    return {
      stray: false,
      reason: `${none} and ${c.model} has no serving workflow, but the gateway's route sends traffic to it; the next release of ${c.model} makes a serving workflow adopt it`,
    };
  return {
    stray: true,
    reason: `${none}, ${c.model} has no running serving workflow and no route sends traffic to it`,
  };
}

/** Every keeper workflow id the containers name, once each: what to ask Temporal about. */
export function keeperWorkflowIds(containers: readonly ManagedContainer[]): string[] {
  const ids = new Set<string>();
  for (const c of containers) {
    const keeper = parseKeeper(c.keeper);
    if (keeper) ids.add(keeper.workflowId);
  }
  return [...ids];
}
