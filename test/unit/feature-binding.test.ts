import { describe, expect, it } from 'vitest';
import {
  bindFeatures,
  checkFreshness,
  dtypeCompatible,
  humanAge,
  type BindLimits,
  type FeastSnapshot,
  type OnlineSample,
} from '../../src/domain/feature-binding.js';
import type { Manifest } from '../../src/domain/manifest.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const DAY = 86_400;

function snapshot(overrides: Partial<FeastSnapshot> = {}): FeastSnapshot {
  return {
    project: 'paved',
    service: 'arrests_model',
    registry: { versionId: 'v-1', lastUpdated: '2026-11-25T11:00:00Z' },
    entityKey: 'person_id',
    views: [
      { name: 'person_profile', ttlSeconds: DAY, lastMaterializedEnd: '2026-11-25T11:00:00Z' },
      { name: 'person_record', ttlSeconds: DAY, lastMaterializedEnd: '2026-11-25T11:00:00Z' },
    ],
    features: [
      { view: 'person_profile', name: 'age', ref: 'person_profile__age', dtype: 'Float32' },
      { view: 'person_record', name: 'checks', ref: 'person_record__checks', dtype: 'Float32' },
    ],
    sample: {
      at: NOW.toISOString(),
      entities: [1, 2, 3, 4],
      offline: { person_profile__age: [21, 17, 24, 0.1], person_record__checks: [3, 3, 0, 1] },
    },
    entityCount: 5226,
    ...overrides,
  };
}

function onlineFrom(snap: FeastSnapshot): OnlineSample {
  const values = structuredClone(snap.sample.offline);
  const statuses = Object.fromEntries(Object.keys(values).map((k) => [k, values[k]!.map(() => 'PRESENT')]));
  return { values, statuses };
}

const manifest: Pick<Manifest, 'inputs' | 'features'> = {
  inputs: [
    { name: 'age', dtype: 'float32' },
    { name: 'checks', dtype: 'float32' },
  ],
  features: { service: 'arrests_model', request: [] },
};

function bind(
  snap: FeastSnapshot,
  online = onlineFrom(snap),
  m = manifest,
  limits: BindLimits = { max_skew_rate: 0 },
) {
  return bindFeatures({
    manifest: m,
    snapshot: snap,
    online,
    server: 'http://127.0.0.1:6566',
    limits,
    now: NOW,
  });
}

