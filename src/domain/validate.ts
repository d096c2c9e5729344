import { parse as parseYaml } from 'yaml';
import { parseManifest, type Manifest } from './manifest.js';
import {
  checkArtifact,
  checkEntries,
  checkHooks,
  normalizeEntryPath,
  type ArtifactFormat,
  type PackageEntry,
  type TemplateArtifacts,
} from './package-checks.js';
import { decidePath, type PackagePath, type Policy } from './policy.js';
import type { StageOutcome } from './release.js';
import type { Finding } from './schema-errors.js';
import { samplePackageProblems } from './traffic.js';
import { checkArtifactContent, checkModelInputs, type ArtifactContent } from './artifact-content.js';

/** What the inspector read from a package, without unpacking or running anything. */
export interface PackageInspection {
  entries: PackageEntry[];
  manifestText: string | undefined;
  modelPy: string | undefined;
  /** The artifact's bytes (within the artifact limit), for the pickle opcode scan. */
  artifactBytes: Uint8Array | undefined;
  /** What those bytes are, whatever the artifact's name says. */
  artifactContent?: ArtifactContent;
  /** The manifest's shadow.sample, when the package holds it. */
  sampleText?: string;
  /** Why the archive could not be read at all (not gzip, not tar, cut short). */
  unreadable?: string;
}

/** Decides whether a pickle may be loaded, from its opcodes alone. */
export type PickleScanner = (
  bytes: Uint8Array,
  allow: readonly string[],
) => { safe: boolean; disallowed: string[]; error?: string };

export interface Assessment {
  manifest: Manifest | null;
  path: PackagePath | null;
  artifactFormat: ArtifactFormat | null;
  /** Stops the release. */
  refusals: Finding[];
  /** Off the golden path: a human must approve. */
  reviewReasons: Finding[];
  reviewers: string[];
  /** Who may promote its rollout. */
  operators: string[];
  reviewDeadline: string | null;
  /** How long a signed decision stays good (policy review.signed_within). */
  signedWithin: string | null;
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
  if (parsed.ok) return { manifest: parsed.manifest };
  // A problem with the document as a whole is a problem with the file.
  return {
    findings: parsed.findings.map((f) => (f.field === '(document)' ? { ...f, field: 'paved.yaml' } : f)),
  };
}

/** What a refused package tells: no manifest, no path, nobody to decide. */
export function nothingKnown(): Omit<Assessment, 'refusals' | 'reviewReasons'> {
  return {
    manifest: null,
    path: null,
    artifactFormat: null,
    reviewers: [],
    operators: [],
    reviewDeadline: null,
    signedWithin: null,
  };
}

/**
 * Pure: every check of the validate stage (and of `paved validate`): package
 * layout, manifest schema, policy, artifact format and safety, model.py hooks.
 */
export function assessPackage(
  inspection: PackageInspection,
  policy: Policy,
  opts: {
    expectedModel?: string;
    scanPickle: PickleScanner;
    /** What each template serves, from its template.yaml. */
    templates: Readonly<Record<string, TemplateArtifacts>>;
  },
): Assessment {
  const none = nothingKnown();
  if (inspection.unreadable !== undefined) {
    const refusal: Finding = {
      code: 'unreadable-package',
      field: 'package',
      message: `is not a gzip-compressed tar archive paved can read (${inspection.unreadable})`,
      fix: 'release the model directory with `paved release DIR`, which packs it',
    };
    return { ...none, refusals: [refusal], reviewReasons: [] };
  }
  const refusals: Finding[] = checkEntries(inspection.entries, policy.packages);
  const reviewReasons: Finding[] = [];
  const read = readManifest(inspection.manifestText);
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
  const artifact = checkArtifact(m.artifact, m.template, inspection.entries, policy.packages, opts.templates);
  refusals.push(...artifact.refusals);
  reviewReasons.push(...artifact.reviewReasons);
  if (artifact.format && inspection.artifactContent) {
    const content = checkArtifactContent(
      m.artifact,
      artifact.format,
      inspection.artifactContent,
      policy.allowed_types,
    );
    refusals.push(...content.refusals);
    reviewReasons.push(...content.reviewReasons);
    const c = inspection.artifactContent;
    if (content.refusals.length === 0 && 'signature' in c)
      refusals.push(...checkModelInputs(m.artifact, c.signature, m.inputs));
  }
  if (
    artifact.format === 'pickle' &&
    inspection.artifactContent?.kind === 'pickle' &&
    inspection.artifactBytes
  ) {
    const scan = opts.scanPickle(inspection.artifactBytes, policy.allowed_types);
    if (!scan.safe) {
      refusals.push({
        code: 'pickle-unsafe',
        field: m.artifact,
        message: scan.error
          ? `${m.artifact} cannot be checked safely (${scan.error})`
          : `${m.artifact} would import ${scan.disallowed.join(', ')}, which the platform's pickle allow-list does not name`,
        fix: scan.error
          ? 'save the model with skops.io.dump (model.skops)'
          : 'save the model with skops.io.dump (model.skops), or ask the platform team to add each name to allowed_types in policy/platform.yaml',
      });
    }
  }
  if (inspection.modelPy !== undefined) refusals.push(...checkHooks(inspection.modelPy));
  const sample = m.shadow?.sample;
  if (
    sample &&
    !inspection.entries.some(
      (e) => e.type === 'File' && normalizeEntryPath(e.path) === normalizeEntryPath(sample),
    )
  )
    refusals.push({
      code: 'missing-sample',
      field: 'shadow.sample',
      message: `${sample} is not a file in the package`,
      fix: 'add the traffic sample to the package, or correct shadow.sample',
    });
  if (sample && inspection.sampleText !== undefined) {
    // Sensitive attributes the model does not read and no feature service looks up
    // come from the sample's lines: each line must carry them.
    const inputs = new Set(m.inputs.map((i) => i.name));
    const carried = m.fairness.service ? [] : m.fairness.sensitive.filter((a) => !inputs.has(a));
    for (const message of samplePackageProblems(inspection.sampleText, sample, carried))
      refusals.push({
        code: 'traffic-sample',
        field: 'shadow.sample',
        message,
        fix: 'write one request per line as {"t": ms, "key": ..., "request": {"inputs": [...]}} with each input\'s data matching its shape (docs/traffic-format.md); `paved init --data` writes one from a CSV',
      });
  }
  return {
    manifest: m,
    path: reviewReasons.length > 0 ? 'off-path' : 'golden',
    artifactFormat: artifact.format ?? null,
    refusals,
    reviewReasons,
    reviewers: decision.reviewers,
    operators: decision.operators,
    reviewDeadline: decision.reviewDeadline,
    signedWithin: decision.signedWithin,
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
