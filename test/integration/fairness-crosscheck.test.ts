import { venvRoot } from '../../src/domain/config.js';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { feastVenvBin } from '../../src/adapters/stack/python-env.js';
import {
  measureFairness,
  type AttributeFairness,
  type Disparities,
  type Outcome,
  type PredictionRow,
} from '../../src/domain/fairness.js';

// src/domain/fairness.ts claims Fairlearn's definitions; this holds it to them on
// random data, edge cases included, using the Fairlearn of the project's Feast venv
// (which the stack setup installs).
const PYTHON = feastVenvBin(venvRoot(loadConfig()), 'python');
const SCRIPT = projectPath('scripts', 'python', 'fairness_reference.py');
const TOLERANCE = 1e-9;

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  id: string;
  yPred: Outcome[];
  yTrue: Outcome[] | null;
  sensitive: Record<string, string[]>;
  /** Declared groups, some without rows: pandas Categoricals on the Python side. */
  categories?: Record<string, string[]>;
  minGroupSize: number;
}

function toRows(c: Case): PredictionRow[] {
  return c.yPred.map((yPred, k) => ({
    yPred,
    ...(c.yTrue ? { yTrue: c.yTrue[k]! } : {}),
    groups: Object.fromEntries(Object.entries(c.sensitive).map(([a, values]) => [a, values[k]!])),
  }));
}

/** Rows drawn with a per-group selection rate (so the groups really differ) and a per-group base rate. */
function randomCase(
  id: string,
  seed: number,
  opts: { rows: number; groups: Record<string, string[]>; labelled: boolean; minGroupSize: number },
): Case {
  const next = rng(seed);
  const attributes = Object.keys(opts.groups);
  const selectRate = new Map<string, number>();
  const baseRate = new Map<string, number>();
  for (const a of attributes)
    for (const g of opts.groups[a]!) {
      selectRate.set(`${a}\u0000${g}`, next());
      baseRate.set(`${a}\u0000${g}`, next());
    }
  // Skewed group sizes: the last group of each attribute is rare, often a single member or none.
  const pick = (values: string[]) => {
    const u = next();
    return values[Math.min(values.length - 1, Math.floor(Math.pow(u, 1.6) * values.length))]!;
  };
  const c: Case = {
    id,
    yPred: [],
    yTrue: opts.labelled ? [] : null,
    sensitive: {},
    minGroupSize: opts.minGroupSize,
  };
  for (const a of attributes) c.sensitive[a] = [];
  for (let k = 0; k < opts.rows; k++) {
    const a0 = attributes[0]!;
    const g0 = pick(opts.groups[a0]!);
    for (const a of attributes) c.sensitive[a]!.push(a === a0 ? g0 : pick(opts.groups[a]!));
    const key = `${a0}\u0000${g0}`;
    c.yPred.push(next() < selectRate.get(key)! ? 1 : 0);
    c.yTrue?.push(next() < baseRate.get(key)! ? 1 : 0);
  }
  return c;
}

function fixed(id: string, spec: Array<[string, Outcome, Outcome]>, minGroupSize = 1, labelled = true): Case {
  return {
    id,
    yPred: spec.map((s) => s[1]),
    yTrue: labelled ? spec.map((s) => s[2]) : null,
    sensitive: { colour: spec.map((s) => s[0]) },
    minGroupSize,
  };
}

