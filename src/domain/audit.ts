import type { StageName, Verdict } from './release.js';

/** One line of a release's permanent record. */
export interface AuditEntry {
  seq: number;
  at: string;
  /** Who acted: a person's identity, or "paved" for the platform. */
  actor: string;
  action: string;
  stage?: StageName;
  inputsDigest?: string;
  outputs?: unknown;
  verdict?: Verdict['kind'];
  reason?: string;
}

/** Pure: true when `next` only adds entries to `prev` (the export is append-only). */
export function extendsTrail(prev: readonly AuditEntry[], next: readonly AuditEntry[]): boolean {
  if (next.length < prev.length) return false;
  return prev.every((e, i) => JSON.stringify(e) === JSON.stringify(next[i]));
}
