import { PavedError } from './errors.js';

/**
 * Per-group fairness figures for binary predictions: selection rate, and with labels
 * true and false positive rates, per group of each sensitive attribute, and the
 * disparities between groups. Pure; the bias gate and the release report read it.
 *
 * The all-groups figures equal Fairlearn 0.15.0's on the same data
 * (`MetricFrame(...).by_group`, `.difference(method='between_groups')`,
 * `demographic_parity_difference`, `demographic_parity_ratio`,
 * `equalized_odds_difference`); test/integration/fairness-crosscheck.test.ts holds
 * them to 1e-9. Where Fairlearn answers NaN, the figure here is `null`. Its
 * conventions, found by running it rather than assumed:
 * - a group with no positive labels has a true positive rate of 0, and one with no
 *   negative labels a false positive rate of 0 (scikit-learn's confusion matrix,
 *   normalized by row, turns 0/0 into 0), so these are not null; `positives` and
 *   `negatives` tell a real 0 from that convention;
 * - differences are max − min and are 0 with a single group;
 * - ratios are min / max: 1 with a single group, and NaN (null here) when every
 *   group's rate is 0, e.g. a model that selects no one;
 * - empty input makes Fairlearn raise; here every figure is null and no group is listed;
 * - a category with no rows is not a group for Fairlearn (pandas drops it); here a
 *   declared group without rows is listed with count 0 and left out of every aggregate.
 */

export type Outcome = 0 | 1;

/** One prediction, with its label when the sample is labelled, and the entity's sensitive attributes. */
export interface PredictionRow {
  yPred: Outcome;
  /** Present on every row (a labelled sample) or on none. */
  yTrue?: Outcome | null;
  /** Attribute → the entity's value; a number or boolean is compared as its text. */
  groups: Readonly<Record<string, string | number | boolean | null | undefined>>;
}

export interface FairnessOptions {
  /** Groups with fewer rows are reported but left out of the gated aggregates. Default 1. */
  minGroupSize?: number;
  /** Groups an attribute can take (e.g. from the feature store), listed even when no row has them. */
  knownGroups?: Readonly<Record<string, readonly string[]>>;
  /** Disparate impact passes at a ratio of at least this: the four-fifths rule. Default 0.8. */
  fourFifths?: number;
}

export interface GroupFigures {
  group: string;
  count: number;
  /** Rows predicted positive. */
  selected: number;
  /** selected / count; null only for a declared group with no rows. */
  selectionRate: number | null;
  /** Labelled rows with yTrue 1 and 0; null without labels. */
  positives: number | null;
  negatives: number | null;
  /** Null without labels or rows; 0 when the group has no positive labels (Fairlearn's convention). */
  truePositiveRate: number | null;
  /** Null without labels or rows; 0 when the group has no negative labels (Fairlearn's convention). */
  falsePositiveRate: number | null;
  /** Counted in the gated aggregates: at least minGroupSize rows. */
  gated: boolean;
}

/** The lowest and highest group of one rate, and Fairlearn's between-groups difference and ratio. */
export interface Spread {
  min: { group: string; value: number } | null;
  max: { group: string; value: number } | null;
  /** MetricFrame.difference(method='between_groups'): max − min. */
  difference: number | null;
  /** MetricFrame.ratio(method='between_groups'): min / max, null when max is 0. */
  ratio: number | null;
}

export interface Disparities {
  /** Groups counted (those with rows, and for the gated figures at least minGroupSize of them). */
  groups: number;
  selectionRate: Spread;
  /** Null without labels. */
  truePositiveRate: Spread | null;
  falsePositiveRate: Spread | null;
  demographicParityDifference: number | null;
  demographicParityRatio: number | null;
  /** The larger of the TPR and FPR differences (agg='worst_case'); null without labels. */
  equalizedOddsDifference: number | null;
  /** The four-fifths rule: lowest over highest selection rate; passes is null when the ratio is. */
  disparateImpact: { ratio: number | null; threshold: number; passes: boolean | null };
}

export interface AttributeFairness {
  attribute: string;
  /** Sorted by group name, as Fairlearn's by_group is. */
  groups: GroupFigures[];
  /** Over every group with rows: equals Fairlearn. */
  all: Disparities;
  /** Over the groups with at least minGroupSize rows: what a gate should judge. */
  gated: Disparities;
  /** Groups that have rows but fewer than minGroupSize. */
  belowMinSize: string[];
}

export interface FairnessReport {
  rows: number;
  labelled: boolean;
  minGroupSize: number;
  attributes: AttributeFairness[];
}

export class FairnessInputError extends PavedError {}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ties go to the first group in name order, so a report does not change between runs. */
function spread(groups: readonly GroupFigures[], rate: (g: GroupFigures) => number | null): Spread {
  let min: Spread['min'] = null;
  let max: Spread['max'] = null;
  for (const g of groups) {
    const value = rate(g);
    if (value === null) continue;
    if (min === null || value < min.value) min = { group: g.group, value };
    if (max === null || value > max.value) max = { group: g.group, value };
  }
  if (min === null || max === null) return { min, max, difference: null, ratio: null };
  return {
    min,
    max,
    difference: max.value - min.value,
    // Fairlearn divides 0 by 0 and gets NaN: nobody selected is neither fair nor unfair.
    ratio: max.value === 0 ? null : min.value / max.value,
  };
}

/**
 * Aggregates over the given groups (those without rows are skipped). Exported so a
 * gate can recompute them over the groups its own minimum size admits.
 */
