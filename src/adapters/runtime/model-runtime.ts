import type { FeatureBinding } from '../../domain/feature-binding.js';
import type { Endpoint } from '../../domain/route.js';

export type ReplicaRole = 'serving' | 'shadow' | 'try';

export interface ReplicaLimits {
  cpus: number;
  memoryMB: number;
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
  ): Promise<(Replica & { binding: FeatureBinding | null; allowPickle: boolean }) | null>;
  stop(id: string): Promise<void>;
  /** The replica's last log lines. */
  logs(id: string, tail?: number): Promise<string>;
}
