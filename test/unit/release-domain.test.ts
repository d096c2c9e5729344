import { describe, expect, it } from 'vitest';
import { extendsTrail, type AuditEntry } from '../../src/domain/audit.js';
import { durationMs } from '../../src/domain/duration.js';
import { outcome, parseReleaseRef } from '../../src/domain/release.js';
import { manifestDoc, validated } from '../support/release-fixtures.js';

describe('exit codes', () => {
  it.each([
    ['released', 0],
    ['stopped', 2],
    ['rejected', 3],
    ['expired', 3],
    ['rolled-back', 4],
    ['cancelled', 1],
    ['failed', 1],
  ] as const)('%s exits %i', (status, code) => {
    expect(outcome(status, 'done', 'x').exitCode).toBe(code);
  });
});

describe('validate stage verdict', () => {
  it('refuses a package whose name differs from the release', () => {
    const o = validated(manifestDoc({ name: 'other' }));
    expect(o.verdict).toMatchObject({
      kind: 'fail',
      reason: expect.stringContaining('the package is named "other" but is released as "arrests"'),
    });
  });
  it('needs review off the path, passes on it', () => {
    expect(validated(manifestDoc({ requirements: ['xgboost==2.0.0'] })).verdict.kind).toBe('needs-review');
    expect(validated(manifestDoc()).verdict.kind).toBe('pass');
  });
  it('summarises several problems in one sentence', () => {
    const o = validated(manifestDoc({ name: 'X', inputs: [] }));
    expect(o.verdict.kind === 'fail' && o.verdict.reason).toMatch(
      /^paved.yaml is invalid: name: .* \(and 1 more finding\)$/,
    );
  });
});

describe('small helpers', () => {
  it('parses release references', () => {
    expect(parseReleaseRef('arrests/3f2a1b9c0d4e')).toEqual({ model: 'arrests', version: '3f2a1b9c0d4e' });
    expect(parseReleaseRef('arrests')).toBeUndefined();
    expect(parseReleaseRef('../etc/passwd')).toBeUndefined();
  });
  it('parses durations', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('72h')).toBe(72 * 3_600_000);
    expect(() => durationMs('soon')).toThrow();
  });
  it('accepts only appended audit trails', () => {
    const e = (seq: number): AuditEntry => ({ seq, at: 't', actor: 'paved', action: `a${seq}` });
    expect(extendsTrail([e(1)], [e(1), e(2)])).toBe(true);
    expect(extendsTrail([e(1), e(2)], [e(1)])).toBe(false);
    expect(extendsTrail([e(1)], [{ ...e(1), actor: 'mallory' }])).toBe(false);
  });
});
