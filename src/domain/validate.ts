import { parse as parseYaml } from 'yaml';
import { parseManifest, type Manifest } from './manifest.js';
import {
  checkArtifact,
  checkEntries,
  checkHooks,
  type ArtifactFormat,
  type PackageEntry,
} from './package-checks.js';
import { decidePath, type PackagePath, type Policy } from './policy.js';
import type { StageOutcome } from './release.js';
import type { Finding } from './schema-errors.js';

/** What the inspector read from a package, without unpacking or running anything. */
export interface PackageInspection {
  entries: PackageEntry[];
  manifestText: string | undefined;
  modelPy: string | undefined;
  /** The artifact's bytes when it is a pickle, for the opcode scan. */
  artifactBytes: Uint8Array | undefined;
}

/** Decides whether a pickle may be loaded, from its opcodes alone. */
export type PickleScanner = (bytes: Uint8Array) => { safe: boolean; disallowed: string[]; error?: string };

export interface Assessment {
  manifest: Manifest | null;
  path: PackagePath | null;
  artifactFormat: ArtifactFormat | null;
  /** Stops the release. */
  refusals: Finding[];
  /** Off the golden path: a human must approve. */
  reviewReasons: Finding[];
  reviewers: string[];
  reviewDeadline: string | null;
}

export interface ValidateOutput extends Assessment {
  packageDigest: string;
}

function readManifest(text: string | undefined): { manifest: Manifest } | { findings: Finding[] } {
  if (text === undefined) {
    return {
      findings: [
        {
          code: 'missing-manifest',
          field: 'paved.yaml',
          message: 'the package has no paved.yaml at its root',
          fix: 'run `paved init` or copy examples/arrests/paved.yaml',
        },
      ],
    };
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    return {
      findings: [
        {
          code: 'invalid-yaml',
          field: 'paved.yaml',
          message: `is not valid YAML (${(err as Error).message.split('\n')[0]})`,
          fix: 'correct the YAML syntax',
        },
      ],
    };
  }
  const parsed = parseManifest(data);
  return parsed.ok ? { manifest: parsed.manifest } : { findings: parsed.findings };
}

/**
 * Pure: every check of the validate stage (and of `paved validate`): package
 * layout, manifest schema, policy, artifact format and safety, model.py hooks.
 */
export function assessPackage(
  inspection: PackageInspection,
  policy: Policy,
  opts: { expectedModel?: string; scanPickle: PickleScanner },
): Assessment {
  const refusals: Finding[] = checkEntries(inspection.entries, policy.packages);
  const reviewReasons: Finding[] = [];
  const read = readManifest(inspection.manifestText);
  const none = { manifest: null, path: null, artifactFormat: null, reviewers: [], reviewDeadline: null };
  if ('findings' in read) return { ...none, refusals: [...read.findings, ...refusals], reviewReasons };
  const m = read.manifest;
  const decision = decidePath(m, policy);
  refusals.push(...decision.refusals);
  reviewReasons.push(...decision.reviewReasons);
  if (opts.expectedModel !== undefined && m.name !== opts.expectedModel) {
    refusals.push({
      code: 'name-mismatch',
      field: 'name',
      message: `the package is named "${m.name}" but is released as "${opts.expectedModel}"`,
      fix: `release it as ${m.name}, or change name in paved.yaml`,
    });
  }
  const artifact = checkArtifact(m.artifact, inspection.entries, policy.packages);
  refusals.push(...artifact.refusals);
  reviewReasons.push(...artifact.reviewReasons);
  if (artifact.format === 'pickle' && inspection.artifactBytes) {
    const scan = opts.scanPickle(inspection.artifactBytes);
    if (!scan.safe) {
      refusals.push({
        code: 'pickle-unsafe',
        field: m.artifact,
        message: scan.error
          ? `${m.artifact} cannot be checked safely (${scan.error})`
          : `${m.artifact} would import ${scan.disallowed.join(', ')}, which a model never needs`,
        fix: 'save the model with skops.io.dump; pickles may reference only scikit-learn and numpy types',
      });
    }
  }
  if (inspection.modelPy !== undefined) refusals.push(...checkHooks(inspection.modelPy));
  return {
    manifest: m,
    path: reviewReasons.length > 0 ? 'off-path' : 'golden',
    artifactFormat: artifact.format ?? null,
    refusals,
    reviewReasons,
    reviewers: decision.reviewers,
    reviewDeadline: decision.reviewDeadline,
  };
}

function sentence(findings: Finding[]): string {
  const [first, ...rest] = findings;
  if (!first) return '';
  const more = rest.length > 0 ? ` (and ${rest.length} more finding${rest.length > 1 ? 's' : ''})` : '';
  return `${first.field}: ${first.message}. Fix: ${first.fix}${more}`;
}

/** Pure: the validate stage's verdict from an assessment. */
export function validateOutcome(packageDigest: string, a: Assessment): StageOutcome<ValidateOutput> {
  const output: ValidateOutput = { packageDigest, ...a };
  if (a.refusals.length > 0) {
    const prefix = a.manifest ? 'the package cannot be released' : 'paved.yaml is invalid';
    return {
      stage: 'validate',
      verdict: { kind: 'fail', reason: `${prefix}: ${sentence(a.refusals)}`, findings: a.refusals },
      output,
      summary: `refused: ${a.refusals.length} problem(s)`,
    };
  }
  if (a.path === 'off-path') {
    return {
      stage: 'validate',
      verdict: { kind: 'needs-review', reasons: a.reviewReasons },
      output,
      summary: `off the golden path: ${a.reviewReasons.map((r) => r.message).join('; ')}`,
    };
  }
  return {
    stage: 'validate',
    verdict: { kind: 'pass' },
    output,
    summary: `golden path, template ${a.manifest?.template}, ${a.artifactFormat} artifact`,
  };
}
