import type { FeatureBinding } from '../../domain/feature-binding.js';
import type { ManagedContainer } from '../../domain/janitor.js';
import type { Endpoint } from '../../domain/route.js';

export type ReplicaRole = 'serving' | 'shadow' | 'try';

/** The policy's `model_limits:`, as it writes them, and the shadow stage's pinning. */
export interface ReplicaLimits {
  cpus: number;
  memory_mb: number;
  pids: number;
  /** CPUs the replica may run on: the shadow stage pins the versions it compares to one. */
  cpuset?: string;
}

export interface ReplicaSpec {
  model: string;
  version: string;
  role: ReplicaRole;
  image: string;
  /** The release's feature binding: its door out reads only these features. */
  binding: FeatureBinding | null;
  /** Set only after a human approved an off-path (pickle) release. */
  allowPickle: boolean;
  limits: ReplicaLimits;
  /** Which of the version's replicas (0, 1, …): replicas are spread across hosts by it. */
  index?: number;
  /** Who keeps this replica alive (a model's serving workflow): only it removes the replica as a stray. */
  keeper?: string;
  /** A shadow twin of the stable: the candidate version whose measurement it serves. */
  measuredFor?: string;
}

export interface Replica {
  /** Stable for a spec: a retried activity finds the same replica. */
  id: string;
  model: string;
  version: string;
  role: ReplicaRole;
  image: string;
  /** The one door in. */
  endpoint: Endpoint;
  index: number;
  /** The Docker host (or node) it runs on. */
  host: string;
  keeper?: string | null;
}

/**
 * Where model replicas run. Every model container paved starts comes from here: sealed
 * (no network; a socket in, a feature door out), hardened, limited by the policy.
 * Docker is the local implementation; Kubernetes would be another.
 */
export interface ModelRuntime {
  /** Starts a replica, or finds the running one of the same spec; resolves when it answers ready. */
  start(spec: ReplicaSpec, readyTimeoutMs?: number): Promise<Replica>;
  find(
    model: string,
    version: string,
    role: ReplicaRole,
    index?: number,
  ): Promise<(Replica & { binding: FeatureBinding | null; allowPickle: boolean }) | null>;
  /** Every running replica of a model in one role, on every host. */
  list(model: string, role: ReplicaRole): Promise<Replica[]>;
  /**
   * Every container the runtime manages on every host, in any role and state (a dead one
   * too): what the janitor judges. A host that does not answer is an error, never an empty list.
   */
  listManaged(): Promise<ManagedContainer[]>;
  stop(id: string): Promise<void>;
  /** The replica's last log lines. */
  logs(id: string, tail?: number): Promise<string>;
}
