import { describe, expect, it } from 'vitest';
import { grantNext, joinLane, leaveLane, routeWithEndpoints, type Lane } from '../../src/domain/serving.js';
import type { ModelRoute } from '../../src/domain/route.js';

const entry = (release: string, request = 1) => ({ release, request, since: '2026-11-28T00:00:00Z' });

describe('the rollout lane', () => {
  it('is granted in the order asked, one at a time', () => {
    let lane: Lane = { holder: null, queue: [] };
    lane = joinLane(lane, entry('a'));
    lane = joinLane(lane, entry('b'));
    const first = grantNext(lane);
    expect(first.granted?.release).toBe('a');
    expect(grantNext(first.lane).granted).toBeNull(); // a holds it
    const second = grantNext(leaveLane(first.lane, 'a'));
    expect(second.granted?.release).toBe('b');
    expect(second.lane).toEqual({ holder: entry('b'), queue: [] });
  });

  it('a repeated ask keeps the first place; leaving the queue before the grant is allowed', () => {
    let lane: Lane = { holder: entry('a'), queue: [entry('b'), entry('c')] };
    lane = joinLane(lane, entry('b', 7));
    lane = joinLane(lane, entry('a', 9));
    expect(lane.queue.map((e) => [e.release, e.request])).toEqual([
      ['b', 1],
      ['c', 1],
    ]);
    expect(leaveLane(lane, 'b').queue.map((e) => e.release)).toEqual(['c']);
  });
});

describe('routeWithEndpoints', () => {
  const route: ModelRoute = {
    stable: { version: 'v1', endpoints: ['unix:/a', 'unix:/b'] },
    canary: { version: 'v2', endpoints: ['unix:/c'], weight: 5 },
    shadow: null,
    faults: {},
    stickyInput: null,
  };
  it('keeps the same object when nothing changed (in any order)', () => {
    expect(routeWithEndpoints(route, { v1: ['unix:/b', 'unix:/a'] })).toBe(route);
  });
  it('points a version at the replicas that answer now', () => {
    expect(routeWithEndpoints(route, { v2: ['unix:/d'] })).toEqual({
      ...route,
      canary: { version: 'v2', endpoints: ['unix:/d'], weight: 5 },
    });
  });
  it('never empties a version: an empty list leaves it as it was', () => {
    expect(routeWithEndpoints(route, { v1: [] })).toBe(route);
  });
});
