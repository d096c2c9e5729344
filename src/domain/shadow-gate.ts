import { overallVerdict } from './gate-verdict.js';
import type { VersionMeasure } from './shadow.js';

/**
 * Budgets as paved.yaml and policy/platform.yaml write them (`budgets:`); merged, the
 * effective ones: the tighter of the package's and the platform's.
 */
export interface ShadowBudgets {
  p50_ms?: number;
  p99_ms?: number;
  error_rate?: number;
  cost_per_million_usd?: number;
}

/** The policy's `shadow:` limits, as it writes them. */
export interface ShadowLimits {
  /** Candidate p99 may be at most stable p99 × (1 + this) + p99_slack_ms. */
  max_p99_regression: number;
  p99_slack_ms: number;
  /** Candidate error rate may exceed stable's by at most this (absolute share). */
  max_error_rate_increase: number;
  /** A pass within this share of a budget is a near miss (a warning). */
  near_miss: number;
}

export type GateMetric = 'p50' | 'p99' | 'error rate' | 'cost' | 'p99 vs stable' | 'error rate vs stable';

export interface GateRow {
  metric: GateMetric;
  /** What was measured, in the metric's unit (ms, share, USD per million). */
  value: number;
  limit: number;
  status: 'pass' | 'warn' | 'fail';
  /** For a warn or fail: what happened and what to do, in one sentence. */
  sentence: string | null;
}

export interface ShadowJudgement {
  verdict: 'pass' | 'warn' | 'fail';
  rows: GateRow[];
  /** The first failure's sentence, else the first warning's, else null. */
  headline: string | null;
}