const cases: Case[] = [
  ...Array.from({ length: 8 }, (_, i) =>
    randomCase(`random-${i}`, 1000 + i, {
      rows: [200, 37, 12, 500, 5, 80, 3, 1200][i]!,
      groups: { colour: ['Black', 'White', 'Other'], sex: ['F', 'M'], age: ['<25', '25-45', '>45', '90+'] },
      labelled: i % 3 !== 2,
      minGroupSize: [30, 5, 1, 50, 2, 20, 1, 100][i]!,
    }),
  ),
  fixed('group without positives', [
    ['a', 1, 0],
    ['a', 0, 0],
    ['a', 1, 0],
    ['b', 1, 1],
    ['b', 0, 1],
    ['b', 1, 0],
  ]),
  fixed('group without negatives', [
    ['a', 1, 1],
    ['a', 0, 1],
    ['b', 0, 0],
    ['b', 1, 1],
  ]),
  fixed(
    'single-member groups',
    [
      ['a', 1, 1],
      ['b', 0, 1],
      ['c', 1, 0],
      ['c', 0, 0],
      ['c', 1, 1],
    ],
    2,
  ),
  fixed('one group only', [
    ['a', 1, 1],
    ['a', 0, 0],
    ['a', 0, 1],
  ]),
  fixed('no one selected', [
    ['a', 0, 1],
    ['a', 0, 0],
    ['b', 0, 1],
  ]),
  fixed(
    'everyone selected, unlabelled',
    [
      ['a', 1, 0],
      ['b', 1, 0],
      ['b', 1, 0],
    ],
    1,
    false,
  ),
  {
    ...fixed('declared groups without rows', [
      ['a', 1, 1],
      ['a', 0, 0],
      ['b', 1, 0],
    ]),
    categories: { colour: ['a', 'b', 'c', 'd'] },
  },
  fixed('empty input', []),
];

/** The same case restricted to the rows of its groups with at least minGroupSize rows. */
function gatedCase(c: Case, attribute: string): Case {
  const values = c.sensitive[attribute]!;
  const size = new Map<string, number>();
  for (const v of values) size.set(v, (size.get(v) ?? 0) + 1);
  const keep = values.map((v) => size.get(v)! >= c.minGroupSize);
  const only = <T>(xs: T[]) => xs.filter((_, k) => keep[k]);
  return {
    id: `${c.id} / ${attribute} gated`,
    yPred: only(c.yPred),
    yTrue: c.yTrue ? only(c.yTrue) : null,
    sensitive: { [attribute]: only(values) },
    minGroupSize: 1,
  };
}

interface Reference {
  error?: string;
  byGroup?: Record<
    string,
    { count: number; selectionRate: number; truePositiveRate?: number; falsePositiveRate?: number }
  >;
  difference?: Record<string, number | null>;
  ratio?: Record<string, number | null>;
  demographicParityDifference?: number | null;
  demographicParityRatio?: number | null;
  equalizedOddsDifference?: number | null;
}

function fairlearn(all: Case[]): { version: string; byCase: Map<string, Record<string, Reference>> } {
  const input = JSON.stringify({
    cases: all.map((c) => ({
      id: c.id,
      yPred: c.yPred,
      yTrue: c.yTrue,
      sensitive: c.sensitive,
      categories: c.categories,
    })),
  });
  const out = JSON.parse(
    execFileSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
  ) as {
    fairlearn: string;
    cases: Array<{ id: string; attributes: Record<string, Reference> }>;
  };
  return { version: out.fairlearn, byCase: new Map(out.cases.map((c) => [c.id, c.attributes])) };
}

/** Differences between TS and Fairlearn, as readable lines; NaN is null on both sides. */
function compare(
  where: string,
  ts: { groups: AttributeFairness['groups']; d: Disparities },
  ref: Reference,
): string[] {
  const out: string[] = [];
  const check = (what: string, mine: number | null | undefined, theirs: number | null | undefined) => {
    const a = mine ?? null;
    const b = theirs ?? null;
    if (a === null && b === null) return;
    if (a === null || b === null || Math.abs(a - b) > TOLERANCE)
      out.push(`${where} ${what}: paved ${a}, Fairlearn ${b}`);
  };
  const present = ts.groups.filter((g) => g.count > 0);
  const refGroups = Object.keys(ref.byGroup ?? {});
  if (present.map((g) => g.group).join('|') !== refGroups.join('|'))
    out.push(
      `${where} groups: paved ${present.map((g) => g.group).join(',')}, Fairlearn ${refGroups.join(',')}`,
    );
  for (const g of present) {
    const r = ref.byGroup?.[g.group];
    if (!r) continue;
    check(`${g.group} count`, g.count, r.count);
    check(`${g.group} selection rate`, g.selectionRate, r.selectionRate);
    check(`${g.group} TPR`, g.truePositiveRate, r.truePositiveRate);
    check(`${g.group} FPR`, g.falsePositiveRate, r.falsePositiveRate);
  }
  check('selection rate difference', ts.d.selectionRate.difference, ref.difference?.selectionRate);
  check('selection rate ratio', ts.d.selectionRate.ratio, ref.ratio?.selectionRate);
  check('TPR difference', ts.d.truePositiveRate?.difference, ref.difference?.truePositiveRate);
  check('TPR ratio', ts.d.truePositiveRate?.ratio, ref.ratio?.truePositiveRate);
  check('FPR difference', ts.d.falsePositiveRate?.difference, ref.difference?.falsePositiveRate);
  check('FPR ratio', ts.d.falsePositiveRate?.ratio, ref.ratio?.falsePositiveRate);
  check('demographic parity difference', ts.d.demographicParityDifference, ref.demographicParityDifference);
  check('demographic parity ratio', ts.d.demographicParityRatio, ref.demographicParityRatio);
  check('equalized odds difference', ts.d.equalizedOddsDifference, ref.equalizedOddsDifference);
  check('disparate impact', ts.d.disparateImpact.ratio, ref.demographicParityRatio);
  return out;
}

