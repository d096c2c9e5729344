import { describe, expect, it } from 'vitest';
import { judgeShadow, mergeBudgets, type ShadowLimits } from '../../src/domain/shadow-gate.js';
import type { LatencySummary, VersionMeasure } from '../../src/domain/shadow.js';

const LIMITS: ShadowLimits = {
  max_p99_regression: 0.2,
  p99_slack_ms: 0,
  max_error_rate_increase: 0.01,
  near_miss: 0.1,
};
const FIX = 'Optimize it: a smaller model or fewer features per prediction.';
const ACCURATE = 'Your model is accurate (accuracy 0.65 on 300 held-out requests)';

type MeasureOverrides = Omit<Partial<VersionMeasure>, 'latency'> & { latency?: Partial<LatencySummary> };

/** A healthy candidate: 300 requests, all answered, 65 % of the held-out labels right. */
function measure(o: MeasureOverrides = {}): VersionMeasure {
  const { latency, ...rest } = o;
  return {
    version: '2',
    role: 'candidate',
    sent: 300,
    errors: 0,
    errorRate: 0,
    statuses: { '200': 300 },
    latency: { count: 300, mean: 60, p50: 50, p90: 90, p99: 120, p999: 140, max: 150, ...latency },
    curve: [],
    resources: null,
    costPerMillionUsd: null,
    accuracy: { correct: 195, labelled: 300 },
    ...rest,
  };
}

const stable = (o: MeasureOverrides = {}) => measure({ version: '1', role: 'stable', ...o });

describe('judgeShadow: latency budgets', () => {
  it('fails a p99 over budget with the sentence: the numbers, and the fix', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 250 } }),
      stable: null,
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    const sentence = `${ACCURATE}, but its p99 is 250 ms, 50 ms over the 200 ms budget. ${FIX}`;
    expect(j).toEqual({
      verdict: 'fail',
      rows: [{ metric: 'p99', value: 250, limit: 200, status: 'fail', sentence }],
      headline: sentence,
    });
  });

  it('rounds milliseconds: whole above 10 ms, one decimal below', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p50: 7.44, p99: 263.6 } }),
      stable: null,
      budgets: { p50_ms: 5, p99_ms: 254.2 },
      limits: LIMITS,
    });
    expect(j.rows.map((r) => r.sentence)).toEqual([
      `${ACCURATE}, but its p99 is 264 ms, 9.4 ms over the 254 ms budget. ${FIX}`,
      `${ACCURATE}, but its p50 is 7.4 ms, 2.4 ms over the 5.0 ms budget. ${FIX}`,
    ]);
  });

  it('does not praise a model less accurate than stable: "Your model answers", with both figures', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 250 } }),
      stable: stable({ accuracy: { correct: 210, labelled: 300 }, latency: { p99: 240 } }),
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.headline).toBe(
      'Your model answers (accuracy 0.65 on 300 held-out requests, stable 0.70), ' +
        `but its p99 is 250 ms, 50 ms over the 200 ms budget. ${FIX}`,
    );
  });

  it('calls a model accurate when it is within half a point of stable, or better', () => {
    for (const correct of [194, 195, 240]) {
      const j = judgeShadow({
        candidate: measure({ accuracy: { correct, labelled: 300 }, latency: { p99: 250 } }),
        stable: stable({ accuracy: { correct: 195, labelled: 300 }, latency: { p99: 240 } }),
        budgets: { p99_ms: 200 },
        limits: LIMITS,
      });
      expect(j.headline).toMatch(
        /^Your model is accurate \(accuracy 0\.\d\d on 300 held-out requests\), but/,
      );
    }
  });

  it('calls a model accurate when stable has no labelled answers to compare with', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 250 } }),
      stable: stable({ accuracy: null, latency: { p99: 240 } }),
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.headline?.startsWith(`${ACCURATE}, but its p99 is 250 ms`)).toBe(true);
  });

  it('does not praise an accuracy from a handful of answers: a model that mostly timed out', () => {
    const j = judgeShadow({
      candidate: measure({ accuracy: { correct: 4, labelled: 8 }, latency: { p99: 250 } }),
      stable: null,
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.headline).toBe(
      'Your model answers (accuracy 0.50 on 8 held-out requests, too few answered to judge it), ' +
        `but its p99 is 250 ms, 50 ms over the 200 ms budget. ${FIX}`,
    );
  });

  it('says only "Your model answers" when its accuracy is unknown', () => {
    const j = judgeShadow({
      candidate: measure({ accuracy: null, latency: { p99: 250 } }),
      stable: null,
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.headline).toBe(
      `Your model answers, but its p99 is 250 ms, 50 ms over the 200 ms budget. ${FIX}`,
    );
  });

  it('warns on a near miss: within 10 % of the budget', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 185 } }),
      stable: null,
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    const sentence = 'Its p99 is 185 ms, within 10 % of the 200 ms budget; the next change may cross it.';
    expect(j).toEqual({
      verdict: 'warn',
      rows: [{ metric: 'p99', value: 185, limit: 200, status: 'warn', sentence }],
      headline: sentence,
    });
  });

  it('draws the lines exactly: at the budget is a warning, at the near-miss edge a pass', () => {
    const status = (p99: number) =>
      judgeShadow({
        candidate: measure({ latency: { p99 } }),
        stable: null,
        budgets: { p99_ms: 200 },
        limits: LIMITS,
      }).rows[0]!.status;
    expect(status(180)).toBe('pass');
    expect(status(180.1)).toBe('warn');
    expect(status(200)).toBe('warn');
    expect(status(200.1)).toBe('fail');
  });

  it('uses the policy near-miss share in the sentence', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p50: 48 } }),
      stable: null,
      budgets: { p50_ms: 50 },
      limits: { ...LIMITS, near_miss: 0.05 },
    });
    expect(j.rows[0]!.sentence).toBe(
      'Its p50 is 48 ms, within 5.0 % of the 50 ms budget; the next change may cross it.',
    );
  });

  it('passes well under budget, with no sentence', () => {
    const j = judgeShadow({
      candidate: measure(),
      stable: null,
      budgets: { p50_ms: 100, p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j).toEqual({
      verdict: 'pass',
      rows: [
        { metric: 'p99', value: 120, limit: 200, status: 'pass', sentence: null },
        { metric: 'p50', value: 50, limit: 100, status: 'pass', sentence: null },
      ],
      headline: null,
    });
  });

  it('judges nothing without budgets or a stable version', () => {
    expect(judgeShadow({ candidate: measure(), stable: null, budgets: {}, limits: LIMITS })).toEqual({
      verdict: 'pass',
      rows: [],
      headline: null,
    });
  });
});

