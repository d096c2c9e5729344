import { describe, expect, it } from 'vitest';
import {
  decideStep,
  DEFAULT_LIMITS,
  judgedWindowMs,
  judgeWindow,
  minutes,
  servingContainerName,
  servingReplicaName,
  shadowContainerName,
  type WindowStats,
} from '../../src/domain/rollout.js';
import { rolloutSection } from '../../src/report/rollout-section.js';

const stable: WindowStats = { requests: 900, errors: 0, p50Ms: 3, p99Ms: 10 };
const healthy: WindowStats = { requests: 100, errors: 0, p50Ms: 3, p99Ms: 11 };

describe('judgeWindow', () => {
  it('calls a canary that behaves like stable healthy, with the numbers', () => {
    expect(judgeWindow(healthy, stable, DEFAULT_LIMITS)).toEqual({
      kind: 'healthy',
      reason: 'canary 100 requests, error rate 0 %, p99 11.0 ms; stable 900 requests, 0 %, p99 10.0 ms',
    });
  });

  it('does not judge a canary with too little traffic', () => {
    expect(judgeWindow({ ...healthy, requests: 49, errors: 49 }, stable, DEFAULT_LIMITS)).toEqual({
      kind: 'insufficient',
      reason: 'the canary answered 49 requests, fewer than the 50 needed to judge it',
    });
  });

  it('breaches on 20 % errors, naming both rates', () => {
    const j = judgeWindow({ ...healthy, errors: 20 }, stable, DEFAULT_LIMITS);
    expect(j).toEqual({
      kind: 'breach',
      reason: 'canary error rate 20 % (20 of 100) is over the 5 % limit; stable 0 %',
    });
  });

  it('breaches when errors rise above stable by more than allowed, even under the absolute limit', () => {
    const j = judgeWindow({ ...healthy, errors: 3 }, { ...stable, errors: 9 }, DEFAULT_LIMITS);
    expect(j).toEqual({
      kind: 'breach',
      reason: "canary error rate 3 % is more than 1 % above stable's 1 %",
    });
  });

  it('breaches on p99 over stable × ratio + slack, and allows it just under', () => {
    expect(judgeWindow({ ...healthy, p99Ms: 35.1 }, stable, DEFAULT_LIMITS)).toEqual({
      kind: 'breach',
      reason: 'canary p99 35.1 ms is over 35.0 ms (stable p99 10.0 ms × 1.5 + 20 ms)',
    });
    expect(judgeWindow({ ...healthy, p99Ms: 35 }, stable, DEFAULT_LIMITS).kind).toBe('healthy');
  });

  it('does not hold a canary to a stable that fails itself: its fast errors are no p99 yardstick', () => {
    const dying: WindowStats = { requests: 900, errors: 830, p50Ms: 1, p99Ms: 3 };
    const canary: WindowStats = { requests: 100, errors: 0, p50Ms: 8, p99Ms: 25 };
    const j = judgeWindow(canary, dying, DEFAULT_LIMITS);
    expect(j.kind).toBe('healthy');
    expect(j.reason).toContain(
      'stable fails over the 5 % limit itself, so the canary was judged on the absolute limits only',
    );
    // the absolute limits still hold
    expect(judgeWindow({ ...canary, errors: 20 }, dying, DEFAULT_LIMITS).kind).toBe('breach');
    // a stable within the limits stays the yardstick
    expect(judgeWindow(canary, { ...dying, errors: 0 }, DEFAULT_LIMITS).kind).toBe('breach');
  });

  it('judges a first release (no stable) on the absolute limits only', () => {
    expect(judgeWindow({ ...healthy, p99Ms: 500 }, null, DEFAULT_LIMITS).kind).toBe('healthy');
    expect(judgeWindow({ ...healthy, errors: 6 }, null, DEFAULT_LIMITS)).toEqual({
      kind: 'breach',
      reason: 'canary error rate 6 % (6 of 100) is over the 5 % limit',
    });
  });
});