describe('bindFeatures', () => {
  it('binds every input to its feature ref, in the manifest order, when all checks hold', () => {
    const report = bind(snapshot());
    expect(report.problems).toEqual([]);
    expect(report.binding).toEqual({
      server: 'http://127.0.0.1:6566',
      project: 'paved',
      service: 'arrests_model',
      registryVersion: 'v-1',
      entityKey: 'person_id',
      inputs: [
        { name: 'age', dtype: 'float32', ref: 'person_profile__age', feastDtype: 'Float32' },
        { name: 'checks', dtype: 'float32', ref: 'person_record__checks', feastDtype: 'Float32' },
      ],
    });
    expect(report.sampleSize).toBe(4);
    expect(report.skew.map((s) => [s.ref, s.mismatches, s.rate])).toEqual([
      ['person_profile__age', 0, 0],
      ['person_record__checks', 0, 0],
    ]);
    expect(report.freshness.map((f) => [f.view, f.ageSeconds, f.limitSeconds])).toEqual([
      ['person_profile', 3600, DAY],
      ['person_record', 3600, DAY],
    ]);
  });

  it('names a missing feature, what the service has, and the two fixes', () => {
    const m = { ...manifest, inputs: [...manifest.inputs, { name: 'employed', dtype: 'float32' as const }] };
    const report = bind(snapshot(), undefined, m);
    expect(report.problems).toEqual([
      'feature `employed` is not in feature service `arrests_model` (it has age, checks) — add it to the ' +
        'service in featurestore/, or list it under features.request if the caller sends it',
    ]);
    expect(report.binding.inputs[2]).toEqual({
      name: 'employed',
      dtype: 'float32',
      ref: null,
      feastDtype: null,
    });
  });

  it('takes request-time inputs from the request, without looking for them in Feast', () => {
    const m = {
      inputs: [...manifest.inputs, { name: 'hour', dtype: 'int64' as const }],
      features: { service: 'arrests_model', request: ['hour'] },
    };
    const report = bind(snapshot(), undefined, m);
    expect(report.problems).toEqual([]);
    expect(report.binding.inputs.map((i) => i.ref)).toEqual([
      'person_profile__age',
      'person_record__checks',
      null,
    ]);
  });

  it('refuses a dtype that loses information, with the cast to make', () => {
    const snap = snapshot();
    snap.features[1]!.dtype = 'Int64';
    expect(bind(snap).problems).toEqual([
      'feature `checks` is Int64 in Feast but the model expects float32 — cast it to Float32 in the feature view, or retrain on Int64',
    ]);
  });

  it('says which view is stale, how old it is and what its TTL is', () => {
    const snap = snapshot();
    snap.views[0]!.lastMaterializedEnd = '2026-11-22T11:00:00Z';
    expect(bind(snap).problems).toEqual([
      '`person_profile` was last materialized 3 days ago, TTL is 1 day — run the pipeline (featurestore/pipeline.py, or `paved stack up`)',
    ]);
  });

  it('uses the policy limit when it is tighter than the TTL', () => {
    const { problems, figures } = checkFreshness(snapshot().views, NOW, 1800);
    expect(figures[0]!.limitSeconds).toBe(1800);
    expect(problems[0]).toBe(
      '`person_profile` was last materialized 1 hour ago, the policy allows 30 minutes — run the pipeline (featurestore/pipeline.py, or `paved stack up`)',
    );
  });

  it('fails a view that was never materialized and notes one with no limit at all', () => {
    const views = [
      { name: 'a', ttlSeconds: DAY, lastMaterializedEnd: null },
      { name: 'b', ttlSeconds: 0, lastMaterializedEnd: '2026-11-01T00:00:00Z' },
    ];
    const { problems, notes } = checkFreshness(views, NOW);
    expect(problems).toEqual([
      '`a` was never materialized, so the online store has nothing to serve — run the pipeline (featurestore/pipeline.py, or `paved stack up`)',
    ]);
    expect(notes).toEqual([
      '`b` has no TTL and the policy sets no features.max_staleness, so its freshness is not checked',
    ]);
  });

  it('measures skew per feature and names the feature, the rate and an example entity', () => {
    const snap = snapshot();
    const online = onlineFrom(snap);
    online.values.person_record__checks![1] = 9;
    const report = bind(snap, online);
    expect(report.skew[1]).toEqual({
      ref: 'person_record__checks',
      compared: 4,
      mismatches: 1,
      rate: 0.25,
      example: { entity: 2, online: 9, offline: 3 },
    });
    expect(report.problems).toEqual([
      'feature `checks` (person_record__checks) differs between the online and the offline store for 1 of 4 ' +
        'sampled entities (25 %, limit 0 %), e.g. person_id 2: online 9, offline 3 — re-materialize ' +
        '(featurestore/pipeline.py) and find what wrote to the online store',
    ]);
  });

  it('passes skew under the policy rate, and counts an entity missing online as a mismatch', () => {
    const snap = snapshot();
    const online = onlineFrom(snap);
    online.statuses.person_profile__age![3] = 'NOT_FOUND';
    const report = bind(snap, online, manifest, { max_skew_rate: 0.25 });
    expect(report.problems).toEqual([]);
    expect(report.skew[0]).toMatchObject({
      mismatches: 1,
      example: { entity: 4, online: null, offline: 0.1 },
    });
  });

  it('compares Float32 values as float32, since JSON carries them as doubles', () => {
    const snap = snapshot();
    const online = onlineFrom(snap);
    online.values.person_profile__age![3] = 0.10000000149011612; // float32(0.1) printed as a double
    expect(bind(snap, online).skew[0]!.mismatches).toBe(0);
  });
});

describe('dtypes and ages', () => {
  it('allows widening, refuses narrowing', () => {
    expect(dtypeCompatible('Float32', 'float64')).toBe(true);
    expect(dtypeCompatible('Int32', 'int64')).toBe(true);
    expect(dtypeCompatible('Int64', 'float32')).toBe(false);
    expect(dtypeCompatible('Float64', 'float32')).toBe(false);
    expect(dtypeCompatible('String', 'float32')).toBe(false);
    expect(dtypeCompatible('Array(Float32)', 'float32')).toBe(false);
  });

  it('says an age in its largest whole unit', () => {
    expect(humanAge(3 * DAY + 5)).toBe('3 days');
    expect(humanAge(DAY)).toBe('1 day');
    expect(humanAge(7200)).toBe('2 hours');
    expect(humanAge(59)).toBe('59 seconds');
    expect(humanAge(0)).toBe('0 seconds');
  });
});