export function mergeBudgets(pkg: ShadowBudgets, platform: ShadowBudgets): ShadowBudgets {
  const tighter = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const out: ShadowBudgets = {};
  for (const k of ['p50_ms', 'p99_ms', 'error_rate', 'cost_per_million_usd'] as const) {
    const v = tighter(pkg[k], platform[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const ms = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
const pct = (v: number) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;
const usd = (v: number) => `$${v < 1 ? v.toFixed(3) : v.toFixed(2)}`;

/**
 * A failing value must not read like its limit: "0.0 %, budget 0.0 %" says pass.
 * Adds decimals (up to 4 more) until the two differ in print.
 */
function apart(value: number, limit: number, show: (v: number, extra: number) => string): [string, string] {
  for (let extra = 0; extra < 4; extra++) {
    const [a, b] = [show(value, extra), show(limit, extra)];
    if (a !== b) return [a, b];
  }
  return [show(value, 4), show(limit, 4)];
}
const pctX = (v: number, extra: number) => `${(v * 100).toFixed((v < 0.1 ? 1 : 0) + extra)} %`;
const usdX = (v: number, extra: number) => `$${v.toFixed((v < 1 ? 3 : 2) + extra)}`;
const percentX = (v: number, extra: number) => `${(v * 100).toFixed(extra)} %`;

/** Fewer answered held-out requests than this are a figure to show, not one to praise. */
export const MIN_LABELLED_TO_PRAISE = 30;

/**
 * "Your model is accurate" only when the held-out labels say so (no worse than
 * stable, or no stable to compare with) and enough of them were answered to say
 * anything; otherwise the sentence does not praise.
 */
function opening(c: VersionMeasure, s: VersionMeasure | null): string {
  const acc = c.accuracy;
  if (!acc) return 'Your model answers';
  const share = acc.correct / acc.labelled;
  const stableShare = s?.accuracy ? s.accuracy.correct / s.accuracy.labelled : null;
  const figure = `accuracy ${share.toFixed(2)} on ${acc.labelled} held-out requests`;
  if (acc.labelled < MIN_LABELLED_TO_PRAISE)
    return `Your model answers (${figure}, too few answered to judge it)`;
  if (stableShare === null || share >= stableShare - 0.005) return `Your model is accurate (${figure})`;
  return `Your model answers (${figure}, stable ${stableShare.toFixed(2)})`;
}

function mostCommonFailure(statuses: Record<string, number>): string | null {
  const failures = Object.entries(statuses).filter(([code]) => code !== '200');
  failures.sort((a, b) => b[1] - a[1]);
  return failures[0]?.[0] ?? null;
}

/**
 * Judges a shadow measurement against budgets and against the stable version.
 * Each row says pass, warn (within `near_miss` of a budget) or fail, and a warn or
 * fail carries the sentence the scientist reads: the numbers and the fix.
 */
export function judgeShadow(input: {
  candidate: VersionMeasure;
  stable: VersionMeasure | null;
  budgets: ShadowBudgets;
  limits: ShadowLimits;
}): ShadowJudgement {
  const { candidate: c, stable: s, budgets, limits } = input;
  const rows: GateRow[] = [];
  const open = opening(c, s);
  const near = (value: number, limit: number) => value > limit * (1 - limits.near_miss);

  const latency = (metric: 'p50' | 'p99', value: number, budget: number | undefined) => {
    if (budget === undefined) return;
    if (value > budget) {
      rows.push({
        metric,
        value,
        limit: budget,
        status: 'fail',
        sentence:
          `${open}, but its ${metric} is ${ms(value)}, ${ms(value - budget)} over the ${ms(budget)} budget. ` +
          'Optimize it: a smaller model or fewer features per prediction.',
      });
    } else if (near(value, budget)) {
      rows.push({
        metric,
        value,
        limit: budget,
        status: 'warn',
        sentence: `Its ${metric} is ${ms(value)}, within ${pct(limits.near_miss)} of the ${ms(budget)} budget; the next change may cross it.`,
      });
    } else rows.push({ metric, value, limit: budget, status: 'pass', sentence: null });
  };
  // p99 first: the tail is what users of a live endpoint feel, so it leads the verdict.
  latency('p99', c.latency.p99, budgets.p99_ms);
  latency('p50', c.latency.p50, budgets.p50_ms);

  if (budgets.error_rate !== undefined) {
    const limit = budgets.error_rate;
    const failure = mostCommonFailure(c.statuses);
    const [shown, budget] = apart(c.errorRate, limit, pctX);
    const sentence =
      `${c.errors} of ${c.sent} replayed requests failed (${shown}, budget ${budget})` +
      (failure ? `, most often with ${failure}` : '') +
      // Timeouts mostly mean the model could not keep up with the replay rate, not
      // that a request is wrong: the fix is speed.
      (failure === 'timeout'
        ? ': the model did not answer in time. Make it faster, or replay one with `paved try` to see whether it hangs.'
        : '. Replay one with `paved try` and fix the model or its inputs.');
    rows.push({
      metric: 'error rate',
      value: c.errorRate,
      limit,
      status: c.errorRate > limit ? 'fail' : c.errors > 0 && near(c.errorRate, limit) ? 'warn' : 'pass',
      sentence: c.errorRate > limit || (c.errors > 0 && near(c.errorRate, limit)) ? sentence : null,
    });
  }

  if (budgets.cost_per_million_usd !== undefined && c.costPerMillionUsd !== null) {
    const limit = budgets.cost_per_million_usd;
    const v = c.costPerMillionUsd;
    const use = c.resources
      ? ` (${c.resources.cpuSeconds.toFixed(1)} CPU s and ${Math.round(c.resources.memMeanMB)} MB over ${Math.round(c.resources.seconds)} s)`
      : '';
    rows.push({
      metric: 'cost',
      value: v,
      limit,
      status: v > limit ? 'fail' : near(v, limit) ? 'warn' : 'pass',
      sentence:
        v > limit
          ? `${open}, but it costs ${apart(v, limit, usdX)[0]} per million predictions${use}, ` +
            `${apart(v - limit, 0, usdX)[0]} over the ${apart(v, limit, usdX)[1]} budget. Cut its CPU per prediction or its memory.`
          : near(v, limit)
            ? `It costs ${usd(v)} per million predictions, within ${pct(limits.near_miss)} of the ${usd(limit)} budget.`
            : null,
    });
  }

  // A stable that mostly failed measured how fast it refuses, not how fast it
  // predicts: its p99 is no yardstick (its errors still are).
  if (s && s.sent > 0 && s.errorRate <= 0.5) {
    const limit = s.latency.p99 * (1 + limits.max_p99_regression) + limits.p99_slack_ms;
    const v = c.latency.p99;
    const [worse, allowed] = apart(v / s.latency.p99 - 1, limits.max_p99_regression, percentX);
    rows.push({
      metric: 'p99 vs stable',
      value: v,
      limit,
      status: v > limit ? 'fail' : 'pass',
      sentence:
        v > limit
          ? `${open}, but its p99 is ${ms(v)} against ${ms(s.latency.p99)} for stable ${s.version} ` +
            `(+${worse}, at most +${allowed}${limits.p99_slack_ms > 0 ? ` plus ${limits.p99_slack_ms} ms` : ''} allowed). ` +
            'Optimize it before it replaces the faster model.'
          : null,
    });
  }
  if (s && s.sent > 0) {
    const eLimit = s.errorRate + limits.max_error_rate_increase;
    rows.push({
      metric: 'error rate vs stable',
      value: c.errorRate,
      limit: eLimit,
      status: c.errorRate > eLimit ? 'fail' : 'pass',
      sentence:
        c.errorRate > eLimit
          ? `It failed ${pct(c.errorRate)} of replayed requests where stable ${s.version} failed ${pct(s.errorRate)} on the same ones. Replay one with \`paved try\` and fix it.`
          : null,
    });
  }

  const { verdict, headline } = overallVerdict(
    rows,
    (r) => r.status,
    (r) => r.sentence,
  );
  return { verdict, rows, headline };
}
