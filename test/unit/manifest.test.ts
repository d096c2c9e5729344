import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/domain/manifest.js';
import type { Finding } from '../../src/domain/schema-errors.js';
import { manifestDoc } from '../support/release-fixtures.js';

function findings(doc: unknown): Finding[] {
  const r = parseManifest(doc);
  if (r.ok) throw new Error('expected findings');
  return r.findings;
}

describe('paved.yaml schema', () => {
  it('accepts a minimal manifest and fills the defaults', () => {
    const r = parseManifest({
      name: 'arrests',
      owner: 'alice@example.com',
      team: 'risk',
      artifact: 'model.skops',
      inputs: [{ name: 'age', dtype: 'float32' }],
    });
    expect(r).toEqual({
      ok: true,
      manifest: {
        name: 'arrests',
        owner: 'alice@example.com',
        team: 'risk',
        template: 'python-sklearn',
        artifact: 'model.skops',
        requirements: [],
        inputs: [{ name: 'age', dtype: 'float32' }],
        budgets: {},
        fairness: { sensitive: [] },
      },
    });
  });

  it.each([
    ['name', { name: 'Arrests Model' }, 'name', 'use lowercase letters, digits and dashes'],
    ['owner', { owner: 'alice' }, 'owner', 'put your e-mail address'],
    [
      'artifact outside the package',
      { artifact: '../secrets/model.skops' },
      'artifact',
      'name the model file inside the package',
    ],
    ['absolute artifact', { artifact: '/etc/passwd' }, 'artifact', 'name the model file inside the package'],
    [
      'unpinned requirement',
      { requirements: ['scikit-learn>=1.5'] },
      'requirements[0]',
      'pin the exact version you trained with',
    ],
    ['no inputs', { inputs: [] }, 'inputs', 'list the model inputs in order'],
    ['bad dtype', { inputs: [{ name: 'age', dtype: 'float16' }] }, 'inputs[0].dtype', 'use one of float32'],
    [
      'p99 as text',
      { budgets: { p99_ms: 'fast' } },
      'budgets.p99_ms',
      'give the p99 latency budget in milliseconds',
    ],
    [
      'error rate above 1',
      { budgets: { error_rate: 5 } },
      'budgets.error_rate',
      'give the allowed error share from 0 to 1',
    ],
    ['dp ratio above 1', { fairness: { min_dp_ratio: 1.5 } }, 'fairness.min_dp_ratio', 'from 0 to 1'],
    [
      'steps not ending at 100',
      { rollout: { steps: [5, 50], bake: '30s' } },
      'rollout.steps',
      'ending at 100',
    ],
    [
      'steps decreasing',
      { rollout: { steps: [50, 5, 100], bake: '30s' } },
      'rollout.steps',
      'increasing traffic percentages',
    ],
    [
      'bake without unit',
      { rollout: { steps: [100], bake: '30' } },
      'rollout.bake',
      'give the time per step',
    ],
  ])('%s: names the field and the fix', (_label, override, field, fix) => {
    const [f, ...rest] = findings(manifestDoc(override));
    expect(rest).toEqual([]);
    expect(f!.field).toBe(field);
    expect(f!.fix).toContain(fix);
    expect(f!.message.length).toBeGreaterThan(3);
  });

  it('reports a missing required field as missing', () => {
    const doc = manifestDoc();
    delete doc.team;
    expect(findings(doc)).toEqual([expect.objectContaining({ code: 'missing-field', field: 'team' })]);
  });

  it('reports a misspelt field instead of ignoring it', () => {
    expect(findings(manifestDoc({ budgtes: { p99_ms: 200 } }))).toEqual([
      expect.objectContaining({ code: 'unknown-field', field: 'budgtes' }),
    ]);
  });

  it('reports every problem at once', () => {
    expect(findings(manifestDoc({ name: 'X', owner: 'nobody', inputs: [] }))).toHaveLength(3);
  });

  it('reads features: the service, and request-time inputs that must be model inputs', () => {
    const r = parseManifest(manifestDoc({ features: { service: 'arrests_model' } }));
    expect(r.ok && r.manifest.features).toEqual({ service: 'arrests_model', request: [] });
    expect(findings(manifestDoc({ features: { service: 'arrests_model', request: ['hour'] } }))).toEqual([
      expect.objectContaining({
        field: 'features.request[0]',
        message: "'hour' is not one of the model inputs (age)",
        fix: 'list only model inputs the caller sends with each request; the rest come from Feast',
      }),
    ]);
    expect(findings(manifestDoc({ features: { service: 'arrests model' } }))[0]).toMatchObject({
      field: 'features.service',
      fix: 'name the Feast feature service the model reads, e.g. features: {service: arrests_model}',
    });
  });

  it('refuses a document that is not a mapping', () => {
    expect(findings('just text')[0]).toMatchObject({ code: 'invalid-document', field: '(document)' });
  });
});
