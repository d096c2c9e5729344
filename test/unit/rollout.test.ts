import { describe, expect, it } from 'vitest';
import {
  decideStep,
  DEFAULT_LIMITS,
  judgeWindow,
  routeToCanary,
  servingContainerName,
  shadowContainerName,
  stickyBucket,
  type WindowStats,
} from '../../src/domain/rollout.js';

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

  it('bakes again with too little traffic, then gives up and says what to do', () => {
    const j = { kind: 'insufficient' as const, reason: 'the canary answered 3 requests' };
    expect(decideStep(j, 2, DEFAULT_LIMITS).kind).toBe('extend');
    expect(decideStep(j, 3, DEFAULT_LIMITS)).toEqual({
      kind: 'rollback',
      reason: 'the canary answered 3 requests, after 4 windows; send traffic or lower rollout.minRequests',
    });
  });
});

describe('sticky assignment', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

  it('sends about the weight share of keys to the canary', () => {
    for (const weight of [5, 25, 50]) {
      const share =
        keys.filter((k) => routeToCanary(stickyBucket('arrests', k), weight)).length / keys.length;
      expect(Math.abs(share - weight / 100)).toBeLessThan(0.015);
    }
  });

  it('never moves a key back to stable while the weight only grows', () => {
    const weights = [0, 5, 25, 50, 100];
    for (const k of keys.slice(0, 2000)) {
      const b = stickyBucket('arrests', k);
      const path = weights.map((w) => routeToCanary(b, w));
      const firstCanary = path.indexOf(true);
      expect(path.slice(firstCanary).every(Boolean)).toBe(true);
    }
    expect(keys.every((k) => routeToCanary(stickyBucket('arrests', k), 100))).toBe(true);
    expect(keys.some((k) => routeToCanary(stickyBucket('arrests', k), 0))).toBe(false);
  });

  it('is the same key, same bucket, every time; other models bucket independently', () => {
    expect(stickyBucket('arrests', 'user-7')).toBe(stickyBucket('arrests', 'user-7'));
    const same = keys.filter(
      (k) => stickyBucket('arrests', k) < 500 && stickyBucket('churn', k) < 500,
    ).length;
    expect(same / keys.length).toBeLessThan(0.01); // independent: about 5 % × 5 %
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
});
