import { describe, expect, it } from 'vitest';
import { DEFAULT_BIAS_THRESHOLDS, judgeBias } from '../../src/domain/bias-gate.js';
import { measureFairness, type FairnessReport, type PredictionRow } from '../../src/domain/fairness.js';

/** { attribute: { group: [rows, selected] } }: an unlabelled sample with those selection rates. */
function unlabelled(spec: Record<string, Record<string, [number, number]>>): FairnessReport {
  const [attribute, groups] = Object.entries(spec)[0]!;
  const data: PredictionRow[] = [];
  for (const [group, [k, selected]] of Object.entries(groups)) {
    for (let i = 0; i < k; i++) data.push({ yPred: i < selected ? 1 : 0, groups: { [attribute]: group } });
  }
  return measureFairness(data, [attribute]);
}

/** group → { tp, fn, fp, tn } of `colour`: a labelled sample. */
function labelled(spec: Record<string, { tp: number; fn: number; fp: number; tn: number }>): FairnessReport {
  const data: PredictionRow[] = [];
  const push = (group: string, yPred: 0 | 1, yTrue: 0 | 1, k: number) => {
    for (let i = 0; i < k; i++) data.push({ yPred, yTrue, groups: { colour: group } });
  };
  for (const [group, c] of Object.entries(spec)) {
    push(group, 1, 1, c.tp);
    push(group, 0, 1, c.fn);
    push(group, 1, 0, c.fp);
    push(group, 0, 0, c.tn);
  }
  return measureFairness(data, ['colour']);
}

