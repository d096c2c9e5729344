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
