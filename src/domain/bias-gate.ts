import { overallVerdict } from './gate-verdict.js';
import { disparities, type AttributeFairness, type FairnessReport, type GroupFigures } from './fairness.js';

/**
 * The bias gate: judges a candidate's per-group figures against fixed limits and
 * against the stable version it would replace. Pure. A fail or a warning carries the
 * sentence the scientist reads: the attribute, the groups, both numbers and the fix.
 */

/** The policy's `fairness:` limits, as it writes them (min_dp_ratio tightened by the package's). */
export interface BiasThresholds {
  /** Lowest over highest selection rate may not fall under this (the four-fifths rule at 0.8). */
  min_dp_ratio: number;
  /** When set and the sample is labelled: the larger of the TPR and FPR gaps may not exceed this. */
  max_equalized_odds_difference?: number;
  /** The parity ratio may fall below stable's by at most this (absolute). */
  max_dp_ratio_drop: number;
  /** A pass within this share of a limit is a near miss, a warning a reviewer reads. */
  near_miss: number;
  /** Groups with fewer rows are reported, not gated: a handful of rows is noise, not bias. */
  min_group_size: number;
}

export const DEFAULT_BIAS_THRESHOLDS: BiasThresholds = {
  min_dp_ratio: 0.8,
  max_dp_ratio_drop: 0.05,
  near_miss: 0.1,
  min_group_size: 30,
};

export type BiasMetric =
  | 'demographic parity ratio'
  | 'equalized odds difference'
  | 'demographic parity ratio vs stable'
  | 'groups gated';

export interface BiasFinding {
  level: 'warn' | 'fail';
  attribute: string;
  metric: BiasMetric;
  /** The groups the sentence compares, lowest first; for 'groups gated', those that were. */
  groups: string[];
  /** The candidate's figure (for 'groups gated': how many groups were large enough). */
  candidate: number | null;
  stable?: number | null;
  /** The limit it is judged against (for 'groups gated': 2, the fewest that can be compared). */
  limit: number;
  sentence: string;
}

export interface BiasJudgement {
  verdict: 'pass' | 'warn' | 'fail';
  findings: BiasFinding[];
  /** Worth reading, never blocking: groups too small to gate, conventions behind a figure. */
  notes: string[];
  /** The first failure's sentence, else the first warning's, else null. */
  headline: string | null;
}

/**
 * Rates are quotients of counts, so a ratio of exactly 0.8 can come out as
 * 0.7999999999999999; a breach must be more than rounding.
 */
const EPS = 1e-9;

/** Two decimals, or as many more as it takes (up to 4) to differ visibly from the limit. */
function fmt(v: number, limit?: number): string {
  for (const digits of [2, 3, 4]) {
    const s = v.toFixed(digits);
    if (limit === undefined || Math.abs(v - limit) < EPS || s !== limit.toFixed(digits)) return s;
  }
  return v.toFixed(4);
}

const pct = (v: number) => `${Number((v * 100).toPrecision(3))} %`;
const named = (attribute: string, group: string) => `${attribute}=${group}`;

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "Selection rate for colour=Black is 0.21 against 0.48 for colour=White" */
function gap(
  what: string,
  attribute: string,
  low: { group: string; value: number },
  high: { group: string; value: number },
) {
  return (
    `${capitalize(what)} for ${named(attribute, low.group)} is ${fmt(low.value)} ` +
    `against ${fmt(high.value)} for ${named(attribute, high.group)}`
  );
}

function gatedGroups(a: AttributeFairness, minGroupSize: number): GroupFigures[] {
  return a.groups.filter((g) => g.count > 0 && g.count >= minGroupSize);
}

