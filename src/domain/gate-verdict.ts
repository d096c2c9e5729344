import type { Verdict } from './release.js';

/** A gate's overall verdict from its findings: any fail fails, else any warning warns. */
export function overallVerdict<T>(
  findings: readonly T[],
  level: (f: T) => 'pass' | 'warn' | 'fail',
  sentence: (f: T) => string | null,
): { verdict: 'pass' | 'warn' | 'fail'; headline: string | null } {
  const first = (l: 'warn' | 'fail') => findings.find((f) => level(f) === l);
  const fail = first('fail');
  const warn = first('warn');
  return {
    verdict: fail ? 'fail' : warn ? 'warn' : 'pass',
    // The first failure leads; a warning speaks only when nothing failed.
    headline: (fail && sentence(fail)) ?? (warn && sentence(warn)) ?? null,
  };
}

/**
 * A gate's stage verdict: a fail stops the release; a near miss asks for a review
 * only when the policy says so, else it is a pass that the summary warns about.
 */
export function gateStageVerdict(
  judged: { verdict: 'pass' | 'warn' | 'fail'; headline: string | null },
  opts: { reviewOnNearMiss: boolean; code: string; field: string; fix: string; failed: string },
): Verdict {
  if (judged.verdict === 'fail') return { kind: 'fail', reason: judged.headline ?? opts.failed };
  if (judged.verdict === 'warn' && opts.reviewOnNearMiss)
    return {
      kind: 'needs-review',
      reasons: [
        { code: opts.code, field: opts.field, message: judged.headline ?? opts.failed, fix: opts.fix },
      ],
    };
  return { kind: 'pass' };
}