describe('judgeShadow: verdict and headline order', () => {
  it('leads with p99 when both p50 and p99 fail', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p50: 120, p99: 250 } }),
      stable: null,
      budgets: { p50_ms: 100, p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.verdict).toBe('fail');
    expect(j.rows.map((r) => [r.metric, r.status])).toEqual([
      ['p99', 'fail'],
      ['p50', 'fail'],
    ]);
    expect(j.headline).toBe(`${ACCURATE}, but its p99 is 250 ms, 50 ms over the 200 ms budget. ${FIX}`);
  });

  it('lets a later failure lead over an earlier warning', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p50: 120, p99: 190 } }),
      stable: null,
      budgets: { p50_ms: 100, p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.rows.map((r) => r.status)).toEqual(['warn', 'fail']);
    expect(j.verdict).toBe('fail');
    expect(j.headline).toBe(`${ACCURATE}, but its p50 is 120 ms, 20 ms over the 100 ms budget. ${FIX}`);
  });

  it('orders rows p99, p50, error rate, cost, p99 vs stable, error rate vs stable', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: 0.1 }),
      stable: stable(),
      budgets: { p50_ms: 100, p99_ms: 200, error_rate: 0.01, cost_per_million_usd: 1 },
      limits: LIMITS,
    });
    expect(j.rows.map((r) => r.metric)).toEqual([
      'p99',
      'p50',
      'error rate',
      'cost',
      'p99 vs stable',
      'error rate vs stable',
    ]);
    expect(j.verdict).toBe('pass');
    expect(j.headline).toBeNull();
  });

  it('leads with the latency budget when the error budget fails too', () => {
    const j = judgeShadow({
      candidate: measure({
        latency: { p99: 250 },
        errors: 30,
        errorRate: 0.1,
        statuses: { '200': 270, '500': 30 },
      }),
      stable: null,
      budgets: { p99_ms: 200, error_rate: 0.01 },
      limits: LIMITS,
    });
    expect(j.rows.map((r) => r.status)).toEqual(['fail', 'fail']);
    expect(j.headline).toMatch(/but its p99 is 250 ms/);
  });
});