describe('decideStep', () => {
  it('advances when healthy, rolls back on a breach', () => {
    expect(decideStep({ kind: 'healthy', reason: 'ok' }, 0, DEFAULT_LIMITS).kind).toBe('advance');
    expect(decideStep({ kind: 'breach', reason: 'bad' }, 0, DEFAULT_LIMITS)).toEqual({
      kind: 'rollback',
      reason: 'bad',
    });
  });

  it('holds the weight with too little traffic, and never rolls back for it: a person decides at the deadline', () => {
    const j = { kind: 'insufficient' as const, reason: 'the canary answered 3 requests' };
    const limits = { ...DEFAULT_LIMITS, inconclusiveMs: 30 * 60_000 };
    expect(decideStep(j, 0, limits)).toEqual({
      kind: 'extend',
      reason: 'inconclusive: the canary answered 3 requests; holding the weight',
    });
    expect(decideStep(j, 30 * 60_000 - 1, limits).kind).toBe('extend');
    expect(decideStep(j, 30 * 60_000, limits)).toEqual({
      kind: 'review',
      reason:
        'inconclusive for 30 min: the canary answered 3 requests; a reviewer decides whether it goes on (approve) or rolls back (reject)',
    });
    // a breach still rolls back at once, however long the step has held
    expect(decideStep({ kind: 'breach', reason: 'bad' }, 60 * 60_000, limits).kind).toBe('rollback');
  });
});

describe('judged window', () => {
  it('counts every request since the weight was set, at least one bake, at most what the gateway keeps', () => {
    expect(judgedWindowMs(2_000, 10_000)).toBe(10_000);
    expect(judgedWindowMs(95_000, 10_000)).toBe(95_000);
    expect(judgedWindowMs(3_600_000, 10_000)).toBe(900_000);
  });

  it('says how long in words a person reads', () => {
    expect(minutes(45_000)).toBe('45 s');
    expect(minutes(30 * 60_000)).toBe('30 min');
    expect(minutes(3 * 3_600_000)).toBe('3 h');
  });
});

describe('rollout report section', () => {
  it('says a first release was not judged on live traffic', () => {
    const sec = rolloutSection({
      version: 'v1',
      stable: null,
      windows: [{ weight: 100, canary: null, stable: null, decision: 'unjudged', reason: 'first release' }],
      ending: 'released without a judgement on live traffic',
    });
    expect(sec.title).toBe('Rollout');
    expect(sec.markdown).toContain('was not judged on live traffic');
    expect(sec.markdown).toContain('| 100 % | unjudged | — | — | — | — | — | first release |');
    expect(sec.html).toContain(
      '<b>Not judged on live traffic. released without a judgement on live traffic</b>',
    );
  });

  it("lists each judged window with both versions' numbers", () => {
    const sec = rolloutSection({
      version: 'v2',
      stable: 'v1',
      windows: [
        {
          weight: 25,
          canary: { requests: 3, errors: 0, p50Ms: 2, p99Ms: 4.26 },
          stable: stable,
          decision: 'extend',
          reason: 'inconclusive',
        },
        { weight: 25, canary: healthy, stable, decision: 'advance', reason: 'ok | fine' },
      ],
      ending: 'v2 took every step (25, 100 %)',
    });
    expect(sec.markdown).toContain('against stable v1 on live traffic');
    expect(sec.markdown).not.toContain('Not judged');
    expect(sec.markdown).toContain('| 25 % | extend | 3 | 0 | 4.3 ms | 900 | 10.0 ms | inconclusive |');
    expect(sec.markdown).toContain('ok \\| fine');
  });
});

describe('container names', () => {
  it('never give a shadow container the name of a serving one, or of another release', () => {
    // Model "shadow-a" serving v1 used to share a name with model "a"'s shadow of v1.
    expect(shadowContainerName('a', 'v1')).not.toBe(servingContainerName('shadow-a', 'v1'));
    expect(shadowContainerName('a-b', 'c')).not.toBe(shadowContainerName('a', 'b-c'));
    expect(shadowContainerName('arrests', 'v1.2_rc')).toBe('paved_shadow.arrests.v1.2_rc');
    expect(servingContainerName('a-b', 'c')).not.toBe(servingContainerName('a', 'b-c'));
    expect(servingContainerName('arrests', 'v1.2_rc')).toBe('paved-arrests.v1.2_rc');
  });

  it('keep replica 0 under the old name and give the others names no version can collide with', () => {
    expect(servingReplicaName('arrests', 'v1', 0)).toBe(servingContainerName('arrests', 'v1'));
    expect(servingReplicaName('arrests', 'v1', 2)).toBe('paved_replica2.arrests.v1');
    // A version spelled like another's replica suffix still gets its own name.
    const names = [
      servingReplicaName('arrests', 'v1', 1),
      servingReplicaName('arrests', 'v1-1', 0),
      servingReplicaName('arrests', 'v1.1', 0),
      shadowContainerName('arrests', 'v1'),
    ];
    expect(new Set(names).size).toBe(names.length);
  });
});
