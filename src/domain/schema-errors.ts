import type { z } from 'zod';

/** A problem in a document a person wrote, with the field and how to fix it. */
export interface Finding {
  code: string;
  field: string;
  message: string;
  fix: string;
}

/** Field paths with array indices folded to `*`, the key for fix hints. */
export function fieldPattern(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? '*' : String(p))).join('.');
}

export function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** Turns zod issues into findings, each with a fix taken from the document's hint table. */
export function findingsFromZod(
  error: z.ZodError,
  hints: Readonly<Record<string, string>>,
  fallbackFix: string,
): Finding[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const parent = fieldName(issue.path);
      const keys = issue.keys.map((k) => (parent ? `${parent}.${k}` : k));
      return {
        code: 'unknown-field',
        field: keys[0] ?? parent,
        message: `unknown field ${keys.map((k) => `"${k}"`).join(', ')}`,
        fix: 'remove it or check its spelling against the documented fields',
      };
    }
    const pattern = fieldPattern(issue.path);
    return {
      code: issue.code === 'invalid_type' && issue.input === undefined ? 'missing-field' : 'invalid-field',
      field: fieldName(issue.path) || '(document)',
      message: issue.message,
      fix: hints[pattern] ?? fallbackFix,
    };
  });
}

export function formatFinding(doc: string, f: Finding): string {
  return `${doc}: ${f.field}: ${f.message}. Fix: ${f.fix}`;
}
