import type { Manifest } from './manifest.js';
import type { PackagePath, PolicyDecision } from './policy.js';
import type { StageOutcome } from './release.js';
import type { Finding } from './schema-errors.js';

export interface ValidateOutput {
  packageDigest: string;
  manifest: Manifest | null;
  path: PackagePath | null;
  refusals: Finding[];
  reviewReasons: Finding[];
  reviewers: string[];
  reviewDeadline: string | null;
}

function sentence(findings: Finding[]): string {
  const [first, ...rest] = findings;
  if (!first) return '';
  const more = rest.length > 0 ? ` (and ${rest.length} more finding${rest.length > 1 ? 's' : ''})` : '';
  return `${first.field}: ${first.message}. Fix: ${first.fix}${more}`;
}

/** Pure: the validate stage's verdict from what the package and the policy say. */
export function validateOutcome(
  packageDigest: string,
  expectedModel: string,
  parsed: { manifest: Manifest } | { findings: Finding[] },
  decide: (m: Manifest) => PolicyDecision,
): StageOutcome<ValidateOutput> {
  const base = {
    packageDigest,
    manifest: null,
    path: null,
    reviewReasons: [],
    reviewers: [],
    reviewDeadline: null,
  };
  if ('findings' in parsed) {
    return {
      stage: 'validate',
      verdict: {
        kind: 'fail',
        reason: `paved.yaml is invalid: ${sentence(parsed.findings)}`,
        findings: parsed.findings,
      },
      output: { ...base, refusals: parsed.findings },
      summary: `refused: ${parsed.findings.length} problem(s) in paved.yaml`,
    };
  }
  const m = parsed.manifest;
  const decision = decide(m);
  const refusals = [...decision.refusals];
  if (m.name !== expectedModel) {
    refusals.push({
      code: 'name-mismatch',
      field: 'name',
      message: `the package is named "${m.name}" but is released as "${expectedModel}"`,
      fix: `release it as ${m.name}, or change name in paved.yaml`,
    });
  }
  const output: ValidateOutput = {
    packageDigest,
    manifest: m,
    path: decision.path,
    refusals,
    reviewReasons: decision.reviewReasons,
    reviewers: decision.reviewers,
    reviewDeadline: decision.reviewDeadline,
  };
  if (refusals.length > 0) {
    return {
      stage: 'validate',
      verdict: {
        kind: 'fail',
        reason: `the package cannot be released: ${sentence(refusals)}`,
        findings: refusals,
      },
      output,
      summary: `refused: ${refusals.length} problem(s)`,
    };
  }
  if (decision.path === 'off-path') {
    return {
      stage: 'validate',
      verdict: { kind: 'needs-review', reasons: decision.reviewReasons },
      output,
      summary: `off the golden path: ${decision.reviewReasons.map((r) => r.message).join('; ')}`,
    };
  }
  return {
    stage: 'validate',
    verdict: { kind: 'pass' },
    output,
    summary: `golden path, template ${m.template}`,
  };
}
