import semver from 'semver';
import { z } from 'zod';
import { durationMs, durationSchema } from './duration.js';
import { REQUIREMENT, rolloutSchema, type Manifest } from './manifest.js';
import { findingsFromZod, type Finding } from './schema-errors.js';

/** One allowed_signers line: an identity and its SSH public key (an optional comment after it). */
const SIGNER_LINE =
  /^[^\s@]+@[^\s@]+\s+(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh\.com)\s+[A-Za-z0-9+/]+={0,3}(\s+\S.*)?$/;
const SIGNER_RULE =
  'must be "<identity> <key type> <base64 key>", e.g. the identity followed by the contents of ~/.ssh/id_ed25519.pub';

/** `policy/platform.yaml`: what the platform team decides for every model. */
export const PolicySchema = z.strictObject({
  templates: z.array(z.string().min(1)).min(1, 'must list at least one template'),
  approved_libraries: z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a package name'),
    z
      .string()
      .refine((r) => semver.validRange(r) !== null, 'must be a version range like ">=1.5 <2" or "1.9.1"'),
  ),
  teams: z.record(
    z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a team name'),
    z
      .strictObject({
        reviewers: z.array(z.email()).min(1, 'a team needs at least one reviewer'),
        /** Who may promote a rollout (skip its remaining steps). */
        operators: z.array(z.email()).default([]),
        /**
         * The keys that prove who decided, one `<identity> <key type> <base64 key>` line each,
         * as in ssh-keygen's allowed_signers file; CI's key too when it signs release requests.
         */
        signers: z.array(z.string().regex(SIGNER_LINE, SIGNER_RULE)).default([]),
      })
      .superRefine((team, ctx) => {
        const keyed = new Set(team.signers.map((l) => l.split(/\s+/)[0]!.toLowerCase()));
        for (const [role, list] of [
          ['reviewers', team.reviewers],
          ['operators', team.operators],
        ] as const)
          list.forEach((who, i) => {
            if (!keyed.has(who.toLowerCase()))
              ctx.addIssue({
                code: 'custom',
                path: [role, i],
                message: `${who} has no key in the team's signers, so no decision of theirs can be proven`,
              });
          });
      }),
  ),
  review: z.strictObject({
    deadline: durationSchema,
    /** A signed decision must reach its release this soon after it was signed. */
    signed_within: durationSchema.default('15m'),
  }),
  budgets: z.strictObject({
    p50_ms: z.number().positive(),
    p99_ms: z.number().positive(),
    error_rate: z.number().min(0).max(1),
    cost_per_million_usd: z.number().positive().optional(),
  }),
  rollout: rolloutSchema,
  /** What no package's rollout may go under: its first step at most, its bake at least. */
  rollout_floor: z
    .strictObject({
      max_first_step: z.number().int().min(1).max(100).default(100),
      min_bake: durationSchema.default('0s'),
    })
    .prefault({}),
  /** How a canary is judged at each rollout step (see domain/rollout.ts), and how long an old stable drains. */
  rollout_analysis: z
    .strictObject({
      min_requests: z.number().int().min(0).default(50),
      max_error_rate: z.number().min(0).max(1).default(0.05),
      max_error_rate_increase: z.number().min(0).max(1).default(0.01),
      max_p99_ratio: z.number().min(1).default(1.5),
      p99_slack_ms: z.number().min(0).default(20),
      /** A step with too little traffic holds its weight this long, then asks for a review. */
      inconclusive_deadline: durationSchema.default('30m'),
      drain: durationSchema.default('5s'),
    })
    .prefault({}),
  /** What one model replica may use, in every stage (shadow, rollout, try). */
  model_limits: z
    .strictObject({
      cpus: z.number().positive().max(64).default(1),
      memory_mb: z.number().int().min(64).default(1024),
      pids: z.number().int().min(16).max(4096).default(256),
    })
    .prefault({}),
  /**
   * How versions serve once released: replicas sized from the shadow measurement
   * (domain/sizing.ts), kept alive by the model's serving workflow.
   */
  serving: z
    .strictObject({
      min_replicas: z.number().int().min(1).max(64).default(1),
      max_replicas: z.number().int().min(1).max(64).default(3),
      /** The replicas together carry the live peak times this. */
      headroom: z.number().min(1).default(1.5),
      /** The share of a replica's CPUs it may be kept busy at the peak. */
      target_utilisation: z.number().gt(0).max(1).default(0.6),
      /** How often the serving workflow replaces dead replicas and removes strays. */
      reconcile_every: durationSchema.default('10s'),
    })
    .prefault({})
    .refine((s) => s.min_replicas <= s.max_replicas, {
      message: 'min_replicas must not be more than max_replicas',
      path: ['min_replicas'],
    }),
  /** The bind stage: how hard to look for training/serving skew and stale features. */
  features: z
    .strictObject({
      skew_sample_size: z.number().int().min(1).max(5000).default(200),
      /** Share of sampled entities whose online value may differ from the offline one, per feature. */
      max_skew_rate: z.number().min(0).max(1).default(0),
      /** Tighter than a view's TTL when set: the newest materialization may be at most this old. */
      max_staleness: durationSchema.optional(),
    })
    .prefault({}),
  /** The shadow stage: how traffic is replayed against candidate and stable, and how it is judged. */
  shadow: z
    .strictObject({
      /** Requests per second when only a package sample exists (no live traffic recorded). */
      rate: z.number().positive().default(10),
      /** Live traffic is replayed at its recorded peak times this. */
      headroom: z.number().min(1).default(1.5),
      max_rate: z.number().positive().default(50),
      duration: durationSchema.default('45s'),
      warmup: durationSchema.default('3s'),
      /** A request not answered in this time counts as an error (and as this long). */
      timeout: durationSchema.default('5s'),
      /** Captured live requests needed before they replace the package's own sample. */
      min_captured: z.number().int().min(1).default(200),
      max_p99_regression: z.number().min(0).default(0.2),
      /** Added to the regression limit: a few ms of scheduling noise is not a regression. */
      p99_slack_ms: z.number().min(0).default(10),
      max_error_rate_increase: z.number().min(0).max(1).default(0.01),
      /** A pass within this share of a budget is a near miss. */
      near_miss: z.number().min(0).max(1).default(0.1),
      review_on_near_miss: z.boolean().default(false),
    })
    .prefault({}),
  /** The bias gate: per-group selection rates on the shadow predictions (domain/bias-gate.ts). */
  fairness: z
    .strictObject({
      min_dp_ratio: z.number().min(0).max(1).default(0.8),
      max_equalized_odds_difference: z.number().min(0).max(1).optional(),
      max_dp_ratio_drop: z.number().min(0).max(1).default(0.05),
      near_miss: z.number().min(0).max(1).default(0.1),
      min_group_size: z.number().int().min(1).default(30),
      review_on_near_miss: z.boolean().default(false),
    })
    .prefault({}),
  /** What serving costs, for the cost-per-million-predictions figure and budget. */
  cost: z
    .strictObject({
      vcpu_hour_usd: z.number().min(0).default(0.04),
      gb_hour_usd: z.number().min(0).default(0.005),
    })
    .prefault({}),
  /** Limits on what a package may unpack to: a tar bomb or a huge artifact is refused. */
  packages: z
    .strictObject({
      max_files: z.number().int().positive().default(500),
      max_unpacked_mb: z.number().positive().default(256),
      max_artifact_mb: z.number().positive().default(128),
    })
    .prefault({}),
  /**
   * What a pickle may import and a skops file may hold, by exact module.name: never a
   * prefix, since scikit-learn's modules re-export general helpers. Absent: none.
   */
  allowed_types: z
    .array(
      z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/,
          'must be one exact module.name (a prefix such as "sklearn." or a wildcard is not allowed)',
        ),
    )
    .default([]),
});

