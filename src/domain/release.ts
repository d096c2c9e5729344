/**
 * The release's vocabulary, shared by workflow, activities and the CLI. Pure types
 * and functions only: workflow code imports this.
 */
import type { Finding } from './schema-errors.js';
import type { SignedDecision } from './signed-decision.js';

/** Every stage of DESIGN.md in order. Only the built ones run; see workflows/release.ts. */
export const STAGES = ['validate', 'containerize', 'bind', 'shadow', 'bias', 'review', 'rollout'] as const;
export type StageName = (typeof STAGES)[number];

/** What a stage concluded. needs-review lets the release go on to the review stage. */
export type Verdict =
  | { kind: 'pass' }
  | { kind: 'needs-review'; reasons: Finding[] }
  | { kind: 'fail'; reason: string; findings?: Finding[] };

export interface StageOutcome<O = unknown> {
  stage: StageName;
  verdict: Verdict;
  output: O;
  /** One line for people: the CLI and the Temporal UI details show it. */
  summary: string;
}

export interface PackageRef {
  /** sha256:<hex> of the package tarball. */
  digest: string;
  /** Where the artifact store keeps it, e.g. file:///…/packages/sha256-….tar.gz */
  uri: string;
}

export interface ReleaseInput {
  model: string;
  version: string;
  package: PackageRef;
  /** Who asked: a claim, unless `request` proves it. */
  requestedBy: string;
  /** The release request signed by its requester (a person, or CI for the commit's author). */
  request?: SignedDecision;
}

export type ReleaseStatus =
  'released' | 'stopped' | 'rejected' | 'expired' | 'rolled-back' | 'cancelled' | 'failed';

export interface ReleaseOutcome {
  status: ReleaseStatus;
  /** The exit code of `paved release --wait`. */
  exitCode: number;
  /** One sentence a person can act on. */
  reason: string;
  stage: StageName | 'done';
}

const EXIT: Record<ReleaseStatus, number> = {
  released: 0,
  stopped: 2,
  rejected: 3,
  expired: 3,
  'rolled-back': 4,
  cancelled: 1,
  failed: 1,
};

export function outcome(status: ReleaseStatus, stage: StageName | 'done', reason: string): ReleaseOutcome {
  return { status, exitCode: EXIT[status], reason, stage };
}

/** A model name: also the first part of its release id and its image repository. */
export const MODEL_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * A release version, the one rule for every place a version names something: the
 * workflow id, the report directory, container names, Envoy clusters and stats.
 * Bounded, so no name built from it is ever cut short into another's.
 */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const VERSION_RULE =
  'letters, digits, dots, dashes or underscores, starting with a letter or digit, at most 64 characters';

/** Why model/version cannot name a release, or null when it can. */
export function releaseNameProblem(model: string, version: string): string | null {
  if (!MODEL_NAME.test(model))
    return `model "${model}" is not a model name: lowercase letters, digits and dashes, starting with a letter, at most 63 characters`;
  if (!VERSION_PATTERN.test(version))
    return `version "${version}" is not a release version: use ${VERSION_RULE}`;
  return null;
}

export function workflowIdFor(model: string, version: string): string {
  return `release/${model}/${version}`;
}

/** "arrests/3f2a…" → { model, version }; the CLI's way of naming a release. */
export function parseReleaseRef(ref: string): { model: string; version: string } | undefined {
  const slash = ref.indexOf('/');
  const [model, version] = [ref.slice(0, slash), ref.slice(slash + 1)];
  return slash > 0 && releaseNameProblem(model, version) === null ? { model, version } : undefined;
}

export type ReviewDecision = 'approve' | 'reject';

export interface ReviewResult {
  decision: ReviewDecision;
  reviewer: string;
  comment?: string;
  at: string;
  /** Which review of the release this decided (1 = the first). */
  round?: number;
  /** The fingerprint of the key that signed it, and when it was signed. */
  key?: string;
  signedAt?: string;
}

export interface PendingReview {
  reasons: Finding[];
  reviewers: string[];
  owner: string;
  /** Who started the release: they may not approve it either. */
  requestedBy: string;
  since: string;
  deadline: string;
  /**
   * A release may ask more than once (off the path before shadow, then an
   * inconclusive rollout step); each round is decided on its own.
   */
  round: number;
}
