import { describe, expect, it } from 'vitest';
import { replicaCapacity, sizeReplicas, type SizingInput } from '../../src/domain/sizing.js';

const base: SizingInput = {
  cpuSecondsPerRequest: 0.01, // 10 ms of CPU per prediction
  cpusPerReplica: 1,
  measuredRate: 15,
  withinBudgetAtMeasuredRate: true,
  p99BudgetMs: 200,
  livePeakRps: 80,
  requested: null,
  policy: { min_replicas: 1, max_replicas: 4, headroom: 1.5, target_utilisation: 0.6 },
};

describe('replica sizing', () => {
  it('capacity is the CPUs at the target utilisation over CPU per prediction', () => {
    expect(replicaCapacity(base)).toBeCloseTo(60);
  });

  it('a rate carried within budget in shadow is a floor for capacity', () => {
    expect(replicaCapacity({ ...base, cpuSecondsPerRequest: 0.1, measuredRate: 15 })).toBe(15);
    expect(
      replicaCapacity({ ...base, cpuSecondsPerRequest: 0.1, withinBudgetAtMeasuredRate: false }),
    ).toBeCloseTo(6);
    expect(
      replicaCapacity({ ...base, cpuSecondsPerRequest: null, withinBudgetAtMeasuredRate: false }),
    ).toBeNull();
  });

  it('enough replicas for the live peak × headroom, said in one line', () => {
    const s = sizeReplicas(base);
    expect(s.replicas).toBe(2); // 80 × 1.5 = 120 req/s over 60 each
    expect(s.line).toBe(
      '2 replicas for a 80 req/s peak × headroom 1.5 (capacity 60 req/s each at p99 ≤ 200 ms)',
    );
  });

  it('no live traffic yet: the policy minimum, saying why', () => {
    const s = sizeReplicas({ ...base, livePeakRps: null });
    expect(s.replicas).toBe(1);
    expect(s.line).toBe(
      "1 replica, the policy's minimum: no live traffic recorded yet (capacity 60 req/s each at p99 ≤ 200 ms)",
    );
  });

  it('the policy maximum caps, and the manifest may ask for more, never fewer than the minimum', () => {
    expect(sizeReplicas({ ...base, livePeakRps: 1000 })).toMatchObject({ replicas: 4 });
    expect(sizeReplicas({ ...base, livePeakRps: 1000 }).line).toMatch(/; capped at the policy's 4$/);
    expect(sizeReplicas({ ...base, livePeakRps: 5, requested: 3 })).toMatchObject({ replicas: 3 });
    expect(sizeReplicas({ ...base, livePeakRps: 5, requested: 3 }).line).toMatch(/; as the manifest asks$/);
    const floor = { ...base.policy, min_replicas: 2 };
    expect(sizeReplicas({ ...base, livePeakRps: 5, requested: 1, policy: floor }).replicas).toBe(2);
    expect(sizeReplicas({ ...base, livePeakRps: null, requested: 9 }).line).toMatch(
      /^4 replicas, as the manifest asks, capped at the policy's 4:/,
    );
  });
});