describe('judgeShadow: error budget', () => {
  it('fails over budget, naming the most common failing status', () => {
    const j = judgeShadow({
      candidate: measure({
        sent: 1000,
        errors: 30,
        errorRate: 0.03,
        statuses: { '200': 970, timeout: 8, '500': 20, '422': 2 },
      }),
      stable: null,
      budgets: { error_rate: 0.01 },
      limits: LIMITS,
    });
    const sentence =
      '30 of 1000 replayed requests failed (3.0 %, budget 1.0 %), most often with 500. ' +
      'Replay one with `paved try` and fix the model or its inputs.';
    expect(j).toEqual({
      verdict: 'fail',
      rows: [{ metric: 'error rate', value: 0.03, limit: 0.01, status: 'fail', sentence }],
      headline: sentence,
    });
  });

  it('names a timeout or a broken body as the failure, never a 200', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 100, errors: 40, errorRate: 0.4, statuses: { '200': 60, timeout: 40 } }),
      stable: null,
      budgets: { error_rate: 0.05 },
      limits: LIMITS,
    });
    expect(j.headline).toBe(
      '40 of 100 replayed requests failed (40 %, budget 5.0 %), most often with timeout: ' +
        'the model did not answer in time. Make it faster, or replay one with `paved try` to see whether it hangs.',
    );
    const notV2 = judgeShadow({
      candidate: measure({ sent: 10, errors: 10, errorRate: 1, statuses: { 'not V2': 10 } }),
      stable: null,
      budgets: { error_rate: 0.05 },
      limits: LIMITS,
    });
    expect(notV2.headline).toContain('most often with not V2.');
  });

  it('leaves the status out when none was recorded', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 10, errors: 5, errorRate: 0.5, statuses: {} }),
      stable: null,
      budgets: { error_rate: 0.1 },
      limits: LIMITS,
    });
    expect(j.headline).toBe(
      '5 of 10 replayed requests failed (50 %, budget 10 %). Replay one with `paved try` and fix the model or its inputs.',
    );
  });

  it('warns when a few errors come within 10 % of the budget', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 1000, errors: 95, errorRate: 0.095, statuses: { '200': 905, '503': 95 } }),
      stable: null,
      budgets: { error_rate: 0.1 },
      limits: LIMITS,
    });
    expect(j.verdict).toBe('warn');
    expect(j.rows[0]).toMatchObject({ metric: 'error rate', status: 'warn' });
    expect(j.headline).toBe(
      '95 of 1000 replayed requests failed (9.5 %, budget 10 %), most often with 503. ' +
        'Replay one with `paved try` and fix the model or its inputs.',
    );
  });

  it('passes silently with no errors, even against a zero budget', () => {
    const j = judgeShadow({ candidate: measure(), stable: null, budgets: { error_rate: 0 }, limits: LIMITS });
    expect(j.rows).toEqual([{ metric: 'error rate', value: 0, limit: 0, status: 'pass', sentence: null }]);
    expect(j.verdict).toBe('pass');
  });

  it('fails a single error against a zero budget', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 300, errors: 1, errorRate: 1 / 300, statuses: { '200': 299, '500': 1 } }),
      stable: null,
      budgets: { error_rate: 0 },
      limits: LIMITS,
    });
    expect(j.verdict).toBe('fail');
    expect(j.headline).toMatch(
      /^1 of 300 replayed requests failed \(0\.3 %, budget 0\.0 %\), most often with 500\./,
    );
  });

  it('passes errors well under budget, with no sentence', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 1000, errors: 2, errorRate: 0.002, statuses: { '200': 998, '500': 2 } }),
      stable: null,
      budgets: { error_rate: 0.01 },
      limits: LIMITS,
    });
    expect(j.rows[0]).toMatchObject({ status: 'pass', sentence: null });
  });
});