export function disparities(
  groups: readonly GroupFigures[],
  labelled: boolean,
  fourFifths = 0.8,
): Disparities {
  const present = groups.filter((g) => g.count > 0);
  const sr = spread(present, (g) => g.selectionRate);
  const tpr = labelled ? spread(present, (g) => g.truePositiveRate) : null;
  const fpr = labelled ? spread(present, (g) => g.falsePositiveRate) : null;
  const eod =
    tpr?.difference != null && fpr?.difference != null ? Math.max(tpr.difference, fpr.difference) : null;
  return {
    groups: present.length,
    selectionRate: sr,
    truePositiveRate: tpr,
    falsePositiveRate: fpr,
    demographicParityDifference: sr.difference,
    demographicParityRatio: sr.ratio,
    equalizedOddsDifference: eod,
    disparateImpact: {
      ratio: sr.ratio,
      threshold: fourFifths,
      passes: sr.ratio === null ? null : sr.ratio >= fourFifths,
    },
  };
}

function checkOutcome(value: unknown, field: string, row: number): void {
  if (value !== 0 && value !== 1) {
    throw new FairnessInputError(
      `row ${row} has ${field} ${JSON.stringify(value)}; fairness is measured on binary predictions, 0 or 1 — ` +
        `threshold the model's scores before measuring`,
    );
  }
}

function groupKey(value: PredictionRow['groups'][string]): string | null {
  return value === null || value === undefined ? null : String(value);
}

function validate(rows: readonly PredictionRow[], attributes: readonly string[]): boolean {
  const labelledRows = rows.filter((r) => r.yTrue !== undefined && r.yTrue !== null).length;
  if (labelledRows !== 0 && labelledRows !== rows.length) {
    throw new FairnessInputError(
      `${labelledRows} of ${rows.length} rows have a label — label every row of the sample or none, ` +
        `so that the rates of all groups come from the same rows`,
    );
  }
  rows.forEach((r, k) => {
    checkOutcome(r.yPred, 'yPred', k);
    if (labelledRows > 0) checkOutcome(r.yTrue, 'yTrue', k);
  });
  if (rows.length === 0) return false;
  const available = [...new Set(rows.flatMap((r) => Object.keys(r.groups)))].sort(byName);
  for (const attribute of attributes) {
    const missing = rows.flatMap((r, k) => (groupKey(r.groups[attribute]) === null ? [k] : []));
    if (missing.length === rows.length) {
      throw new FairnessInputError(
        `sensitive attribute \`${attribute}\` is not in the data (it has ${available.join(', ') || 'no attributes'}) — ` +
          `fix the name under fairness in paved.yaml, or fetch \`${attribute}\` from the feature store with the predictions`,
      );
    }
    if (missing.length > 0) {
      throw new FairnessInputError(
        `sensitive attribute \`${attribute}\` has no value for ${missing.length} of ${rows.length} rows (first: row ${missing[0]}) — ` +
          `fill it in the feature store, or map missing values to a group of their own such as "unknown"`,
      );
    }
  }
  return labelledRows > 0;
}

/** Per-group figures and disparities for each sensitive attribute. */
export function measureFairness(
  rows: readonly PredictionRow[],
  attributes: readonly string[],
  options: FairnessOptions = {},
): FairnessReport {
  const minGroupSize = options.minGroupSize ?? 1;
  const fourFifths = options.fourFifths ?? 0.8;
  const labelled = validate(rows, attributes);
  const report = attributes.map((attribute): AttributeFairness => {
    const tally = new Map<
      string,
      { count: number; selected: number; tp: number; fn: number; fp: number; tn: number }
    >();
    for (const name of options.knownGroups?.[attribute] ?? []) {
      tally.set(name, { count: 0, selected: 0, tp: 0, fn: 0, fp: 0, tn: 0 });
    }
    for (const r of rows) {
      const key = groupKey(r.groups[attribute])!;
      let t = tally.get(key);
      if (!t) tally.set(key, (t = { count: 0, selected: 0, tp: 0, fn: 0, fp: 0, tn: 0 }));
      t.count++;
      t.selected += r.yPred;
      if (!labelled) continue;
      if (r.yTrue === 1) {
        if (r.yPred === 1) t.tp++;
        else t.fn++;
      } else if (r.yPred === 1) t.fp++;
      else t.tn++;
    }
    const groups = [...tally.entries()]
      .sort(([a], [b]) => byName(a, b))
      .map(([group, t]): GroupFigures => {
        const positives = t.tp + t.fn;
        const negatives = t.fp + t.tn;
        const rated = labelled && t.count > 0;
        return {
          group,
          count: t.count,
          selected: t.selected,
          selectionRate: t.count === 0 ? null : t.selected / t.count,
          positives: labelled ? positives : null,
          negatives: labelled ? negatives : null,
          truePositiveRate: rated ? (positives === 0 ? 0 : t.tp / positives) : null,
          falsePositiveRate: rated ? (negatives === 0 ? 0 : t.fp / negatives) : null,
          gated: t.count > 0 && t.count >= minGroupSize,
        };
      });
    return {
      attribute,
      groups,
      all: disparities(groups, labelled, fourFifths),
      gated: disparities(
        groups.filter((g) => g.gated),
        labelled,
        fourFifths,
      ),
      belowMinSize: groups.filter((g) => g.count > 0 && !g.gated).map((g) => g.group),
    };
  });
  return { rows: rows.length, labelled, minGroupSize, attributes: report };
}
