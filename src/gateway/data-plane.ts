import type { RouteTable } from '../domain/route.js';

/** Cumulative counts for one version since the data plane started serving it. */
export interface VersionCounters {
  completed: number;
  errors: number;
  /** Cumulative counts per edge of `latencyEdgesMs`. */
  buckets: number[];
}

export interface CapturedRequest {
  model: string;
  key: string | null;
  /** The V2 body as sent. */
  body: string;
  at: number;
}

/**
 * What the control plane needs of a data plane: apply a route table, read its
 * counters, hand over the requests it sampled, and say whether it serves.
 */
export interface DataPlane {
  readonly latencyEdgesMs: readonly number[];
  /** Resolves once the data plane serves the table (or rejects, naming what it refused). */
  apply(table: RouteTable): Promise<void>;
  /** Keyed `model/version`. */
  counters(table: RouteTable): Promise<Map<string, VersionCounters>>;
  /** The requests sampled since the last call. */
  takeCaptured(): Promise<CapturedRequest[]>;
  health(): Promise<{ live: boolean; version: string | null }>;
}
