/**
 * An error whose message is written for the person at the terminal: what is wrong
 * and how to fix it. The CLI prints it without a stack trace.
 */
export class PavedError extends Error {
  constructor(
    message: string,
    /** The CLI's exit code: 1, or 2 when the input was refused (DESIGN's exit codes). */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Activity failure types the workflow must not retry: retrying cannot fix them. Named
 * once here, since workflows (retry policies) and activities (failures) both use them.
 */
export const FAILURE = {
  /** policy/platform.yaml does not parse or validate: a platform engineer fixes it. */
  policyInvalid: 'PolicyInvalid',
  /** The package is not in the store any more. */
  packageUnavailable: 'PackageUnavailable',
} as const;

/** The innermost cause's message: what an activity failure wrapped in Temporal's layers says. */
export function rootMessage(err: unknown): string {
  let e = err as Error | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return e?.message ?? String(err);
}
