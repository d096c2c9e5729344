import { z } from 'zod';
import { durationSchema } from './duration.js';
import { MODEL_NAME } from './release.js';
import { findingsFromZod, type Finding } from './schema-errors.js';

/**
 * `paved.yaml`, the data scientist's side of a release. Only what the scientist
 * decides lives here; what the platform decides lives in the policy.
 */
export const DTYPES = ['float32', 'float64', 'int32', 'int64', 'bool', 'string'] as const;

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), 'must be a path inside the package');

export { MODEL_NAME };

export const REQUIREMENT = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$/;

export const rolloutSchema = z.strictObject({
  steps: z
    .array(
      z
        .number()
        .int('each step is a whole traffic percentage')
        .min(1, 'each step is a traffic percentage from 1 to 100')
        .max(100, 'each step is a traffic percentage from 1 to 100'),
    )
    .min(1, 'needs at least one step')
    .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]!), 'steps must increase')
    .refine((s) => s[s.length - 1] === 100, 'the last step must be 100'),
  bake: durationSchema,
});

export const ManifestSchema = z
  .strictObject({
    name: z
      .string({ error: 'is required' })
      .regex(MODEL_NAME, 'must be lowercase letters, digits and dashes, starting with a letter'),
    owner: z.email({ error: "must be the owner's e-mail address" }),
    team: z
      .string({ error: 'is required' })
      .regex(/^[a-z][a-z0-9-]*$/, 'must be a team name from the platform policy'),
    description: z.string().optional(),
    template: z.string().default('python-sklearn'),
    artifact: relativePath,
    requirements: z
      .array(z.string().regex(REQUIREMENT, 'must pin an exact version, like scikit-learn==1.9.1'))
      .default([]),
    inputs: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier')
            .max(64, 'must be at most 64 characters'),
          dtype: z.enum(DTYPES),
        }),
      )
      .min(1, 'must list at least one model input'),
    features: z
      .strictObject({
        service: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a Feast feature service name'),
        request: z.array(z.string().min(1)).default([]),
      })
      .optional(),
    budgets: z
      .strictObject({
        p50_ms: z.number().positive().optional(),
        p99_ms: z.number().positive().optional(),
        error_rate: z.number().min(0).max(1).optional(),
        cost_per_million_usd: z.number().positive().optional(),
      })
      .default({}),
    fairness: z
      .strictObject({
        sensitive: z.array(z.string().min(1)).default([]),
        /**
         * The Feast feature service that holds sensitive attributes that are neither
         * model inputs nor carried by the traffic sample's lines.
         */
        service: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a Feast feature service name')
          .optional(),
        min_dp_ratio: z.number().min(0).max(1).optional(),
      })
      .default({ sensitive: [] }),
    /** A traffic sample in the package (docs/traffic-format.md), replayed until live traffic is recorded. */
    shadow: z.strictObject({ sample: relativePath }).optional(),
    rollout: rolloutSchema.optional(),
    /** At least this many replicas: the policy's bounds still hold (never fewer than its minimum). */
    serving: z.strictObject({ replicas: z.number().int().min(1).max(64) }).optional(),
  })
  .superRefine((m, ctx) => {
    const inputs = new Set(m.inputs.map((i) => i.name));
    // An attribute the model does not read comes from the sample's lines or from Feast.
    const elsewhere = m.fairness.sensitive.filter((a) => !inputs.has(a));
    if (elsewhere.length > 0 && !m.fairness.service && !m.shadow?.sample)
      ctx.addIssue({
        code: 'custom',
        path: ['fairness', 'service'],
        message: `is required to look up ${elsewhere.join(', ')} for the bias gate (not a model input, and no shadow.sample to carry it)`,
      });
    const pinned = new Map<string, number>();
    m.requirements.forEach((req, k) => {
      const name = (REQUIREMENT.exec(req)?.[1] ?? req).toLowerCase().replace(/[-_.]+/g, '-');
      const earlier = pinned.get(name);
      if (earlier !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['requirements', k],
          message: `pins ${name} again (also requirements[${earlier}]); one environment has one version`,
        });
      else pinned.set(name, k);
    });
    m.features?.request.forEach((name, k) => {
      if (!inputs.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['features', 'request', k],
          message: `'${name}' is not one of the model inputs (${[...inputs].join(', ')})`,
        });
    });
  });

export type Manifest = z.infer<typeof ManifestSchema>;

const HINTS: Record<string, string> = {
  name: 'use lowercase letters, digits and dashes, e.g. name: arrests',
  owner: 'put your e-mail address, e.g. owner: alice@example.com',
  team: 'use your team as listed in policy/platform.yaml, e.g. team: risk',
  template: 'use an approved template, e.g. template: python-sklearn',
  artifact: 'name the model file inside the package, e.g. artifact: model.skops',
  requirements: 'list pinned Python requirements, e.g. [scikit-learn==1.9.1]',
  'requirements.*': 'pin the exact version you trained with, e.g. scikit-learn==1.9.1',
  inputs: 'list the model inputs in order, e.g. [{name: age, dtype: float32}]',
  'inputs.*.name': 'use the feature name as the model sees it, e.g. age',
  'inputs.*.dtype': `use one of ${DTYPES.join(', ')}`,
  'features.service':
    'name the Feast feature service the model reads, e.g. features: {service: arrests_model}',
  'features.request.*': 'list only model inputs the caller sends with each request; the rest come from Feast',
  'budgets.p50_ms': 'give the median latency budget in milliseconds, e.g. 50',
  'budgets.p99_ms': 'give the p99 latency budget in milliseconds, e.g. 200',
  'budgets.error_rate': 'give the allowed error share from 0 to 1, e.g. 0.01',
  'budgets.cost_per_million_usd': 'give the budget in US dollars per million predictions, e.g. 5',
  'fairness.sensitive': 'list sensitive attributes, e.g. [colour, sex]',
  'fairness.service':
    'name the Feast feature service holding the sensitive attributes, e.g. service: arrests_sensitive',
  'fairness.min_dp_ratio': 'give the minimum demographic parity ratio from 0 to 1, e.g. 0.8',
  'shadow.sample':
    'name a JSONL traffic sample inside the package, e.g. shadow: {sample: traffic-sample.jsonl}',
  'rollout.steps': 'list increasing traffic percentages ending at 100, e.g. [5, 25, 50, 100]',
  'rollout.bake': 'give the time per step, e.g. 30s or 5m',
  'serving.replicas':
    'give the least number of replicas the version serves with, e.g. serving: {replicas: 2}',
};

export type ManifestParse = { ok: true; manifest: Manifest } | { ok: false; findings: Finding[] };

/** Pure: validates parsed YAML of a paved.yaml. */
export function parseManifest(data: unknown): ManifestParse {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return {
      ok: false,
      findings: [
        {
          code: 'invalid-document',
          field: '(document)',
          message: 'must be a YAML mapping of fields',
          fix: 'start from `paved init` or examples/arrests/paved.yaml',
        },
      ],
    };
  }
  const parsed = ManifestSchema.safeParse(data);
  if (parsed.success) return { ok: true, manifest: parsed.data };
  return { ok: false, findings: findingsFromZod(parsed.error, HINTS, 'see examples/arrests/paved.yaml') };
}
