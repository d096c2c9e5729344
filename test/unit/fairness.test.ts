import { describe, expect, it } from 'vitest';
import { FairnessInputError, measureFairness, type PredictionRow } from '../../src/domain/fairness.js';

/** [group, yPred, yTrue?] → rows of one attribute, `colour` unless named. */
function rows(spec: Array<[string, 0 | 1, (0 | 1)?]>, attribute = 'colour'): PredictionRow[] {
  return spec.map(([group, yPred, yTrue]) => ({
    yPred,
    ...(yTrue === undefined ? {} : { yTrue }),
    groups: { [attribute]: group },
  }));
}

/** `k` rows of a group with `selected` of them predicted 1, unlabelled. */
function block(group: string, k: number, selected: number): Array<[string, 0 | 1]> {
  return Array.from({ length: k }, (_, i): [string, 0 | 1] => [group, i < selected ? 1 : 0]);
}

describe('measureFairness', () => {
  it('gives per-group rates and the disparities Fairlearn gives on the same data', () => {
    // Fairlearn 0.15.0 on these rows: TPR a 1, b 0, c 0.5; FPR a 0, b 1, c 0; eod 1.
    const r = measureFairness(
      rows([
        ['a', 1, 1],
        ['a', 0, 0],
        ['b', 0, 1],
        ['b', 1, 0],
        ['c', 1, 1],
        ['c', 0, 1],
      ]),
      ['colour'],
    );
    const a = r.attributes[0]!;
    expect(r.labelled).toBe(true);
    expect(
      a.groups.map((g) => [g.group, g.count, g.selectionRate, g.truePositiveRate, g.falsePositiveRate]),
    ).toEqual([
      ['a', 2, 0.5, 1, 0],
      ['b', 2, 0.5, 0, 1],
      ['c', 2, 0.5, 0.5, 0],
    ]);
    expect(a.all.demographicParityDifference).toBe(0);
    expect(a.all.demographicParityRatio).toBe(1);
    expect(a.all.equalizedOddsDifference).toBe(1);
    expect(a.all.truePositiveRate).toEqual({
      min: { group: 'b', value: 0 },
      max: { group: 'a', value: 1 },
      difference: 1,
      ratio: 0,
    });
  });

  it('counts a group with no positive labels as TPR 0, as Fairlearn does, and says it has no positives', () => {
    const a = measureFairness(
      rows([
        ['a', 1, 0],
        ['a', 0, 0],
        ['b', 1, 1],
        ['b', 1, 0],
      ]),
      ['colour'],
    ).attributes[0]!;
    const groupA = a.groups[0]!;
    expect(groupA).toMatchObject({
      group: 'a',
      positives: 0,
      negatives: 2,
      truePositiveRate: 0,
      falsePositiveRate: 0.5,
    });
    expect(a.all.equalizedOddsDifference).toBe(1);
  });

  it('counts a group with no negative labels as FPR 0', () => {
    const a = measureFairness(
      rows([
        ['a', 1, 1],
        ['a', 0, 1],
        ['b', 1, 1],
        ['b', 1, 0],
      ]),
      ['colour'],
    ).attributes[0]!;
    expect(a.groups[0]).toMatchObject({ negatives: 0, falsePositiveRate: 0, truePositiveRate: 0.5 });
    expect(a.all.equalizedOddsDifference).toBe(1);
  });

  it('with one group only: differences 0, ratios 1, and the four-fifths rule holds', () => {
    const a = measureFairness(
      rows([
        ['a', 1, 1],
        ['a', 0, 0],
        ['a', 0, 1],
      ]),
      ['colour'],
    ).attributes[0]!;
    expect(a.all.groups).toBe(1);
    expect(a.all.demographicParityDifference).toBe(0);
    expect(a.all.demographicParityRatio).toBe(1);
    expect(a.all.equalizedOddsDifference).toBe(0);
    expect(a.all.disparateImpact).toEqual({ ratio: 1, threshold: 0.8, passes: true });
    // FPR is 0 for the only group: its ratio is 0/0, NaN in Fairlearn.
    expect(a.all.falsePositiveRate?.ratio).toBeNull();
  });

  it('when no one is selected: difference 0 and ratio null (NaN in Fairlearn), the four-fifths rule undecided', () => {
    const a = measureFairness(rows([...block('a', 3, 0), ...block('b', 2, 0)]), ['colour']).attributes[0]!;
    expect(a.all.demographicParityDifference).toBe(0);
    expect(a.all.demographicParityRatio).toBeNull();
    expect(a.all.disparateImpact).toEqual({ ratio: null, threshold: 0.8, passes: null });
  });

  it('gives a single-member group its 0 or 1 rates', () => {
    const a = measureFairness(
      rows([
        ['a', 1, 1],
        ['b', 0, 0],
        ['b', 0, 1],
      ]),
      ['colour'],
    ).attributes[0]!;
    expect(a.groups[0]).toMatchObject({
      group: 'a',
      count: 1,
      selectionRate: 1,
      truePositiveRate: 1,
      falsePositiveRate: 0,
    });
    expect(a.all.demographicParityDifference).toBe(1);
    expect(a.all.demographicParityRatio).toBe(0);
  });

  it('applies the four-fifths rule at exactly 0.8', () => {
    const pass = measureFairness(rows([...block('a', 10, 4), ...block('b', 10, 5)]), ['colour'])
      .attributes[0]!;
    expect(pass.all.disparateImpact).toEqual({ ratio: 0.8, threshold: 0.8, passes: true });
    const fail = measureFairness(rows([...block('a', 10, 3), ...block('b', 10, 5)]), ['colour'])
      .attributes[0]!;
    expect(fail.all.disparateImpact.passes).toBe(false);
    expect(fail.all.selectionRate.min).toEqual({ group: 'a', value: 0.3 });
  });

  it('reports a group under the minimum size but leaves it out of the gated aggregates', () => {
    const r = measureFairness(
      rows([...block('big', 40, 20), ...block('mid', 30, 12), ...block('tiny', 3, 0)]),
      ['colour'],
      {
        minGroupSize: 30,
      },
    );
    const a = r.attributes[0]!;
    expect(r.minGroupSize).toBe(30);
    expect(a.groups.map((g) => [g.group, g.count, g.gated])).toEqual([
      ['big', 40, true],
      ['mid', 30, true],
      ['tiny', 3, false],
    ]);
    expect(a.belowMinSize).toEqual(['tiny']);
    expect(a.all.demographicParityRatio).toBe(0);
    expect(a.gated.groups).toBe(2);
    expect(a.gated.demographicParityRatio).toBeCloseTo(0.8, 12);
    expect(a.gated.selectionRate.min?.group).toBe('mid');
  });

  it('lists a declared group without rows, with count 0 and no rate, outside every aggregate', () => {
    const a = measureFairness(rows([...block('a', 2, 1), ...block('b', 2, 2)]), ['colour'], {
      knownGroups: { colour: ['a', 'b', 'other'] },
    }).attributes[0]!;
    expect(a.groups[2]).toEqual({
      group: 'other',
      count: 0,
      selected: 0,
      selectionRate: null,
      positives: null,
      negatives: null,
      truePositiveRate: null,
      falsePositiveRate: null,
      gated: false,
    });
    expect(a.all.groups).toBe(2);
    expect(a.all.demographicParityRatio).toBe(0.5);
    expect(a.belowMinSize).toEqual([]);
  });

  it('on empty input lists no group and gives null figures (Fairlearn raises)', () => {
    const r = measureFairness([], ['colour']);
    expect(r).toMatchObject({ rows: 0, labelled: false });
    expect(r.attributes[0]!.groups).toEqual([]);
    expect(r.attributes[0]!.all).toMatchObject({
      groups: 0,
      demographicParityDifference: null,
      demographicParityRatio: null,
      equalizedOddsDifference: null,
      disparateImpact: { ratio: null, passes: null },
    });
  });

  it('without labels gives selection rates only', () => {
    const a = measureFairness(rows([...block('a', 2, 1), ...block('b', 2, 2)]), ['colour']).attributes[0]!;
    expect(a.groups[0]).toMatchObject({ positives: null, truePositiveRate: null, falsePositiveRate: null });
    expect(a.all.truePositiveRate).toBeNull();
    expect(a.all.equalizedOddsDifference).toBeNull();
  });

  it('measures each attribute on its own and compares values as text', () => {
    const data: PredictionRow[] = [
      { yPred: 1, groups: { colour: 'White', age: 30 } },
      { yPred: 0, groups: { colour: 'Black', age: 30 } },
      { yPred: 1, groups: { colour: 'Black', age: 40 } },
    ];
    const r = measureFairness(data, ['colour', 'age']);
    expect(
      r.attributes.map((a) => [a.attribute, a.groups.map((g) => `${g.group}:${g.selectionRate}`)]),
    ).toEqual([
      ['colour', ['Black:0.5', 'White:1']],
      ['age', ['30:0.5', '40:1']],
    ]);
  });

  it('refuses an attribute the data does not have, naming it and the ones it has', () => {
    const data: PredictionRow[] = [{ yPred: 1, groups: { colour: 'White', sex: 'F' } }];
    expect(() => measureFairness(data, ['race'])).toThrow(FairnessInputError);
    expect(() => measureFairness(data, ['race'])).toThrow(
      'sensitive attribute `race` is not in the data (it has colour, sex) — fix the name under fairness in paved.yaml, ' +
        'or fetch `race` from the feature store with the predictions',
    );
  });

  it('refuses an attribute missing on some rows, saying how many and which first', () => {
    const data: PredictionRow[] = [
      { yPred: 1, groups: { colour: 'White' } },
      { yPred: 0, groups: { colour: null } },
      { yPred: 0, groups: {} },
    ];
    expect(() => measureFairness(data, ['colour'])).toThrow(
      'sensitive attribute `colour` has no value for 2 of 3 rows (first: row 1)',
    );
  });

  it('refuses a sample labelled on some rows only, and predictions that are not 0 or 1', () => {
    expect(() =>
      measureFairness(
        rows([
          ['a', 1, 1],
          ['a', 0],
        ]),
        ['colour'],
      ),
    ).toThrow('1 of 2 rows have a label — label every row of the sample or none');
    const scores = [{ yPred: 0.7, groups: { colour: 'a' } }] as unknown as PredictionRow[];
    expect(() => measureFairness(scores, ['colour'])).toThrow(
      "row 0 has yPred 0.7; fairness is measured on binary predictions, 0 or 1 — threshold the model's scores before measuring",
    );
  });
});
