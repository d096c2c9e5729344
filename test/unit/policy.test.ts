import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from '../../src/domain/manifest.js';
import { decidePath, parsePolicy } from '../../src/domain/policy.js';
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
      approvedLibraries: { numpy: 'latest' },
      teams: { risk: { reviewers: ['bob'] } },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect([...new Set(r.findings.map((f) => f.field))].sort()).toEqual([
      'approvedLibraries.numpy',
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