export type Policy = z.infer<typeof PolicySchema>;

const HINTS: Record<string, string> = {
  templates: 'list the golden-path templates, e.g. [python-sklearn]',
  approved_libraries: 'map package names to version ranges, e.g. scikit-learn: "1.9.1"',
  teams:
    'map team names to reviewers and their keys, e.g. risk: {reviewers: [bob@example.com], signers: ["bob@example.com ssh-ed25519 AAAA…"]}',
  'review.signed_within': 'give how long a signed decision stays good, e.g. 15m',
  'review.deadline': 'give how long a review may wait, e.g. 72h',
  'rollout_analysis.min_requests':
    'give how many canary requests a window needs before it is judged, e.g. 50',
  'rollout_analysis.inconclusive_deadline':
    'give how long a step may wait for enough traffic before a reviewer decides, e.g. 30m',
  'rollout_analysis.drain': 'give how long the old stable keeps serving in-flight requests, e.g. 5s',
  allowed_types: 'list each class or function by its full name, e.g. sklearn.pipeline.Pipeline',
  'features.skew_sample_size': 'give how many entities the skew check samples, e.g. 200',
  'features.max_skew_rate': 'give the share of sampled values that may differ, from 0 to 1, e.g. 0',
  'features.max_staleness': 'give the oldest a materialization may be, e.g. 24h',
};