export function judgeBias(input: {
  candidate: FairnessReport;
  /** The version this one would replace, measured the same way; absent on a first release. */
  stable?: { version: string; metrics: FairnessReport } | null;
  thresholds?: Partial<BiasThresholds>;
}): BiasJudgement {
  const t: BiasThresholds = { ...DEFAULT_BIAS_THRESHOLDS, ...input.thresholds };
  const findings: BiasFinding[] = [];
  const notes: string[] = [];
  const { candidate, stable } = input;

  for (const a of candidate.attributes) {
    const attribute = a.attribute;
    const admitted = gatedGroups(a, t.min_group_size);
    // The gate's own minimum size decides, whatever size the report was measured with.
    const d = disparities(admitted, candidate.labelled);
    for (const g of a.groups.filter((g) => g.count > 0 && g.count < t.min_group_size)) {
      notes.push(
        `${named(attribute, g.group)} has ${g.count} row${g.count === 1 ? '' : 's'}, fewer than the ${t.min_group_size} needed to gate it: its figures are reported, not judged.`,
      );
    }

    if (d.groups < 2) {
      findings.push({
        level: 'warn',
        attribute,
        metric: 'groups gated',
        groups: admitted.map((g) => g.group),
        candidate: d.groups,
        limit: 2,
        sentence:
          d.groups === 0
            ? `No group of ${attribute} has the ${t.min_group_size} rows needed to gate it, so its fairness was not checked. ` +
              'Collect a longer shadow window or a larger labelled sample, or lower fairness.min_group_size, and release again.'
            : `Only ${named(attribute, admitted[0]!.group)} has the ${t.min_group_size} rows needed to gate it, so there is no other group to compare it with. ` +
              'Collect a longer shadow window or a larger labelled sample, or lower fairness.min_group_size, and release again.',
      });
      continue;
    }

    const sr = d.selectionRate;
    const ratio = d.demographicParityRatio;
    if (ratio === null) {
      findings.push({
        level: 'warn',
        attribute,
        metric: 'demographic parity ratio',
        groups: admitted.map((g) => g.group),
        candidate: null,
        limit: t.min_dp_ratio,
        sentence:
          `The model selected no one in any group of ${attribute}, so the demographic parity ratio is undefined (0 over 0). ` +
          'Check that the shadow window saw real traffic and that the positive class is the one the model predicts as 1.',
      });
    } else {
      const low = sr.min!;
      const high = sr.max!;
      const pair = [low.group, high.group];
      const gapNow = `${gap('selection rate', attribute, low, high)}: demographic parity ratio ${fmt(ratio, t.min_dp_ratio)}`;
      const below = (level: 'fail' | 'warn', sentence: string) =>
        findings.push({
          level,
          attribute,
          metric: 'demographic parity ratio',
          groups: pair,
          candidate: ratio,
          limit: t.min_dp_ratio,
          sentence,
        });
      if (ratio < t.min_dp_ratio - EPS) {
        below(
          'fail',
          `${gapNow}, below the ${fmt(t.min_dp_ratio)} minimum. Check whether the model leans on ${attribute} or a proxy for it; ` +
            'reweight or drop the feature and retrain.',
        );
      } else if (ratio < t.min_dp_ratio * (1 + t.near_miss)) {
        below(
          'warn',
          `${gapNow}, within ${pct(t.near_miss)} of the ${fmt(t.min_dp_ratio)} minimum. Have a reviewer read the per-group table before it is promoted.`,
        );
      }
    }

    const maxEod = t.max_equalized_odds_difference;
    if (maxEod !== undefined && !candidate.labelled) {
      notes.push(
        `Equalized odds for ${attribute} was not checked: the sample has no labels. Declare a labelled held-out sample in the package to check it.`,
      );
    } else if (maxEod !== undefined && d.equalizedOddsDifference !== null) {
      const eod = d.equalizedOddsDifference;
      for (const g of admitted) {
        if (g.positives === 0)
          notes.push(
            `${named(attribute, g.group)} has no positive labels in the sample, so its true positive rate counts as 0 (Fairlearn's convention), not as a measurement.`,
          );
        if (g.negatives === 0)
          notes.push(
            `${named(attribute, g.group)} has no negative labels in the sample, so its false positive rate counts as 0 (Fairlearn's convention), not as a measurement.`,
          );
      }
      // Fairlearn takes the TPR gap when the two are equal; so does the sentence.
      const byTpr = d.truePositiveRate!.difference! >= d.falsePositiveRate!.difference!;
      const spread = byTpr ? d.truePositiveRate! : d.falsePositiveRate!;
      const what = byTpr ? 'true positive rate' : 'false positive rate';
      const why = byTpr
        ? `The model finds the true positives of one group of ${attribute} less often than another's`
        : `The model wrongly flags one group of ${attribute} more often than another`;
      // Lowest first for the sentence, whichever rate it is.
      const pair = [spread.min!, spread.max!];
      const gapNow = `${gap(what, attribute, pair[0]!, pair[1]!)}: equalized odds difference ${fmt(eod, maxEod)}`;
      const above = (level: 'fail' | 'warn', sentence: string) =>
        findings.push({
          level,
          attribute,
          metric: 'equalized odds difference',
          groups: pair.map((p) => p.group),
          candidate: eod,
          limit: maxEod,
          sentence,
        });
      if (eod > maxEod + EPS) {
        above(
          'fail',
          `${gapNow}, above the ${fmt(maxEod)} maximum. ` +
            `${why}; check for a proxy of ${attribute}, rebalance the training data by group and retrain.`,
        );
      } else if (eod > maxEod * (1 - t.near_miss)) {
        above(
          'warn',
          `${gapNow}, within ${pct(t.near_miss)} of the ${fmt(maxEod)} maximum. Have a reviewer read the per-group table before it is promoted.`,
        );
      }
    }

    if (!stable || ratio === null) continue;
    const before = stable.metrics.attributes.find((s) => s.attribute === attribute);
    if (!before) {
      notes.push(
        `Stable ${stable.version} was not measured on ${attribute}, so the candidate is not compared with it there.`,
      );
      continue;
    }
    const stableRatio = disparities(
      gatedGroups(before, t.min_group_size),
      stable.metrics.labelled,
    ).demographicParityRatio;
    if (stableRatio === null) {
      notes.push(
        `Stable ${stable.version} has no demographic parity ratio for ${attribute} (no group selected, or fewer than two groups of ${t.min_group_size} rows), so the candidate is not compared with it there.`,
      );
      continue;
    }
    const drop = stableRatio - ratio;
    const low = sr.min!;
    const high = sr.max!;
    const now = `${gap('selection rate', attribute, low, high)} in the candidate`;
    const fell = `Demographic parity ratio for ${attribute} fell from ${fmt(stableRatio)} (stable ${stable.version}) to ${fmt(ratio)}`;
    const against = (level: 'fail' | 'warn', sentence: string) =>
      findings.push({
        level,
        attribute,
        metric: 'demographic parity ratio vs stable',
        groups: [low.group, high.group],
        candidate: ratio,
        stable: stableRatio,
        limit: t.max_dp_ratio_drop,
        sentence,
      });
    if (drop > t.max_dp_ratio_drop + EPS) {
      against(
        'fail',
        `${fell}, more than the ${fmt(t.max_dp_ratio_drop)} allowed. ${now}; compare the two versions' rates per group in the report ` +
          'and find what changed in the training data or the features.',
      );
    } else if (drop > t.max_dp_ratio_drop * (1 - t.near_miss)) {
      against(
        'warn',
        `${fell}, within ${pct(t.near_miss)} of the ${fmt(t.max_dp_ratio_drop)} drop allowed. Have a reviewer compare the two versions' rates per group.`,
      );
    }
  }

  const { verdict, headline } = overallVerdict(
    findings,
    (f) => f.level,
    (f) => f.sentence,
  );
  return { verdict, findings, notes, headline };
}
