import { z } from 'zod';
import { durationMs } from './duration.js';
import type { Manifest } from './manifest.js';

/**
 * The bind stage's logic: given what the feature store says about a feature service
 * (a snapshot) and what its online store serves for a sample of entities, decide
 * whether a model can be bound to it, and record the binding its containers get.
 */

const FeatureValue = z.union([z.number(), z.string(), z.boolean(), z.null()]);
export type FeatureValue = z.infer<typeof FeatureValue>;
const EntityId = z.union([z.number(), z.string()]);

/** What scripts/python/feast_inspect.py prints: registry facts plus the offline side of a sample. */
export const FeastSnapshotSchema = z.object({
  project: z.string(),
  service: z.string(),
  registry: z.object({ versionId: z.string(), lastUpdated: z.string().nullable() }),
  entityKey: z.string(),
  views: z.array(
    z.object({
      name: z.string(),
      ttlSeconds: z.number().int().nonnegative(),
      lastMaterializedEnd: z.string().nullable(),
    }),
  ),
  features: z.array(z.object({ view: z.string(), name: z.string(), ref: z.string(), dtype: z.string() })),
  sample: z.object({
    at: z.string(),
    entities: z.array(EntityId),
    offline: z.record(z.string(), z.array(FeatureValue)),
  }),
  entityCount: z.number().int().nonnegative(),
});
export type FeastSnapshot = z.infer<typeof FeastSnapshotSchema>;

/** Online values for the snapshot's sample entities, by feature ref, in the same entity order. */
export interface OnlineSample {
  values: Record<string, FeatureValue[]>;
  statuses: Record<string, string[]>;
}

/** What a model container is given: where to read features and how to build its input. */
export interface FeatureBinding {
  server: string;
  project: string;
  service: string;
  registryVersion: string;
  entityKey: string;
  /** Model inputs in the manifest's order, each from a Feast feature ref or from the request. */
  inputs: Array<{ name: string; dtype: string; ref: string | null; feastDtype: string | null }>;
}

export interface SkewFigure {
  ref: string;
  compared: number;
  mismatches: number;
  rate: number;
  example: { entity: string | number; online: FeatureValue; offline: FeatureValue } | null;
}

export interface FreshnessFigure {
  view: string;
  lastMaterializedEnd: string | null;
  ageSeconds: number | null;
  limitSeconds: number | null;
}

/** The policy's `features:` limits, as it writes them. */
export interface BindLimits {
  max_skew_rate: number;
  /** Policy cap on staleness (a duration); the effective limit is the tighter of this and the view's TTL. */
  max_staleness?: string;
}

export interface BindReport {
  binding: FeatureBinding;
  freshness: FreshnessFigure[];
  skew: SkewFigure[];
  sampleSize: number;
  /** Sentences a scientist or data engineer can act on; empty when the binding holds. */
  problems: string[];
  /** Not blocking, but worth reading (e.g. a view with no TTL and no policy limit). */
  notes: string[];
}

const PIPELINE = 'run the pipeline (featurestore/pipeline.py, or `paved stack up`)';

/** Feast primitive type → the model dtypes it can be handed to without losing information. */
const COMPATIBLE: Record<string, readonly string[]> = {
  Float32: ['float32', 'float64'],
  Float64: ['float64'],
  Int32: ['int32', 'int64', 'float64'],
  Int64: ['int64'],
  Bool: ['bool'],
  String: ['string'],
};

export function dtypeCompatible(feastDtype: string, modelDtype: string): boolean {
  return COMPATIBLE[feastDtype]?.includes(modelDtype) ?? false;
}

function feastName(modelDtype: string): string {
  return modelDtype.charAt(0).toUpperCase() + modelDtype.slice(1);
}

/** Matches each model input to a feature of the service by name, and checks its dtype. */
export function matchInputs(
  manifest: Pick<Manifest, 'inputs' | 'features'>,
  snapshot: Pick<FeastSnapshot, 'service' | 'features'>,
): { inputs: FeatureBinding['inputs']; problems: string[] } {
  const request = new Set(manifest.features?.request ?? []);
  const problems: string[] = [];
  const inputs = manifest.inputs.map((input) => {
    if (request.has(input.name)) return { name: input.name, dtype: input.dtype, ref: null, feastDtype: null };
    const found = snapshot.features.filter((f) => f.name === input.name);
    const offered = snapshot.features.map((f) => f.name).join(', ') || 'nothing';
    if (found.length === 0) {
      problems.push(
        `feature \`${input.name}\` is not in feature service \`${snapshot.service}\` (it has ${offered}) — ` +
          `add it to the service in featurestore/, or list it under features.request if the caller sends it`,
      );
    } else if (found.length > 1) {
      problems.push(
        `feature \`${input.name}\` comes from more than one view of \`${snapshot.service}\` ` +
          `(${found.map((f) => f.ref).join(', ')}) — keep one of them in the service`,
      );
    } else if (!dtypeCompatible(found[0]!.dtype, input.dtype)) {
      problems.push(
        `feature \`${input.name}\` is ${found[0]!.dtype} in Feast but the model expects ${input.dtype} — ` +
          `cast it to ${feastName(input.dtype)} in the feature view, or retrain on ${found[0]!.dtype}`,
      );
    }
    const feature = found.length === 1 ? found[0]! : null;
    return {
      name: input.name,
      dtype: input.dtype,
      ref: feature?.ref ?? null,
      feastDtype: feature?.dtype ?? null,
    };
  });
  return { inputs, problems };
}

