import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/domain/manifest.js';
import { attributeSources, describeSources, rowAttributes } from '../../src/domain/sensitive-attributes.js';
import { parseTraffic } from '../../src/domain/traffic.js';
import { manifestDoc } from '../support/release-fixtures.js';

const line = (doc: Record<string, unknown>) => parseTraffic(JSON.stringify(doc), 'test').lines[0]!;

describe('sensitive attributes carried by requests', () => {
  it('reads an attribute from the model input of that name, row by row', () => {
    const l = line({
      t: 0,
      request: {
        inputs: [
          { name: 'age', shape: [2], datatype: 'FP32', data: [31, 52] },
          { name: 'sex', shape: [2], datatype: 'BYTES', data: ['F', 'M'] },
        ],
      },
    });
    expect(rowAttributes(l, ['sex'], 2)).toEqual([{ sex: 'F' }, { sex: 'M' }]);
  });

  it("reads an attribute the model does not take from the sample line's attributes, one-row requests only", () => {
    const doc = {
      t: 0,
      request: { inputs: [{ name: 'age', shape: [1], datatype: 'FP32', data: [31] }] },
      label: 1,
      attributes: { sex: 'F', region: null },
    };
    expect(rowAttributes(line(doc), ['sex', 'region', 'colour'], 1)).toEqual([{ sex: 'F', region: null }]);
    // a line's attributes describe one person: a multi-row request gets none of them
    expect(rowAttributes(line(doc), ['sex'], 2)).toEqual([{}, {}]);
  });

  it('refuses a sample line whose attributes are not scalars, naming the line', () => {
    expect(() =>
      parseTraffic(
        JSON.stringify({ t: 0, request: { inputs: [{ name: 'a', data: [1] }] }, attributes: { sex: ['F'] } }),
        'sample.jsonl',
      ),
    ).toThrow(/sample.jsonl holds no replayable request \(line 1: attributes.sex/);
  });
});

describe('where each sensitive attribute comes from', () => {
  const rows = [{ attributes: { sex: 'F', race: 'a' } }, { attributes: { sex: 'M', race: 'b' } }];

  it('prefers the requests, then the feature service, and lists what is nowhere', () => {
    expect(attributeSources(['sex', 'race'], rows, { inputs: ['sex'], service: null })).toEqual({
      sources: [
        { attribute: 'sex', kind: 'input' },
        { attribute: 'race', kind: 'sample' },
      ],
      missing: [],
    });
    expect(attributeSources(['sex', 'colour'], rows, { inputs: [], service: 'arrests_sensitive' })).toEqual({
      sources: [
        { attribute: 'sex', kind: 'sample' },
        { attribute: 'colour', kind: 'feature-service', service: 'arrests_sensitive' },
      ],
      missing: [],
    });
    expect(attributeSources(['colour'], rows, { inputs: [], service: null }).missing).toEqual(['colour']);
    // own keys only: every object "has" a constructor
    expect(attributeSources(['constructor'], rows, { inputs: [], service: null }).missing).toEqual([
      'constructor',
    ]);
    // carried by some rows only (a live capture mixed in): not a source to group by
    expect(
      attributeSources(['sex'], [...rows, { attributes: {} }], { inputs: ['sex'], service: null }).missing,
    ).toEqual(['sex']);
  });

  it('says where they came from, for the report', () => {
    expect(
      describeSources([
        { attribute: 'sex', kind: 'input' },
        { attribute: 'race', kind: 'sample' },
        { attribute: 'colour', kind: 'feature-service', service: 'arrests_sensitive' },
      ]),
    ).toBe(
      "the replayed requests (model input sex); the traffic sample's attributes (race); Feast service arrests_sensitive (colour)",
    );
  });
});

describe('paved.yaml fairness without a feature service', () => {
  it('accepts a sensitive attribute that is a model input', () => {
    const r = parseManifest(
      manifestDoc({ inputs: [{ name: 'sex', dtype: 'string' }], fairness: { sensitive: ['sex'] } }),
    );
    expect(r.ok).toBe(true);
  });

  it('accepts one the traffic sample may carry', () => {
    const r = parseManifest(
      manifestDoc({ fairness: { sensitive: ['sex'] }, shadow: { sample: 'sample.jsonl' } }),
    );
    expect(r.ok).toBe(true);
  });

  it('asks for a service when neither the inputs nor a sample can carry it, naming it', () => {
    const r = parseManifest(manifestDoc({ fairness: { sensitive: ['sex'] } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.findings[0]).toMatchObject({ field: 'fairness.service' });
    expect(r.findings[0]!.message).toContain('sex');
  });
});
