import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/adapters/shadow/replayer.js';
import {
  accuracy,
  agreement,
  costPerMillion,
  CURVE_PERCENTILES,
  readAnswer,
  type Answer,
  type ResourceUsage,
} from '../../src/domain/shadow.js';

/** A V2 inference response, as a model server writes it. */
function v2(outputs: Array<{ name: string; data: unknown[] }>): unknown {
  return {
    model_name: 'arrests',
    outputs: outputs.map((o) => ({ ...o, shape: [o.data.length], datatype: 'FP64' })),
  };
}

const answer = (labels: number[], scores: number[] | null = null): Answer => ({ labels, scores });

describe('readAnswer', () => {
  it('reads labels and positive-class probabilities', () => {
    const body = v2([
      { name: 'label', data: [1, 0] },
      { name: 'probability', data: [0.8, 0.1] },
    ]);
    expect(readAnswer(body)).toEqual({ labels: [1, 0], scores: [0.8, 0.1] });
  });

  it('finds outputs by name, in any order, among others', () => {
    const body = v2([
      { name: 'probability', data: [0.3] },
      { name: 'explanation', data: ['age'] },
      { name: 'label', data: [0] },
    ]);
    expect(readAnswer(body)).toEqual({ labels: [0], scores: [0.3] });
  });

  it('gives labels without scores when there is no probability output', () => {
    expect(readAnswer(v2([{ name: 'label', data: [1] }]))).toEqual({ labels: [1], scores: null });
  });

  it('drops scores whose length does not match the labels', () => {
    const body = v2([
      { name: 'label', data: [1, 0] },
      { name: 'probability', data: [0.8] },
    ]);
    expect(readAnswer(body)).toEqual({ labels: [1, 0], scores: null });
  });

  it('drops scores that are not all numbers', () => {
    const body = v2([
      { name: 'label', data: [1] },
      { name: 'probability', data: ['0.8'] },
    ]);
    expect(readAnswer(body)).toEqual({ labels: [1], scores: null });
  });

  it('is null for a body that is not a V2 answer', () => {
    for (const body of [
      null,
      undefined,
      42,
      'ok',
      [],
      {},
      { outputs: 'label' },
      { predictions: [1] },
      { error: 'model not ready' },
    ]) {
      expect(readAnswer(body)).toBeNull();
    }
  });

  it('is null without a numeric label output', () => {
    expect(readAnswer(v2([{ name: 'probability', data: [0.4] }]))).toBeNull();
    expect(readAnswer(v2([{ name: 'label', data: ['yes'] }]))).toBeNull();
    expect(readAnswer({ outputs: [{ name: 'label' }] })).toBeNull();
    expect(readAnswer({ outputs: [null, 7, { name: 'label', data: 1 }] })).toBeNull();
  });

  it('tolerates junk entries next to a good label output', () => {
    expect(readAnswer({ outputs: [null, 7, { name: 'label', data: [1] }] })).toEqual({
      labels: [1],
      scores: null,
    });
  });
});