/** camelCase to snake_case: maxP99Ratio is max_p99_ratio, memoryMB is memory_mb. */
function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The fields of an object schema, under its defaults and optionals; null for anything else. */
function fieldsOf(schema: z.ZodType): Readonly<Record<string, z.ZodType>> | null {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional)
    s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : null;
}

/**
 * Pure: the policy's keys were camelCase once (approvedLibraries, shadow.maxRate) and
 * are snake_case now, as paved.yaml's are. Each old key is one finding that names it,
 * its new name and the fix; the document comes back with the keys renamed, so the
 * rest of it is checked in the same pass and every problem is reported at once.
 */
export function renamedPolicyKeys(data: unknown): { findings: Finding[]; renamed: unknown } {
  const findings: Finding[] = [];
  const walk = (
    value: unknown,
    fields: Readonly<Record<string, z.ZodType>>,
    oldPath: string,
    newPath: string,
  ): unknown => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const entries: Array<[string, unknown]> = [];
    for (const [key, v] of Object.entries(value)) {
      const snake = snakeCase(key);
      const old = !Object.hasOwn(fields, key) && snake !== key && Object.hasOwn(fields, snake);
      const name = old ? snake : key;
      const was = oldPath ? `${oldPath}.${key}` : key;
      const now = newPath ? `${newPath}.${name}` : name;
      if (old) {
        const both = Object.hasOwn(value, snake);
        findings.push({
          code: 'renamed-field',
          field: was,
          message: `was renamed to ${now}`,
          fix: both ? `remove it (${now} is set too)` : `rename it to ${name}`,
        });
        if (both) continue;
      }
      const inner = Object.hasOwn(fields, name) ? fieldsOf(fields[name]!) : null;
      entries.push([name, inner ? walk(v, inner, was, now) : v]);
    }
    // fromEntries defines own properties: a "__proto__" key stays a key.
    return Object.fromEntries(entries);
  };
  const renamed = walk(data, PolicySchema.shape, '', '');
  return { findings, renamed: findings.length > 0 ? renamed : data };
}

export function parsePolicy(
  data: unknown,
): { ok: true; policy: Policy } | { ok: false; findings: Finding[] } {
  const { findings: renames, renamed } = renamedPolicyKeys(data);
  const parsed = PolicySchema.safeParse(renamed);
  if (parsed.success && renames.length === 0) return { ok: true, policy: parsed.data };
  return {
    ok: false,
    findings: [
      ...renames,
      ...(parsed.success
        ? []
        : findingsFromZod(parsed.error, HINTS, 'see policy/platform.yaml in the paved repository')),
    ],
  };
}

export type PackagePath = 'golden' | 'off-path';

