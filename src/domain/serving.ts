/**
 * A model's serving state, as its serving workflow keeps it: the versions that
 * serve with their replicas, the route, and the rollout lane (one release at a
 * time changes any of it, in the order they asked). Pure: the workflow holds it,
 * activities act on it.
 */
import type { FeatureBinding } from './feature-binding.js';
import type { Endpoint, ModelRoute } from './route.js';

/** What it takes to start a version's replicas, and how many. */
export interface ServedVersionSpec {
  version: string;
  image: string;
  binding: FeatureBinding | null;
  allowPickle: boolean;
  replicas: number;
}

export interface ServedVersion extends ServedVersionSpec {
  endpoints: Endpoint[];
}

export interface LaneEntry {
  /** The release's workflow id. */
  release: string;
  /** Its request, answered when the lane is granted. */
  request: number;
  since: string;
}

export interface Lane {
  holder: LaneEntry | null;
  queue: LaneEntry[];
}

export interface ReconcileRecord {
  at: string;
  replaced: string[];
  removed: string[];
  /** Why the last reconcile could not finish; the next one tries again. */
  problem: string | null;
}

export interface ServingState {
  model: string;
  versions: ServedVersion[];
  route: ModelRoute | null;
  lane: Lane;
  reconcileEveryMs: number;
  /** Set once the versions already serving (from before this workflow) were found. */
  adopted: boolean;
  last: ReconcileRecord | null;
}

export function emptyServing(model: string, reconcileEveryMs = 10_000): ServingState {
  return {
    model,
    versions: [],
    route: null,
    lane: { holder: null, queue: [] },
    reconcileEveryMs,
    adopted: false,
    last: null,
  };
}

/** A release asks for the lane; asking twice (a retried signal) keeps its first place. */
export function joinLane(lane: Lane, entry: LaneEntry): Lane {
  if (lane.holder?.release === entry.release || lane.queue.some((e) => e.release === entry.release))
    return lane;
  return { ...lane, queue: [...lane.queue, entry] };
}

/** A release leaves the lane, holding it or still waiting. */
export function leaveLane(lane: Lane, release: string): Lane {
  return {
    holder: lane.holder?.release === release ? null : lane.holder,
    queue: lane.queue.filter((e) => e.release !== release),
  };
}

/** The next release in line takes a free lane. */
export function grantNext(lane: Lane): { lane: Lane; granted: LaneEntry | null } {
  if (lane.holder || lane.queue.length === 0) return { lane, granted: null };
  const [next, ...rest] = lane.queue;
  return { lane: { holder: next!, queue: rest }, granted: next! };
}

/** Records a version's replicas (replacing what was known of it). */
export function withVersion(versions: readonly ServedVersion[], v: ServedVersion): ServedVersion[] {
  return [...versions.filter((x) => x.version !== v.version), v];
}

/**
 * The route with each version's endpoints as its replicas now answer; the same
 * object when nothing changed, so the caller knows not to set it.
 */
export function routeWithEndpoints(
  route: ModelRoute | null,
  endpoints: Readonly<Record<string, readonly Endpoint[]>>,
): ModelRoute | null {
  if (!route) return route;
  const same = (a: readonly Endpoint[], b: readonly Endpoint[]) =>
    a.length === b.length && [...a].sort().every((e, i) => e === [...b].sort()[i]);
  let changed = false;
  const fix = <B extends { version: string; endpoints: Endpoint[] }>(b: B | null): B | null => {
    const now = b ? endpoints[b.version] : undefined;
    if (!b || !now || now.length === 0 || same(b.endpoints, now)) return b;
    changed = true;
    return { ...b, endpoints: [...now] };
  };
  const next = { ...route, stable: fix(route.stable), canary: fix(route.canary), shadow: fix(route.shadow) };
  return changed ? next : route;
}
