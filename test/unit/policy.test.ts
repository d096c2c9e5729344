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
    expect(r.findings.map((f) => f.field).sort()).toEqual([
      'approvedLibraries.numpy',
      'teams.risk.reviewers[0]',
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
      reviewDeadline: '72h',
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