/** A package may roll out more carefully than the platform's floor, never faster. */
export function rolloutBelowFloor(manifest: Pick<Manifest, 'rollout'>, policy: Policy): Finding[] {
  const { rollout } = manifest;
  if (!rollout) return [];
  const floor = policy.rollout_floor;
  const findings: Finding[] = [];
  const first = rollout.steps[0]!;
  if (first > floor.max_first_step)
    findings.push({
      code: 'rollout-below-floor',
      field: 'rollout.steps',
      message: `the first step sends ${first} % of traffic to the new version; the platform allows at most ${floor.max_first_step} %`,
      fix: `start at ${floor.max_first_step} % or less, e.g. steps: [${floor.max_first_step}, 50, 100], or leave rollout out to take the platform's`,
    });
  if (durationMs(rollout.bake) < durationMs(floor.min_bake))
    findings.push({
      code: 'rollout-below-floor',
      field: 'rollout.bake',
      message: `a bake of ${rollout.bake} is shorter than the platform's minimum of ${floor.min_bake}`,
      fix: `bake ${floor.min_bake} or longer, or leave rollout out to take the platform's`,
    });
  return findings;
}

export interface PolicyDecision {
  path: PackagePath;
  /** Stops the release: the package cannot be released as it is. */
  refusals: Finding[];
  /** Off the golden path: releasable after a human review. */
  reviewReasons: Finding[];
  reviewers: string[];
  operators: string[];
  reviewDeadline: string;
  signedWithin: string;
}

/**
 * Pure: checks a valid manifest against the platform policy. Unknown libraries
 * and versions outside the approved range are off-path (review required), an
 * unknown team or template is refused.
 */
export function decidePath(manifest: Manifest, policy: Policy): PolicyDecision {
  const refusals: Finding[] = [];
  const reviewReasons: Finding[] = [];
  // An own key only: "constructor" or "__proto__" is not a team.
  for (const key of ['p50_ms', 'p99_ms', 'error_rate', 'cost_per_million_usd'] as const) {
    const mine = manifest.budgets?.[key];
    const ceiling = policy.budgets[key];
    if (mine !== undefined && ceiling !== undefined && mine > ceiling)
      refusals.push({
        code: 'budget-looser-than-policy',
        field: `budgets.${key}`,
        message: `${mine} is looser than the platform's ${ceiling}; a package's budgets may only be tighter`,
        fix: `use ${ceiling} or less, or leave budgets.${key} out to take the platform's`,
      });
  }
  refusals.push(...rolloutBelowFloor(manifest, policy));
  const team = Object.hasOwn(policy.teams, manifest.team) ? policy.teams[manifest.team] : undefined;
  if (!team) {
    refusals.push({
      code: 'unknown-team',
      field: 'team',
      message: `team "${manifest.team}" is not in the platform policy`,
      fix: `use one of ${Object.keys(policy.teams).join(', ')}, or ask the platform team to add yours`,
    });
  }
  if (!policy.templates.includes(manifest.template)) {
    refusals.push({
      code: 'unknown-template',
      field: 'template',
      message: `template "${manifest.template}" is not a golden-path template`,
      fix: `use one of ${policy.templates.join(', ')}`,
    });
  }
  manifest.requirements.forEach((req, i) => {
    const [, name, version] = REQUIREMENT.exec(req)!;
    const key = Object.keys(policy.approved_libraries).find((k) => normalize(k) === normalize(name!));
    if (!key) {
      reviewReasons.push({
        code: 'unapproved-library',
        field: `requirements[${i}]`,
        message: `${name} is not an approved library`,
        fix: 'use approved libraries only, or wait for a reviewer to approve this release',
      });
      return;
    }
    const range = policy.approved_libraries[key]!;
    const v = semver.coerce(version!);
    if (!v || !semver.satisfies(v, range)) {
      reviewReasons.push({
        code: 'unapproved-version',
        field: `requirements[${i}]`,
        message: `${name}==${version} is outside the approved range ${range}`,
        fix: `pin a version in ${range}, or wait for a reviewer to approve this release`,
      });
    }
  });
  return {
    path: reviewReasons.length > 0 ? 'off-path' : 'golden',
    refusals,
    reviewReasons,
    reviewers: team?.reviewers ?? [],
    operators: team?.operators ?? [],
    reviewDeadline: policy.review.deadline,
    signedWithin: policy.review.signed_within,
  };
}

/** PEP 503 name normalization: Scikit_Learn and scikit-learn are the same package. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