describe('fairness metrics against Fairlearn', () => {
  const gated = cases.flatMap((c) => Object.keys(c.sensitive).map((a) => gatedCase(c, a)));
  const reference = fairlearn([...cases, ...gated]);

  it('uses the pinned Fairlearn', () => {
    expect(reference.version).toBe('0.15.0');
  });

  it('the cases cover the edge cases they are named for', () => {
    const all = cases.flatMap((c) =>
      measureFairness(toRows(c), Object.keys(c.sensitive), { knownGroups: c.categories }).attributes.flatMap(
        (a) => a.groups,
      ),
    );
    expect(all.some((g) => g.count === 1)).toBe(true);
    expect(all.some((g) => g.count === 0)).toBe(true);
    expect(all.some((g) => g.positives === 0 && g.count > 0)).toBe(true);
    expect(all.some((g) => g.negatives === 0 && g.count > 0)).toBe(true);
    expect(gated.some((c) => c.yPred.length === 0)).toBe(true);
  });

  for (const c of cases) {
    it(`equals Fairlearn within 1e-9: ${c.id} (${c.yPred.length} rows, min group size ${c.minGroupSize})`, () => {
      const report = measureFairness(toRows(c), Object.keys(c.sensitive), {
        minGroupSize: c.minGroupSize,
        knownGroups: c.categories,
      });
      // Every sensitive attribute came back from both sides: an empty list would check nothing below.
      const attributes = Object.keys(c.sensitive).sort();
      expect(attributes.length).toBeGreaterThan(0);
      expect(report.attributes.map((a) => a.attribute).sort()).toEqual(attributes);
      expect(Object.keys(reference.byCase.get(c.id) ?? {}).sort()).toEqual(attributes);
      const problems: string[] = [];
      for (const a of report.attributes) {
        const ref = reference.byCase.get(c.id)![a.attribute]!;
        const refGated = reference.byCase.get(`${c.id} / ${a.attribute} gated`)![a.attribute]!;
        if (c.yPred.length === 0) {
          // Fairlearn raises on empty input; paved lists no group and answers null.
          expect(ref.error).toMatch(/ValueError/);
          expect(a.groups.filter((g) => g.count > 0)).toEqual([]);
          expect(a.all.demographicParityRatio).toBeNull();
          continue;
        }
        expect(ref.error).toBeUndefined();
        // with rows, each side has groups for this attribute
        expect(a.groups.filter((g) => g.count > 0).length).toBeGreaterThan(0);
        expect(Object.keys(ref.byGroup ?? {}).length).toBeGreaterThan(0);
        problems.push(...compare(`${a.attribute} (all groups)`, { groups: a.groups, d: a.all }, ref));
        if (a.gated.groups === 0) {
          expect(refGated.error).toMatch(/ValueError/);
          expect(a.gated.demographicParityRatio).toBeNull();
        } else {
          const admitted = a.groups.filter((g) => g.gated);
          problems.push(...compare(`${a.attribute} (gated)`, { groups: admitted, d: a.gated }, refGated));
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