const UNITS: Array<[number, string]> = [
  [86_400, 'day'],
  [3_600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** "3 days", "1 day", "5 hours": rounded down to the largest whole unit. */
export function humanAge(seconds: number): string {
  for (const [size, unit] of UNITS) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'}`;
  }
  return '0 seconds';
}

export function checkFreshness(
  views: FeastSnapshot['views'],
  now: Date,
  maxStalenessSeconds?: number,
): { figures: FreshnessFigure[]; problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  const figures = views.map((view) => {
    const ttl = view.ttlSeconds > 0 ? view.ttlSeconds : undefined;
    const limit =
      ttl !== undefined && maxStalenessSeconds !== undefined
        ? Math.min(ttl, maxStalenessSeconds)
        : (ttl ?? maxStalenessSeconds);
    const end = view.lastMaterializedEnd ? Date.parse(view.lastMaterializedEnd) : NaN;
    const age = Number.isNaN(end) ? null : Math.max(0, Math.round((now.getTime() - end) / 1000));
    if (age === null) {
      problems.push(
        `\`${view.name}\` was never materialized, so the online store has nothing to serve — ${PIPELINE}`,
      );
    } else if (limit === undefined) {
      notes.push(
        `\`${view.name}\` has no TTL and the policy sets no features.max_staleness, so its freshness is not checked`,
      );
    } else if (age > limit) {
      const which = limit === ttl ? `TTL is ${humanAge(limit)}` : `the policy allows ${humanAge(limit)}`;
      problems.push(`\`${view.name}\` was last materialized ${humanAge(age)} ago, ${which} — ${PIPELINE}`);
    }
    return {
      view: view.name,
      lastMaterializedEnd: view.lastMaterializedEnd,
      ageSeconds: age,
      limitSeconds: limit ?? null,
    };
  });
  return { figures, problems, notes };
}

function sameValue(a: FeatureValue, b: FeatureValue, feastDtype: string): boolean {
  // Feast hands Float32 over JSON as a double; both sides must round to the same float32.
  if (feastDtype === 'Float32' && typeof a === 'number' && typeof b === 'number')
    return Math.fround(a) === Math.fround(b);
  return a === b;
}

function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))} %`;
}

/** Online vs offline point-in-time values for the same entities, per bound feature. */
export function measureSkew(
  snapshot: Pick<FeastSnapshot, 'entityKey' | 'sample'>,
  online: OnlineSample,
  bound: FeatureBinding['inputs'],
  maxSkewRate: number,
): { figures: SkewFigure[]; problems: string[] } {
  const entities = snapshot.sample.entities;
  const problems: string[] = [];
  const figures: SkewFigure[] = [];
  for (const input of bound) {
    if (input.ref === null || input.feastDtype === null) continue;
    const offline = snapshot.sample.offline[input.ref] ?? [];
    const served = online.values[input.ref] ?? [];
    const statuses = online.statuses[input.ref] ?? [];
    let mismatches = 0;
    let example: SkewFigure['example'] = null;
    entities.forEach((entity, k) => {
      const off = offline[k] ?? null;
      const on = statuses[k] === 'PRESENT' ? (served[k] ?? null) : null;
      if (sameValue(on, off, input.feastDtype!)) return;
      mismatches++;
      example ??= { entity, online: on, offline: off };
    });
    const rate = entities.length === 0 ? 0 : mismatches / entities.length;
    figures.push({ ref: input.ref, compared: entities.length, mismatches, rate, example });
    if (rate > maxSkewRate && example !== null) {
      const ex = example as NonNullable<SkewFigure['example']>;
      problems.push(
        `feature \`${input.name}\` (${input.ref}) differs between the online and the offline store for ` +
          `${mismatches} of ${entities.length} sampled entities (${percent(rate)}, limit ${percent(maxSkewRate)}), ` +
          `e.g. ${snapshot.entityKey} ${ex.entity}: online ${JSON.stringify(ex.online)}, offline ${JSON.stringify(ex.offline)} — ` +
          `re-materialize (featurestore/pipeline.py) and find what wrote to the online store`,
      );
    }
  }
  return { figures, problems };
}

/** Pure: the whole bind decision. The report's binding is what containers get, even when it fails. */
export function bindFeatures(args: {
  manifest: Pick<Manifest, 'inputs' | 'features'>;
  snapshot: FeastSnapshot;
  online: OnlineSample;
  server: string;
  limits: BindLimits;
  now: Date;
}): BindReport {
  const { manifest, snapshot, online, limits } = args;
  const matched = matchInputs(manifest, snapshot);
  const usedViews = new Set(
    matched.inputs.map((i) => snapshot.features.find((f) => f.ref === i.ref)?.view).filter(Boolean),
  );
  const freshness = checkFreshness(
    snapshot.views.filter((v) => usedViews.has(v.name)),
    args.now,
    limits.max_staleness !== undefined ? durationMs(limits.max_staleness) / 1000 : undefined,
  );
  const skew = measureSkew(snapshot, online, matched.inputs, limits.max_skew_rate);
  return {
    binding: {
      server: args.server,
      project: snapshot.project,
      service: snapshot.service,
      registryVersion: snapshot.registry.versionId,
      entityKey: snapshot.entityKey,
      inputs: matched.inputs,
    },
    freshness: freshness.figures,
    skew: skew.figures,
    sampleSize: snapshot.sample.entities.length,
    problems: [...matched.problems, ...freshness.problems, ...skew.problems],
    notes: freshness.notes,
  };
}