describe('agreement', () => {
  it('counts equal labels and the mean absolute score difference', () => {
    const a = agreement(
      [answer([1], [0.9]), answer([0], [0.2]), answer([1], [0.6])],
      [answer([1], [0.7]), answer([1], [0.6]), answer([1], [0.6])],
    );
    expect(a.compared).toBe(3);
    expect(a.sameLabel).toBe(2);
    expect(a.labelAgreement).toBeCloseTo(2 / 3);
    expect(a.meanAbsScoreDiff).toBeCloseTo((0.2 + 0.4 + 0) / 3);
  });

  it('is perfect for identical answers', () => {
    const same = [answer([1, 0], [0.7, 0.2]), answer([0], [0.1])];
    expect(agreement(same, same)).toEqual({
      compared: 3,
      sameLabel: 3,
      labelAgreement: 1,
      meanAbsScoreDiff: 0,
    });
  });

  it('skips slots where either side failed', () => {
    const a = agreement(
      [answer([1], [0.9]), null, answer([0], [0.1]), null],
      [null, answer([1], [0.5]), answer([1], [0.6]), null],
    );
    expect(a).toEqual({ compared: 1, sameLabel: 0, labelAgreement: 0, meanAbsScoreDiff: 0.5 });
  });

  it('compares multi-row answers row by row', () => {
    const a = agreement([answer([1, 0, 1], [0.9, 0.2, 0.7])], [answer([1, 1, 1], [0.8, 0.6, 0.7])]);
    expect(a.compared).toBe(3);
    expect(a.sameLabel).toBe(2);
    expect(a.meanAbsScoreDiff).toBeCloseTo((0.1 + 0.4 + 0) / 3);
  });

  it('skips a slot whose answers have different numbers of rows', () => {
    const a = agreement([answer([1, 0]), answer([1])], [answer([1]), answer([1])]);
    expect(a).toEqual({ compared: 1, sameLabel: 1, labelAgreement: 1, meanAbsScoreDiff: null });
  });

  it('averages scores only over rows where both sides gave one', () => {
    const a = agreement([answer([1], [0.9]), answer([0], null)], [answer([1], [0.6]), answer([0], [0.1])]);
    expect(a.compared).toBe(2);
    expect(a.sameLabel).toBe(2);
    expect(a.meanAbsScoreDiff).toBeCloseTo(0.3);
  });

  it('compares only the slots both sides have', () => {
    const a = agreement([answer([1]), answer([1]), answer([1])], [answer([0])]);
    expect(a).toEqual({ compared: 1, sameLabel: 0, labelAgreement: 0, meanAbsScoreDiff: null });
  });

  it('has no figures when nothing was compared', () => {
    expect(agreement([], [])).toEqual({
      compared: 0,
      sameLabel: 0,
      labelAgreement: null,
      meanAbsScoreDiff: null,
    });
    expect(agreement([null], [answer([1])]).labelAgreement).toBeNull();
  });
});

describe('accuracy', () => {
  it('counts correct single-row answers against the sample labels, slot by slot', () => {
    expect(accuracy([answer([1]), answer([0]), answer([1]), answer([0])], [1, 1, 1, 0])).toEqual({
      correct: 3,
      labelled: 4,
    });
  });

  it('leaves out unlabelled slots, failed answers and multi-row answers', () => {
    const answers = [answer([1]), null, answer([1, 0]), answer([0]), answer([1])];
    const labels = [1, 1, 1, undefined, 0] as const;
    expect(accuracy(answers, labels)).toEqual({ correct: 1, labelled: 2 });
  });

  it('leaves out answers past the end of the labels', () => {
    expect(accuracy([answer([1]), answer([1])], [1])).toEqual({ correct: 1, labelled: 1 });
  });

  it('is null when no answer could be scored', () => {
    expect(accuracy([], [])).toBeNull();
    expect(accuracy([answer([1])], [undefined])).toBeNull();
    expect(accuracy([null, answer([1, 1])], [1, 1])).toBeNull();
  });
});

describe('costPerMillion', () => {
  const prices = { vcpu_hour_usd: 0.04, gb_hour_usd: 0.005 };
  const usage = (u: Partial<ResourceUsage>): ResourceUsage => ({
    cpuSeconds: 0,
    memMeanMB: 0,
    memPeakMB: 0,
    seconds: 60,
    samples: 60,
    ...u,
  });

  it('is one vCPU-hour plus one GB-hour for a million answers that took them', () => {
    const u = usage({ cpuSeconds: 3600, memMeanMB: 1024, memPeakMB: 2048, seconds: 3600 });
    expect(costPerMillion(u, 1_000_000, prices)).toBeCloseTo(0.045, 10);
  });

  it('spreads CPU time and the memory held over the window across the answered requests', () => {
    // CPU: 36 s = 0.01 h × $0.04 = $0.0004. Memory: 0.5 GB × 60 s (1/60 h) × $0.005 = $0.0000416667.
    // $0.000441667 over 6000 answers = $0.0736111 per million.
    const u = usage({ cpuSeconds: 36, memMeanMB: 512, memPeakMB: 900, seconds: 60 });
    expect(costPerMillion(u, 6000, prices)).toBeCloseTo(0.0736111, 6);
  });

  it('uses mean memory, not peak', () => {
    const a = costPerMillion(usage({ memMeanMB: 512, memPeakMB: 512 }), 1000, prices);
    const b = costPerMillion(usage({ memMeanMB: 512, memPeakMB: 4096 }), 1000, prices);
    expect(a).toBe(b);
  });

  it('makes a lightly loaded model cost more per prediction: memory is paid anyway', () => {
    const u = usage({ cpuSeconds: 1, memMeanMB: 1024, seconds: 60 });
    expect(costPerMillion(u, 100, prices)!).toBeGreaterThan(costPerMillion(u, 10_000, prices)!);
  });

  it('is zero when the platform prices nothing', () => {
    const u = usage({ cpuSeconds: 30, memMeanMB: 300 });
    expect(costPerMillion(u, 1000, { vcpu_hour_usd: 0, gb_hour_usd: 0 })).toBe(0);
  });

  it('is null when nothing was answered or no time was measured', () => {
    const u = usage({ cpuSeconds: 30, memMeanMB: 300 });
    expect(costPerMillion(u, 0, prices)).toBeNull();
    expect(costPerMillion(u, -1, prices)).toBeNull();
    expect(costPerMillion({ ...u, seconds: 0 }, 1000, prices)).toBeNull();
  });
});

