import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replicaName } from '../../src/adapters/runtime/docker/docker-runtime.js';
import { ReportStore } from '../../src/adapters/report-store.js';
import { parseReleaseRef, releaseNameProblem, VERSION_PATTERN } from '../../src/domain/release.js';
import { BackendSchema } from '../../src/domain/route.js';
import { statName } from '../../src/gateway/envoy/names.js';

const GOOD = ['1.4.0', '3f2a9c1b7d4e', 'v1_rc-2', 'A', 'a'.repeat(64)];
const BAD = ['', '.hidden', '-x', '_x', 'a/b', 'a b', 'é', 'a'.repeat(65), '1.0\n'];

describe('one rule for release versions', () => {
  it('the CLI, the workflow, the report store and the audit trail accept and refuse the same versions', () => {
    const reports = new ReportStore(mkdtempSync(path.join(os.tmpdir(), 'paved-names-')));
    for (const v of GOOD) {
      expect(VERSION_PATTERN.test(v), v).toBe(true);
      expect(releaseNameProblem('arrests', v), v).toBeNull();
      expect(parseReleaseRef(`arrests/${v}`), v).toEqual({ model: 'arrests', version: v });
      expect(reports.dir('arrests', v), v).toContain(v);
    }
    for (const v of BAD) {
      expect(VERSION_PATTERN.test(v), JSON.stringify(v)).toBe(false);
      expect(releaseNameProblem('arrests', v), JSON.stringify(v)).toMatch(
        /is not a release version: use letters/,
      );
      expect(parseReleaseRef(`arrests/${v}`), JSON.stringify(v)).toBeUndefined();
      expect(() => reports.dir('arrests', v), JSON.stringify(v)).toThrow(/not a release name/);
    }
  });

  it('a model name is refused with the rule', () => {
    expect(releaseNameProblem('Arrests', '1')).toBe(
      'model "Arrests" is not a model name: lowercase letters, digits and dashes, starting with a letter, at most 63 characters',
    );
    expect(parseReleaseRef('arrests')).toBeUndefined();
  });

  it('a route refuses a version the CLI would refuse', () => {
    const route = (version: string) =>
      BackendSchema.safeParse({ version, endpoints: ['unix:/run/paved/model.sock'] }).success;
    for (const v of GOOD) expect(route(v), v).toBe(true);
    for (const v of BAD) expect(route(v), JSON.stringify(v)).toBe(false);
  });
});

describe('names built from versions', () => {
  it('the longest model and versions give distinct container names, never cut short', () => {
    const model = `m${'x'.repeat(62)}`;
    const a = `${'a'.repeat(63)}1`;
    const b = `${'a'.repeat(63)}2`;
    const names = [
      replicaName(model, a, 'serving'),
      replicaName(model, b, 'serving'),
      replicaName(model, a, 'serving', 1),
      replicaName(model, a, 'shadow'),
      replicaName(model, b, 'shadow'),
    ];
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n.endsWith(n.includes(b) ? b : a)).toBe(true);
  });

  it("a stable's shadow twin is its candidate's own: two shadows of one model never share one", () => {
    const forX = replicaName('arrests', 'stable1', 'shadow', 0, 'x');
    const forY = replicaName('arrests', 'stable1', 'shadow', 0, 'y');
    expect(forX).toBe('paved_shadow.arrests.stable1.for.x');
    expect(forY).not.toBe(forX);
    // the candidate's own shadow container keeps its plain name
    expect(replicaName('arrests', 'x', 'shadow', 0, 'x')).toBe('paved_shadow.arrests.x');
    expect(forX).not.toBe(replicaName('arrests', 'x', 'shadow', 0, 'x'));
  });

  it('Envoy stat names keep versions apart that differ only in a dot or an underscore', () => {
    expect(statName('arrests', 'v2')).toBe('paved_arrests_v2');
    expect(statName('arrests', '1.0')).not.toBe(statName('arrests', '1_0'));
    expect(statName('arrests', '1_d0')).not.toBe(statName('arrests', '1.0'));
    expect(statName('arrests', '1.0')).not.toContain('.');
  });
});