describe('judgeBias', () => {
  it('passes equal selection rates, with nothing to say', () => {
    const j = judgeBias({ candidate: unlabelled({ colour: { Black: [100, 45], White: [100, 48] } }) });
    expect(j).toEqual({ verdict: 'pass', findings: [], notes: [], headline: null });
  });

  it('fails a parity ratio under 0.8, naming the attribute, both groups, both rates and the fix', () => {
    const j = judgeBias({ candidate: unlabelled({ colour: { Black: [100, 21], White: [100, 48] } }) });
    expect(j.verdict).toBe('fail');
    expect(j.findings).toEqual([
      {
        level: 'fail',
        attribute: 'colour',
        metric: 'demographic parity ratio',
        groups: ['Black', 'White'],
        candidate: 0.21 / 0.48,
        limit: 0.8,
        sentence:
          'Selection rate for colour=Black is 0.21 against 0.48 for colour=White: demographic parity ratio 0.44, ' +
          'below the 0.80 minimum. Check whether the model leans on colour or a proxy for it; reweight or drop the feature and retrain.',
      },
    ]);
    expect(j.headline).toBe(j.findings[0]!.sentence);
  });

  it('shows more digits when two would hide the breach', () => {
    const j = judgeBias({ candidate: unlabelled({ colour: { a: [10_000, 7996], b: [10_000, 10_000] } }) });
    expect(j.verdict).toBe('fail');
    expect(j.findings[0]!.sentence).toContain('demographic parity ratio 0.7996, below the 0.80 minimum');
  });

  it('passes a ratio of exactly 0.8, as a near miss', () => {
    const j = judgeBias({ candidate: unlabelled({ colour: { a: [100, 40], b: [100, 50] } }) });
    expect(j.verdict).toBe('warn');
    expect(j.findings[0]!.sentence).toBe(
      'Selection rate for colour=a is 0.40 against 0.50 for colour=b: demographic parity ratio 0.80, ' +
        'within 10 % of the 0.80 minimum. Have a reviewer read the per-group table before it is promoted.',
    );
  });

  it('warns on a near miss and passes just outside it', () => {
    expect(judgeBias({ candidate: unlabelled({ sex: { F: [100, 43], M: [100, 50] } }) }).verdict).toBe(
      'warn',
    );
    expect(judgeBias({ candidate: unlabelled({ sex: { F: [100, 45], M: [100, 50] } }) }).verdict).toBe(
      'pass',
    );
  });

  it('fails a drop from stable of more than allowed, even when both pass the minimum', () => {
    const stable = unlabelled({ sex: { F: [100, 49], M: [100, 50] } });
    const candidate = unlabelled({ sex: { F: [100, 45], M: [100, 50] } });
    const j = judgeBias({ candidate, stable: { version: 'v1', metrics: stable } });
    expect(j.verdict).toBe('fail');
    expect(j.findings).toEqual([
      expect.objectContaining({
        level: 'fail',
        attribute: 'sex',
        metric: 'demographic parity ratio vs stable',
        groups: ['F', 'M'],
        candidate: 0.9,
        stable: 0.98,
        limit: 0.05,
      }),
    ]);
    expect(j.findings[0]!.sentence).toBe(
      'Demographic parity ratio for sex fell from 0.98 (stable v1) to 0.90, more than the 0.05 allowed. ' +
        "Selection rate for sex=F is 0.45 against 0.50 for sex=M in the candidate; compare the two versions' rates per group " +
        'in the report and find what changed in the training data or the features.',
    );
  });

  it('reports both the breach of the minimum and the regression from stable', () => {
    const stable = unlabelled({ sex: { F: [200, 91], M: [200, 100] } });
    const candidate = unlabelled({ sex: { F: [100, 39], M: [100, 50] } });
    const j = judgeBias({ candidate, stable: { version: 'v1', metrics: stable } });
    expect(j.findings.map((f) => [f.level, f.metric])).toEqual([
      ['fail', 'demographic parity ratio'],
      ['fail', 'demographic parity ratio vs stable'],
    ]);
    expect(j.findings[1]!.sentence).toMatch(
      /^Demographic parity ratio for sex fell from 0\.91 \(stable v1\) to 0\.78, more than the 0\.05 allowed\./,
    );
  });

  it('warns on a drop close to the allowance, and says nothing of a small one', () => {
    const stable = { version: 'v1', metrics: unlabelled({ sex: { F: [100, 50], M: [100, 50] } }) };
    const near = judgeBias({ candidate: unlabelled({ sex: { F: [1000, 477], M: [1000, 500] } }), stable });
    // 0.954, a drop of 0.046: within 10 % of 0.05.
    expect(near.verdict).toBe('warn');
    expect(near.findings[0]!.sentence).toContain(
      'fell from 1.00 (stable v1) to 0.95, within 10 % of the 0.05 drop allowed',
    );
    const small = judgeBias({ candidate: unlabelled({ sex: { F: [100, 49], M: [100, 50] } }), stable });
    expect(small.verdict).toBe('pass');
  });

  it('fails an equalized odds difference over the maximum, naming the rate behind it', () => {
    const candidate = labelled({
      Black: { tp: 40, fn: 60, fp: 10, tn: 90 },
      White: { tp: 65, fn: 35, fp: 10, tn: 90 },
    });
    const j = judgeBias({ candidate, thresholds: { min_dp_ratio: 0.5, max_equalized_odds_difference: 0.1 } });
    expect(j.verdict).toBe('fail');
    expect(j.findings).toHaveLength(1);
    expect(j.findings[0]).toMatchObject({
      metric: 'equalized odds difference',
      groups: ['Black', 'White'],
      limit: 0.1,
    });
    expect(j.findings[0]!.candidate).toBeCloseTo(0.25, 12);
    expect(j.findings[0]!.sentence).toBe(
      'True positive rate for colour=Black is 0.40 against 0.65 for colour=White: equalized odds difference 0.25, above the 0.10 maximum. ' +
        "The model finds the true positives of one group of colour less often than another's; check for a proxy of colour, " +
        'rebalance the training data by group and retrain.',
    );
  });

  it('names false positives when they are the larger gap, and notes a group without positive labels', () => {
    const candidate = labelled({
      a: { tp: 0, fn: 0, fp: 30, tn: 70 },
      b: { tp: 1, fn: 9, fp: 0, tn: 90 },
    });
    const j = judgeBias({
      candidate,
      thresholds: { min_dp_ratio: 0, max_equalized_odds_difference: 0.1, min_group_size: 30 },
    });
    expect(j.findings[0]!.sentence).toMatch(
      /^False positive rate for colour=b is 0\.00 against 0\.30 for colour=a: equalized odds difference 0\.30, above the 0\.10 maximum\. The model wrongly flags/,
    );
    expect(j.notes).toContain(
      "colour=a has no positive labels in the sample, so its true positive rate counts as 0 (Fairlearn's convention), not as a measurement.",
    );
  });

  it('leaves a group under the minimum size out of the judgement, and says so', () => {
    const candidate = unlabelled({ colour: { Black: [100, 45], White: [100, 48], Other: [3, 0] } });
    const j = judgeBias({ candidate, thresholds: { min_group_size: 30 } });
    expect(j.verdict).toBe('pass');
    expect(j.notes).toEqual([
      'colour=Other has 3 rows, fewer than the 30 needed to gate it: its figures are reported, not judged.',
    ]);
    expect(judgeBias({ candidate, thresholds: { min_group_size: 1 } }).verdict).toBe('fail');
  });

  it('warns when only one group is large enough to gate', () => {
    const j = judgeBias({ candidate: unlabelled({ colour: { White: [400, 200], Black: [12, 0] } }) });
    expect(j.verdict).toBe('warn');
    expect(j.findings[0]).toMatchObject({
      metric: 'groups gated',
      groups: ['White'],
      candidate: 1,
      limit: 2,
    });
    expect(j.findings[0]!.sentence).toBe(
      'Only colour=White has the 30 rows needed to gate it, so there is no other group to compare it with. ' +
        'Collect a longer shadow window or a larger labelled sample, or lower fairness.min_group_size, and release again.',
    );
  });

  it('warns when nothing could be judged: no rows, or no one selected', () => {
    const empty = judgeBias({ candidate: measureFairness([], ['colour']) });
    expect(empty.verdict).toBe('warn');
    expect(empty.findings[0]!.sentence).toMatch(/^No group of colour has the 30 rows needed to gate it/);
    const none = judgeBias({ candidate: unlabelled({ colour: { a: [50, 0], b: [50, 0] } }) });
    expect(none.verdict).toBe('warn');
    expect(none.findings[0]).toMatchObject({ metric: 'demographic parity ratio', candidate: null });
    expect(none.findings[0]!.sentence).toMatch(/^The model selected no one in any group of colour/);
  });

  it('notes what it could not check: equalized odds without labels, an attribute stable was not measured on', () => {
    const candidate = unlabelled({ colour: { a: [50, 25], b: [50, 25] } });
    const stable = { version: 'v1', metrics: unlabelled({ sex: { F: [50, 25], M: [50, 25] } }) };
    const j = judgeBias({ candidate, stable, thresholds: { max_equalized_odds_difference: 0.1 } });
    expect(j.verdict).toBe('pass');
    expect(j.notes).toEqual([
      'Equalized odds for colour was not checked: the sample has no labels. Declare a labelled held-out sample in the package to check it.',
      'Stable v1 was not measured on colour, so the candidate is not compared with it there.',
    ]);
  });

  it('has the policy defaults the issue names', () => {
    expect(DEFAULT_BIAS_THRESHOLDS).toEqual({
      min_dp_ratio: 0.8,
      max_dp_ratio_drop: 0.05,
      near_miss: 0.1,
      min_group_size: 30,
    });
  });
});
