/**
 * How many replicas a version serves with: each replica's capacity, read from what
 * the shadow stage measured, against the live peak with headroom, within the
 * policy's bounds. Pure: the shadow activity feeds it, the rollout acts on it.
 */

/** The policy's `serving:` bounds, as it writes them. */
export interface SizingPolicy {
  min_replicas: number;
  max_replicas: number;
  /** Live peak × this is what the replicas together must carry. */
  headroom: number;
  /**
   * The share of its CPUs a replica may be kept busy. Queueing grows fast near
   * saturation, so the p99 measured at a light rate only holds well below 100 %.
   */
  target_utilisation: number;
}

export interface SizingInput {
  /** CPU seconds the candidate spent per answered request in the shadow window; null when unmeasured. */
  cpuSecondsPerRequest: number | null;
  cpusPerReplica: number;
  /** The rate shadow replayed at, and whether the candidate's p99 stayed within budget there. */
  measuredRate: number;
  withinBudgetAtMeasuredRate: boolean;
  /** The p99 budget capacity is read against; null when neither package nor policy sets one. */
  p99BudgetMs: number | null;
  /** The live peak in requests per second; null when no live traffic was recorded yet. */
  livePeakRps: number | null;
  /** The manifest's ask; more than the policy's floor only. */
  requested: number | null;
  policy: SizingPolicy;
}

export interface Sizing {
  replicas: number;
  /** Requests per second one replica carries with its p99 within budget; null when unknown. */
  capacityRps: number | null;
  peakRps: number | null;
  /** One line for the report and the release summary. */
  line: string;
}

/**
 * A replica's capacity from CPU per prediction: its CPUs at the target utilisation,
 * divided by the CPU one prediction costs. A rate the shadow stage carried within
 * budget is a floor: it was seen to work.
 */
export function replicaCapacity(input: SizingInput): number | null {
  const floor = input.withinBudgetAtMeasuredRate ? input.measuredRate : 0;
  if (input.cpuSecondsPerRequest === null || input.cpuSecondsPerRequest <= 0) return floor > 0 ? floor : null;
  const derived = (input.cpusPerReplica * input.policy.target_utilisation) / input.cpuSecondsPerRequest;
  return Math.max(derived, floor);
}

export function sizeReplicas(input: SizingInput): Sizing {
  const { policy } = input;
  const capacity = replicaCapacity(input);
  const floor = Math.min(Math.max(policy.min_replicas, input.requested ?? 0), policy.max_replicas);
  const wanted =
    input.livePeakRps !== null && capacity !== null
      ? Math.ceil((input.livePeakRps * policy.headroom) / capacity)
      : null;
  const replicas = Math.min(Math.max(wanted ?? floor, floor), policy.max_replicas);
  const each =
    capacity === null
      ? ''
      : ` (capacity ${fmt(capacity)} req/s each${input.p99BudgetMs !== null ? ` at p99 ≤ ${fmt(input.p99BudgetMs)} ms` : ''})`;
  const count = `${replicas} ${replicas === 1 ? 'replica' : 'replicas'}`;
  const floorWhy =
    input.requested !== null && input.requested > policy.min_replicas
      ? `as the manifest asks${input.requested > policy.max_replicas ? `, capped at the policy's ${policy.max_replicas}` : ''}`
      : `the policy's minimum`;
  let line: string;
  if (input.livePeakRps === null) line = `${count}, ${floorWhy}: no live traffic recorded yet${each}`;
  else {
    line = `${count} for a ${fmt(input.livePeakRps)} req/s peak × headroom ${policy.headroom}${each}`;
    if (wanted !== null && wanted > policy.max_replicas)
      line += `; capped at the policy's ${policy.max_replicas}`;
    else if (wanted !== null && wanted < floor) line += `; ${floorWhy}`;
  }
  return {
    replicas,
    capacityRps: capacity,
    peakRps: input.livePeakRps,
    line,
  };
}

function fmt(n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(1).replace(/\.0$/, '');
}