describe('summarize (percentiles of a microsecond HdrHistogram, in ms)', () => {
  /** A histogram like the replayer's, with `values` recorded in microseconds. */
  function histogram(values: number[]): hdr.Histogram {
    const h = hdr.build({ numberOfSignificantValueDigits: 3 });
    for (const v of values) h.recordValue(v);
    return h;
  }
  /** HdrHistogram with 3 significant digits reports values within 0.1 %. */
  const near = (actual: number, expected: number) =>
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.001 + 1e-9);

  it('gives p50, p90, p99, max and mean of 1..100 ms', () => {
    const h = histogram(Array.from({ length: 100 }, (_, i) => (i + 1) * 1000));
    try {
      const { latency } = summarize(h);
      expect(latency.count).toBe(100);
      near(latency.p50, 50);
      near(latency.p90, 90);
      near(latency.p99, 99);
      near(latency.p999, 100);
      near(latency.max, 100);
      near(latency.mean, 50.5);
    } finally {
      h.destroy();
    }
  });

  it('keeps sub-millisecond precision', () => {
    const h = histogram([250, 250, 250, 1500]);
    try {
      const { latency } = summarize(h);
      near(latency.p50, 0.25);
      near(latency.max, 1.5);
    } finally {
      h.destroy();
    }
  });

  it('one stall in a hundred stays out of p99; two show in it', () => {
    const one = histogram([...Array<number>(99).fill(2000), 1_000_000]);
    const two = histogram([...Array<number>(98).fill(2000), 1_000_000, 1_000_000]);
    try {
      near(summarize(one).latency.p99, 2);
      near(summarize(one).latency.max, 1000);
      near(summarize(two).latency.p99, 1000);
      near(summarize(two).latency.p50, 2);
    } finally {
      one.destroy();
      two.destroy();
    }
  });

  it('never puts a percentile above the largest value recorded', () => {
    // 5501.1 ms falls in a bucket whose upper end is about 5505 ms.
    const h = histogram([...Array<number>(199).fill(5_000_000), 5_501_100]);
    try {
      const { latency, curve } = summarize(h);
      near(latency.max, 5501.1);
      expect(latency.p999).toBeLessThanOrEqual(latency.max);
      for (const point of curve) expect(point.ms).toBeLessThanOrEqual(latency.max);
    } finally {
      h.destroy();
    }
  });

  it('gives the plotted curve at every curve percentile, rising, from min to max', () => {
    const h = histogram(Array.from({ length: 10_000 }, (_, i) => (i + 1) * 10)); // 0.01..100 ms
    try {
      const { curve, latency } = summarize(h);
      expect(curve.map((p) => p.percentile)).toEqual([...CURVE_PERCENTILES]);
      for (let k = 1; k < curve.length; k++) expect(curve[k]!.ms).toBeGreaterThanOrEqual(curve[k - 1]!.ms);
      near(curve[0]!.ms, 0.01);
      near(curve.find((p) => p.percentile === 50)!.ms, 50);
      near(curve.find((p) => p.percentile === 99.9)!.ms, 99.9);
      near(curve[curve.length - 1]!.ms, 100);
      near(latency.p999, 99.9);
    } finally {
      h.destroy();
    }
  });

  it('is all zeros for an empty histogram', () => {
    const h = histogram([]);
    try {
      const { latency, curve } = summarize(h);
      expect(latency).toEqual({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
      expect(curve.every((p) => p.ms === 0)).toBe(true);
    } finally {
      h.destroy();
    }
  });
});
