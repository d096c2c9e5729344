import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from '../../src/domain/manifest.js';
import { decidePath, parsePolicy, renamedPolicyKeys } from '../../src/domain/policy.js';
import { loadPolicy, PolicyError } from '../../src/adapters/policy-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { manifestDoc, TEST_POLICY } from '../support/release-fixtures.js';

function manifest(override: Record<string, unknown> = {}): Manifest {
  const r = parseManifest(manifestDoc(override));
  if (!r.ok) throw new Error(JSON.stringify(r.findings));
  return r.manifest;
}

describe('platform policy', () => {
  it('the repository policy is valid', () => {
    const r = parsePolicy(parse(readFileSync(projectPath('policy', 'platform.yaml'), 'utf8')));
    expect(r.ok).toBe(true);
  });

  it('names a bad version range and a reviewer that is not an address', () => {
    const r = parsePolicy({
      ...TEST_POLICY,
      approved_libraries: { numpy: 'latest' },
      teams: { risk: { reviewers: ['bob'] } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect([...new Set(r.findings.map((f) => f.field))].sort()).toEqual([
      'approved_libraries.numpy',
      'teams.risk.reviewers[0]',
    ]);
  });

  it('refuses a reviewer or operator whose key is not among the signers, and a signer line that is no key', () => {
    const r = parsePolicy({
      ...TEST_POLICY,
      teams: {
        risk: {
          reviewers: ['bob@example.com'],
          signers: [TEST_POLICY.teams.risk!.signers[0], 'ops@example.com my-password'],
        },
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.findings.map((f) => [f.field, f.message])).toEqual([
      ['teams.risk.signers[1]', expect.stringContaining('must be "<identity> <key type> <base64 key>"')],
    ]);
    const unkeyed = parsePolicy({
      ...TEST_POLICY,
      teams: { risk: { ...TEST_POLICY.teams.risk!, reviewers: ['bob@example.com', 'zoe@example.com'] } },
    });
    expect(unkeyed.ok).toBe(false);
    if (unkeyed.ok) return;
    expect(unkeyed.findings.map((f) => [f.field, f.message])).toEqual([
      [
        'teams.risk.reviewers[1]',
        "zoe@example.com has no key in the team's signers, so no decision of theirs can be proven",
      ],
    ]);
  });

  it('refuses an allowed_types entry that is a prefix or a wildcard, naming it', () => {
    const r = parsePolicy({
      ...TEST_POLICY,
      allowed_types: ['sklearn.pipeline.Pipeline', 'sklearn.', 'numpy.*'],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.findings.map((f) => f.field)).toEqual(['allowed_types[1]', 'allowed_types[2]']);
    expect(r.findings[0]!.message).toMatch(/exact module\.name/);
  });

  it('a policy without allowed_types lets no pickle global through', () => {
    const r = parsePolicy(TEST_POLICY);
    expect(r.ok && r.policy.allowed_types).toEqual([]);
  });

  it('a rollout faster than the floor is refused, each field with its fix; slower passes', () => {
    const policy = parsePolicy({ ...TEST_POLICY, rollout_floor: { max_first_step: 25, min_bake: '10s' } });
    if (!policy.ok) throw new Error(JSON.stringify(policy.findings));
    const fast = decidePath(manifest({ rollout: { steps: [100], bake: '1s' } }), policy.policy);
    expect(fast.refusals.map((f) => [f.code, f.field])).toEqual([
      ['rollout-below-floor', 'rollout.steps'],
      ['rollout-below-floor', 'rollout.bake'],
    ]);
    expect(fast.refusals[0]!.message).toBe(
      'the first step sends 100 % of traffic to the new version; the platform allows at most 25 %',
    );
    expect(fast.refusals[1]!.fix).toBe("bake 10s or longer, or leave rollout out to take the platform's");
    const careful = decidePath(manifest({ rollout: { steps: [5, 25, 100], bake: '2m' } }), policy.policy);
    expect(careful.refusals).toEqual([]);
  });

  it('the shipped policy has a floor that its own default rollout and the examples keep', () => {
    const r = parsePolicy(parse(readFileSync(projectPath('policy', 'platform.yaml'), 'utf8')));
    if (!r.ok) throw new Error(JSON.stringify(r.findings));
    expect(r.policy.rollout_floor).toEqual({ max_first_step: 25, min_bake: '10s' });
    expect(decidePath(manifest({ rollout: r.policy.rollout }), r.policy).refusals).toEqual([]);
    for (const example of ['arrests', 'arrests-pickle', 'arrests-slow', 'arrests-biased']) {
      const doc = parse(readFileSync(projectPath('examples', example, 'paved.yaml'), 'utf8')) as {
        rollout: unknown;
      };
      const m = manifest({ rollout: doc.rollout });
      expect(
        decidePath(m, r.policy).refusals.filter((f) => f.code === 'rollout-below-floor'),
        example,
      ).toEqual([]);
    }
  });

  it('needs a review deadline with a unit', () => {
    const r = parsePolicy({ ...TEST_POLICY, review: { deadline: 72 } });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.findings[0]).toMatchObject({ field: 'review.deadline', fix: expect.stringContaining('72h') });
  });
});

describe('golden path or off path', () => {
  it('approved libraries within range stay on the golden path', () => {
    const d = decidePath(manifest(), TEST_POLICY);
    expect(d).toEqual({
      path: 'golden',
      refusals: [],
      reviewReasons: [],
      reviewers: ['bob@example.com', 'carol@example.com'],
      operators: ['ops@example.com'],
      reviewDeadline: '72h',
      signedWithin: '15m',
    });
  });

  it('an unknown library is off-path with the reason', () => {
    const d = decidePath(manifest({ requirements: ['scikit-learn==1.9.1', 'torch==2.4.0'] }), TEST_POLICY);
    expect(d.path).toBe('off-path');
    expect(d.reviewReasons).toEqual([
      expect.objectContaining({
        code: 'unapproved-library',
        field: 'requirements[1]',
        message: 'torch is not an approved library',
      }),
    ]);
  });

  it('a version outside the approved range is off-path', () => {
    const d = decidePath(manifest({ requirements: ['scikit-learn==1.2.0'] }), TEST_POLICY);
    expect(d.path).toBe('off-path');
    expect(d.reviewReasons[0]!.message).toBe('scikit-learn==1.2.0 is outside the approved range >=1.6 <2');
  });

  it('matches package names the way pip does', () => {
    expect(decidePath(manifest({ requirements: ['Scikit_Learn==1.9.1'] }), TEST_POLICY).path).toBe('golden');
  });

  it('refuses an unknown team and template (not reviewable: nobody could review it)', () => {
    const d = decidePath(manifest({ team: 'nobody', template: 'python-torch' }), TEST_POLICY);
    expect(d.refusals.map((r) => r.code)).toEqual(['unknown-team', 'unknown-template']);
    expect(d.refusals[0]!.fix).toContain('use one of risk');
  });
});

describe('policy keys renamed to snake_case', () => {
  /** The shipped policy as it was written before the rename (every camelCase key). */
  const OLD = {
    ...TEST_POLICY,
    approved_libraries: undefined,
    approvedLibraries: { numpy: '>=1.26 <3' },
    shadow: {
      rate: 10,
      maxRate: 50,
      minCaptured: 200,
      maxP99Regression: 0.2,
      p99SlackMs: 10,
      maxErrorRateIncrease: 0.01,
      nearMiss: 0.1,
      reviewOnNearMiss: false,
    },
    fairness: {
      minDpRatio: 0.8,
      maxDpRatioDrop: 0.05,
      nearMiss: 0.1,
      minGroupSize: 30,
      reviewOnNearMiss: false,
    },
    cost: { vcpuHourUsd: 0.04, gbHourUsd: 0.005 },
    rollout_analysis: undefined,
    rolloutAnalysis: {
      minRequests: 50,
      maxErrorRate: 0.05,
      maxErrorRateIncrease: 0.01,
      maxP99Ratio: 1.5,
      p99SlackMs: 20,
      inconclusiveDeadline: '30m',
      drain: '5s',
    },
    model_limits: undefined,
    modelLimits: { cpus: 1, memoryMB: 1024, pids: 256 },
    serving: { minReplicas: 1, maxReplicas: 3, headroom: 1.5, targetUtilisation: 0.6, reconcileEvery: '10s' },
    features: { skewSampleSize: 200, maxSkewRate: 0, maxStaleness: '24h' },
    packages: { maxFiles: 500, maxUnpackedMB: 256, maxArtifactMB: 128 },
  };
  const doc = JSON.parse(JSON.stringify(OLD)) as Record<string, unknown>;

  it('names every old key with its new name and the fix, all at once', () => {
    const { findings } = renamedPolicyKeys(doc);
    const named = findings.map((f) => `${f.field} -> ${f.message.replace('was renamed to ', '')}`);
    expect(named.sort()).toEqual(
      [
        'shadow.maxRate -> shadow.max_rate',
        'shadow.minCaptured -> shadow.min_captured',
        'shadow.maxP99Regression -> shadow.max_p99_regression',
        'shadow.p99SlackMs -> shadow.p99_slack_ms',
        'shadow.maxErrorRateIncrease -> shadow.max_error_rate_increase',
        'shadow.nearMiss -> shadow.near_miss',
        'shadow.reviewOnNearMiss -> shadow.review_on_near_miss',
        'fairness.minDpRatio -> fairness.min_dp_ratio',
        'fairness.maxDpRatioDrop -> fairness.max_dp_ratio_drop',
        'fairness.nearMiss -> fairness.near_miss',
        'fairness.minGroupSize -> fairness.min_group_size',
        'fairness.reviewOnNearMiss -> fairness.review_on_near_miss',
        'cost.vcpuHourUsd -> cost.vcpu_hour_usd',
        'cost.gbHourUsd -> cost.gb_hour_usd',
        'serving.minReplicas -> serving.min_replicas',
        'serving.maxReplicas -> serving.max_replicas',
        'serving.targetUtilisation -> serving.target_utilisation',
        'serving.reconcileEvery -> serving.reconcile_every',
        'features.skewSampleSize -> features.skew_sample_size',
        'features.maxSkewRate -> features.max_skew_rate',
        'features.maxStaleness -> features.max_staleness',
        'packages.maxFiles -> packages.max_files',
        'packages.maxUnpackedMB -> packages.max_unpacked_mb',
        'packages.maxArtifactMB -> packages.max_artifact_mb',
        'approvedLibraries -> approved_libraries',
        'rolloutAnalysis -> rollout_analysis',
        'rolloutAnalysis.minRequests -> rollout_analysis.min_requests',
        'rolloutAnalysis.maxErrorRate -> rollout_analysis.max_error_rate',
        'rolloutAnalysis.maxErrorRateIncrease -> rollout_analysis.max_error_rate_increase',
        'rolloutAnalysis.maxP99Ratio -> rollout_analysis.max_p99_ratio',
        'rolloutAnalysis.p99SlackMs -> rollout_analysis.p99_slack_ms',
        'rolloutAnalysis.inconclusiveDeadline -> rollout_analysis.inconclusive_deadline',
        'modelLimits -> model_limits',
        'modelLimits.memoryMB -> model_limits.memory_mb',
      ].sort(),
    );
    expect(findings.find((f) => f.field === 'shadow.maxRate')).toEqual({
      code: 'renamed-field',
      field: 'shadow.maxRate',
      message: 'was renamed to shadow.max_rate',
      fix: 'rename it to max_rate',
    });
  });

  it('parsePolicy refuses the old document with exactly those findings, and nothing else about it', () => {
    const r = parsePolicy(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.findings).toEqual(renamedPolicyKeys(doc).findings);
    // The renamed document is the valid policy those keys meant.
    const renamed = parsePolicy(renamedPolicyKeys(doc).renamed);
    expect(renamed.ok && renamed.policy.shadow.max_rate).toBe(50);
    expect(renamed.ok && renamed.policy.model_limits.memory_mb).toBe(1024);
  });

  it('reports the rest of the document in the same pass, under the new names', () => {
    const r = parsePolicy({ ...TEST_POLICY, shadow: { maxRate: -1 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.findings.map((f) => [f.code, f.field])).toEqual([
      ['renamed-field', 'shadow.maxRate'],
      ['invalid-field', 'shadow.max_rate'],
    ]);
  });

  it('an old key beside its new one is to be removed; a section or team named in camelCase is left alone', () => {
    const both = parsePolicy({ ...TEST_POLICY, shadow: { maxRate: 50, max_rate: 40 } });
    expect(both.ok).toBe(false);
    if (!both.ok)
      expect(both.findings).toEqual([
        {
          code: 'renamed-field',
          field: 'shadow.maxRate',
          message: 'was renamed to shadow.max_rate',
          fix: 'remove it (shadow.max_rate is set too)',
        },
      ]);
    // Library names and team names are data, not keys; a key that is no policy key stays unknown.
    const data = parsePolicy({
      ...TEST_POLICY,
      approved_libraries: { ...TEST_POLICY.approved_libraries, PyYAML: '>=6 <7' },
      shadow: { maxRat: 50 },
    });
    expect(data.ok).toBe(false);
    if (!data.ok)
      expect(data.findings.map((f) => [f.code, f.field])).toEqual([['unknown-field', 'shadow.maxRat']]);
  });

  it('loadPolicy says it in the file, one line per old key', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
    const shipped = parse(readFileSync(projectPath('policy', 'platform.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const { max_rate, near_miss, ...shadow } = shipped.shadow!;
    writeFileSync(
      file,
      stringify({ ...shipped, shadow: { ...shadow, maxRate: max_rate, nearMiss: near_miss } }),
    );
    let err: unknown;
    try {
      loadPolicy(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message.split('\n')).toEqual([
      `${file}: shadow.maxRate: was renamed to shadow.max_rate. Fix: rename it to max_rate`,
      `${file}: shadow.nearMiss: was renamed to shadow.near_miss. Fix: rename it to near_miss`,
    ]);
  });
});
