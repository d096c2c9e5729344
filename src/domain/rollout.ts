/**
 * Progressive rollout: the plan (weights and bake windows), the judgement of a
 * canary against stable over a window, and sticky assignment of callers to a
 * version. Pure; the workflow and the gateway both import it.
 */

/**
 * The policy's rollout_analysis (min_requests, max_error_rate, ...) as the rollout
 * plan carries it. The plan is recorded in every release's history and replayed, so
 * its fields keep the names releases in flight have on record.
 */
export interface RolloutLimits {
  /** Requests the canary must have answered in the window before it is judged. */
  minRequests: number;
  /** Canary error rate may exceed stable's by at most this (absolute share). */
  maxErrorRateIncrease: number;
  /** Never acceptable, whatever stable does. */
  maxErrorRate: number;
  /** Canary p99 may be at most this many times stable's p99 ... */
  maxP99Ratio: number;
  /** ... plus this much, so a 2 ms stable does not make 3 ms a breach. */
  p99SlackMs: number;
  /**
   * How long a step may hold its weight for lack of traffic before a person is
   * asked to decide. Too little traffic is never evidence against a canary.
   */
  inconclusiveMs: number;
}

export const DEFAULT_LIMITS: RolloutLimits = {
  minRequests: 50,
  maxErrorRateIncrease: 0.01,
  maxErrorRate: 0.05,
  maxP99Ratio: 1.5,
  p99SlackMs: 20,
  inconclusiveMs: 30 * 60_000,
};

export interface RolloutPlan {
  steps: number[];
  bakeMs: number;
  limits: RolloutLimits;
}

/** What the gateway measured for one version over a window. */
export interface WindowStats {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export type Judgement =
  | { kind: 'healthy'; reason: string }
  | { kind: 'breach'; reason: string }
  | { kind: 'insufficient'; reason: string };

function pct(x: number): string {
  return `${Number((x * 100).toPrecision(3))} %`;
}

function errorRate(s: WindowStats): number {
  return s.requests === 0 ? 0 : s.errors / s.requests;
}

/** Canary vs stable over one bake window; stable is null on a model's first release. */
export function judgeWindow(
  canary: WindowStats,
  stable: WindowStats | null,
  limits: RolloutLimits,
): Judgement {
  if (canary.requests < limits.minRequests) {
    return {
      kind: 'insufficient',
      reason: `the canary answered ${canary.requests} requests, fewer than the ${limits.minRequests} needed to judge it`,
    };
  }
  const cErr = errorRate(canary);
  const sErr = stable ? errorRate(stable) : 0;
  // A stable that fails itself (its container died, say) is no yardstick: its
  // fast errors would make any healthy canary look slow. Judge on the absolute limits.
  const broken = stable !== null && stable.requests > 0 && sErr > limits.maxErrorRate;
  const yardstick = broken ? null : stable;
  if (cErr > limits.maxErrorRate) {
    return {
      kind: 'breach',
      reason: `canary error rate ${pct(cErr)} (${canary.errors} of ${canary.requests}) is over the ${pct(limits.maxErrorRate)} limit${stable ? `; stable ${pct(sErr)}` : ''}`,
    };
  }
  if (yardstick && cErr > sErr + limits.maxErrorRateIncrease) {
    return {
      kind: 'breach',
      reason: `canary error rate ${pct(cErr)} is more than ${pct(limits.maxErrorRateIncrease)} above stable's ${pct(sErr)}`,
    };
  }
  if (yardstick && canary.p99Ms !== null && yardstick.p99Ms !== null) {
    const allowed = yardstick.p99Ms * limits.maxP99Ratio + limits.p99SlackMs;
    if (canary.p99Ms > allowed) {
      return {
        kind: 'breach',
        reason: `canary p99 ${canary.p99Ms.toFixed(1)} ms is over ${allowed.toFixed(1)} ms (stable p99 ${yardstick.p99Ms.toFixed(1)} ms × ${limits.maxP99Ratio} + ${limits.p99SlackMs} ms)`,
      };
    }
  }
  return {
    kind: 'healthy',
    reason:
      `canary ${canary.requests} requests, error rate ${pct(cErr)}, p99 ${canary.p99Ms?.toFixed(1) ?? '–'} ms` +
      (stable
        ? `; stable ${stable.requests} requests, ${pct(sErr)}, p99 ${stable.p99Ms?.toFixed(1) ?? '–'} ms`
        : '') +
      (broken
        ? `; stable fails over the ${pct(limits.maxErrorRate)} limit itself, so the canary was judged on the absolute limits only`
        : ''),
  };
}

/** One judged (or unjudged) window of a rollout, for the audit and the report. */
export interface RolloutStepRecord {
  weight: number;
  canary: WindowStats | null;
  stable: WindowStats | null;
  decision: StepDecision['kind'] | 'unjudged' | 'approved';
  reason: string;
}

/**
 * What the rollout does after a window: advance, hold the weight and bake again
 * (inconclusive: too little traffic), roll back, or ask a person once a step has
 * been inconclusive for `inconclusiveMs`.
 */
export type StepDecision =
  | { kind: 'advance'; reason: string }
  | { kind: 'extend'; reason: string }
  | { kind: 'review'; reason: string }
  | { kind: 'rollback'; reason: string };

/** `heldMs`: how long the step has held its weight so far. */
export function decideStep(judgement: Judgement, heldMs: number, limits: RolloutLimits): StepDecision {
  if (judgement.kind === 'healthy') return { kind: 'advance', reason: judgement.reason };
  if (judgement.kind === 'breach') return { kind: 'rollback', reason: judgement.reason };
  if (heldMs < limits.inconclusiveMs)
    return { kind: 'extend', reason: `inconclusive: ${judgement.reason}; holding the weight` };
  return {
    kind: 'review',
    reason: `inconclusive for ${minutes(heldMs)}: ${judgement.reason}; a reviewer decides whether it goes on (approve) or rolls back (reject)`,
  };
}

/** "45 s", "12 min", "2.5 h": how long a step has held, in words a person reads. */
export function minutes(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Number((ms / 3_600_000).toPrecision(2))} h`;
}

/**
 * The window a step is judged on: everything since its weight was set, so sparse
 * traffic adds up across extensions, within what the gateway keeps (15 min).
 */
export function judgedWindowMs(heldMs: number, bakeMs: number): number {
  return Math.min(Math.max(heldMs, bakeMs), 900_000);
}

/**
 * Deterministic, so a retried activity or a restarted worker finds the same serving
 * container. The dot ends the model (model names have dashes, never dots), so model
 * "a-b" version "c" and model "a" version "b-c" get different containers.
 */
export function servingContainerName(model: string, version: string): string {
  return `paved-${model}.${version}`;
}

/**
 * Replica 0 keeps the name a version's one container always had; the others get a
 * prefix of their own (an underscore and a dot never occur in a model name, so no
 * version can make one name collide with another).
 */
export function servingReplicaName(model: string, version: string, index: number): string {
  return index === 0 ? servingContainerName(model, version) : `paved_replica${index}.${model}.${version}`;
}

/**
 * The shadow stage's container for one version. Its own prefix keeps it apart from
 * serving names, and the dot (never in a model name) ends the model, so model
 * "a-b" version "c" and model "a" version "b-c" get different names. A twin of the
 * stable started for one candidate's measurement is named after that candidate too:
 * two shadows of one model at once each measure, and remove, their own twin.
 */
export function shadowContainerName(model: string, version: string, measuredFor?: string): string {
  const base = `paved_shadow.${model}.${version}`;
  return measuredFor === undefined || measuredFor === version ? base : `${base}.for.${measuredFor}`;
}
