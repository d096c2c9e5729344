import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PavedConfig } from '../domain/config.js';
import { storeRoot } from './report-store.js';

/** One removal by the janitor, as a line of its trail. */
export interface JanitorAuditEntry {
  at: string;
  /** Who ran it: a person's identity, or "paved" when none is known. */
  actor: string;
  via: 'paved janitor';
  action: 'remove container' | 'remove route';
  /** The container's name, or the routed model. */
  target: string;
  model: string | null;
  host?: string;
  /** Why it was stray. */
  reason: string;
  /** "removed", or why the removal failed. */
  result: string;
}

/** `<store>/audit/janitor.jsonl`, beside the releases' trails (a model name never holds a dot). */
export function janitorAuditFile(config: PavedConfig): string {
  return path.join(storeRoot(config), 'audit', 'janitor.jsonl');
}

/**
 * The janitor's trail: one JSON line per removal, appended (O_APPEND, one write per
 * line), never rewritten, so two janitors on machines sharing the store both keep theirs.
 */
export class JanitorAuditLog {
  constructor(readonly file: string) {}

  append(entry: JanitorAuditEntry): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  read(): JanitorAuditEntry[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as JanitorAuditEntry);
  }
}