describe('judgeShadow: cost budget', () => {
  const resources = { cpuSeconds: 12.34, memMeanMB: 511.6, memPeakMB: 600, seconds: 30.2, samples: 30 };

  it('fails over budget with the figures behind the cost and the fix', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: 0.5, resources }),
      stable: null,
      budgets: { cost_per_million_usd: 0.4 },
      limits: LIMITS,
    });
    const sentence =
      `${ACCURATE}, but it costs $0.500 per million predictions (12.3 CPU s and 512 MB over 30 s), ` +
      '$0.100 over the $0.400 budget. Cut its CPU per prediction or its memory.';
    expect(j).toEqual({
      verdict: 'fail',
      rows: [{ metric: 'cost', value: 0.5, limit: 0.4, status: 'fail', sentence }],
      headline: sentence,
    });
  });

  it('gives cents above a dollar, and leaves out the figures it does not have', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: 2.5, resources: null }),
      stable: null,
      budgets: { cost_per_million_usd: 2 },
      limits: LIMITS,
    });
    expect(j.headline).toBe(
      `${ACCURATE}, but it costs $2.50 per million predictions, $0.500 over the $2.00 budget. ` +
        'Cut its CPU per prediction or its memory.',
    );
  });

  it('warns on a near miss', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: 0.38, resources }),
      stable: null,
      budgets: { cost_per_million_usd: 0.4 },
      limits: LIMITS,
    });
    expect(j.rows[0]).toEqual({
      metric: 'cost',
      value: 0.38,
      limit: 0.4,
      status: 'warn',
      sentence: 'It costs $0.380 per million predictions, within 10 % of the $0.400 budget.',
    });
    expect(j.verdict).toBe('warn');
  });

  it('passes well under budget', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: 0.1, resources }),
      stable: null,
      budgets: { cost_per_million_usd: 0.4 },
      limits: LIMITS,
    });
    expect(j.rows[0]).toMatchObject({ status: 'pass', sentence: null });
  });

  it('has no cost row when the cost could not be measured', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: null }),
      stable: null,
      budgets: { cost_per_million_usd: 0.4 },
      limits: LIMITS,
    });
    expect(j.rows).toEqual([]);
  });
});

describe('judgeShadow: against stable', () => {
  it('fails a p99 more than 20 % worse than stable, with the regression in percent', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 250 } }),
      stable: stable({ latency: { p99: 200 } }),
      budgets: {},
      limits: LIMITS,
    });
    const sentence =
      `${ACCURATE}, but its p99 is 250 ms against 200 ms for stable 1 (+25 %, at most +20 % allowed). ` +
      'Optimize it before it replaces the faster model.';
    expect(j.rows[0]).toMatchObject({ metric: 'p99 vs stable', value: 250, status: 'fail', sentence });
    expect(j.rows[0]!.limit).toBeCloseTo(240);
    expect(j.verdict).toBe('fail');
    expect(j.headline).toBe(sentence);
  });

  it('passes a p99 within the allowed regression', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 235 } }),
      stable: stable({ latency: { p99: 200 } }),
      budgets: {},
      limits: LIMITS,
    });
    expect(j.rows.map((r) => [r.metric, r.status, r.sentence])).toEqual([
      ['p99 vs stable', 'pass', null],
      ['error rate vs stable', 'pass', null],
    ]);
    expect(j.verdict).toBe('pass');
  });

  it('fails an error rate more than allowed above stable, with both rates', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 1000, errors: 30, errorRate: 0.03 }),
      stable: stable({ sent: 1000, errors: 10, errorRate: 0.01 }),
      budgets: {},
      limits: LIMITS,
    });
    const row = j.rows.find((r) => r.metric === 'error rate vs stable')!;
    expect(row).toMatchObject({ value: 0.03, status: 'fail' });
    expect(row.limit).toBeCloseTo(0.02);
    expect(row.sentence).toBe(
      'It failed 3.0 % of replayed requests where stable 1 failed 1.0 % on the same ones. ' +
        'Replay one with `paved try` and fix it.',
    );
    expect(j.headline).toBe(row.sentence);
  });

  it('passes an error rate up to the allowed increase over stable', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 1000, errors: 15, errorRate: 0.015 }),
      stable: stable({ sent: 1000, errors: 10, errorRate: 0.01 }),
      budgets: {},
      limits: LIMITS,
    });
    expect(j.rows.find((r) => r.metric === 'error rate vs stable')!.status).toBe('pass');
  });

  it('does not compare with a stable version that recorded no latency', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 900 } }),
      stable: stable({ sent: 0, latency: { count: 0, p99: 0 } }),
      budgets: {},
      limits: LIMITS,
    });
    expect(j.rows).toEqual([]);
    expect(j.verdict).toBe('pass');
  });

  it('judges the budgets before the comparison: the budget sentence leads', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 250 } }),
      stable: stable({ latency: { p99: 100 } }),
      budgets: { p99_ms: 200 },
      limits: LIMITS,
    });
    expect(j.rows.map((r) => [r.metric, r.status])).toEqual([
      ['p99', 'fail'],
      ['p99 vs stable', 'fail'],
      ['error rate vs stable', 'pass'],
    ]);
    expect(j.headline).toBe(`${ACCURATE}, but its p99 is 250 ms, 50 ms over the 200 ms budget. ${FIX}`);
  });
});

describe('mergeBudgets', () => {
  it('takes the tighter of the package and the platform budget for each figure', () => {
    expect(
      mergeBudgets(
        { p50_ms: 80, p99_ms: 300, error_rate: 0.001, cost_per_million_usd: 2 },
        { p50_ms: 100, p99_ms: 200, error_rate: 0.01, cost_per_million_usd: 1 },
      ),
    ).toEqual({ p50_ms: 80, p99_ms: 200, error_rate: 0.001, cost_per_million_usd: 1 });
  });

  it('keeps a budget only one side sets', () => {
    expect(
      mergeBudgets({ cost_per_million_usd: 0.5 }, { p50_ms: 100, p99_ms: 200, error_rate: 0.01 }),
    ).toEqual({
      p50_ms: 100,
      p99_ms: 200,
      error_rate: 0.01,
      cost_per_million_usd: 0.5,
    });
    expect(mergeBudgets({ p99_ms: 150 }, {})).toEqual({ p99_ms: 150 });
  });

  it('keeps a zero budget (a zero error budget is the tightest)', () => {
    expect(mergeBudgets({ error_rate: 0 }, { error_rate: 0.01 })).toEqual({ error_rate: 0 });
  });

  it('sets no key for a figure neither side budgets', () => {
    const merged = mergeBudgets({}, {});
    expect(merged).toEqual({});
    expect(Object.keys(merged)).toEqual([]);
  });
});

/**
 * A failing sentence must show a failure: rounded for reading, its figures must
 * still put the measured value over the limit. These fail while the sentences
 * round a regression to whole percent, a small error rate to 0.0 % and a cost
 * difference to $0.000.
 */
describe('judgeShadow: a failure near the line still reads as one', () => {
  const numbers = (text: string, re: RegExp) => {
    const m = re.exec(text);
    expect(m, `${re} in "${text}"`).not.toBeNull();
    return m!.slice(1).map(Number);
  };

  it('p99 vs stable: the regression shown is over the one allowed', () => {
    const j = judgeShadow({
      candidate: measure({ latency: { p99: 120.4 } }),
      stable: stable({ latency: { p99: 100 } }),
      budgets: {},
      limits: LIMITS,
    });
    expect(j.rows[0]!.status).toBe('fail');
    const [shown, allowed] = numbers(j.headline!, /\(\+([\d.]+) %, at most \+([\d.]+) % allowed\)/);
    expect(shown).toBeGreaterThan(allowed!);
  });

  it('error budget: one failure in 10 000 against a zero budget is not "0.0 %, budget 0.0 %"', () => {
    const j = judgeShadow({
      candidate: measure({ sent: 10_000, errors: 1, errorRate: 1e-4, statuses: { '200': 9999, '500': 1 } }),
      stable: null,
      budgets: { error_rate: 0 },
      limits: LIMITS,
    });
    expect(j.verdict).toBe('fail');
    const [shown, budget] = numbers(j.headline!, /failed \(([\d.]+) %, budget ([\d.]+) %\)/);
    expect(shown).toBeGreaterThan(budget!);
  });

  it('cost: a cost just over budget is not "$0.000 over"', () => {
    const j = judgeShadow({
      candidate: measure({ costPerMillionUsd: 0.4004 }),
      stable: null,
      budgets: { cost_per_million_usd: 0.4 },
      limits: LIMITS,
    });
    expect(j.verdict).toBe('fail');
    const [cost, over, budget] = numbers(
      j.headline!,
      /costs \$([\d.]+) per million predictions, \$([\d.]+) over the \$([\d.]+) budget/,
    );
    expect(over).toBeGreaterThan(0);
    expect(cost).toBeGreaterThan(budget!);
  });
});
