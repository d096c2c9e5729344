import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { extendsTrail, type AuditEntry } from '../domain/audit.js';

/**
 * Keeps a release's audit trail after Temporal's retention has dropped the
 * history. Append-only: an export may add entries, never change or drop one.
 */
export interface AuditStore {
  export(model: string, version: string, entries: readonly AuditEntry[]): Promise<string>;
  read(model: string, version: string): Promise<AuditEntry[] | undefined>;
}

export class AuditAppendOnlyError extends Error {
  constructor(file: string) {
    super(
      `audit ${file} already holds entries that the new export does not start with; refusing to rewrite history`,
    );
    this.name = 'AuditAppendOnlyError';
  }
}

/** JSON files under PAVED_HOME/audit/<model>/<version>.json. */
export class LocalAuditStore implements AuditStore {
  constructor(readonly dir: string) {}

  private file(model: string, version: string): string {
    return path.join(this.dir, model, `${version}.json`);
  }

  async read(model: string, version: string): Promise<AuditEntry[] | undefined> {
    const f = this.file(model, version);
    if (!existsSync(f)) return undefined;
    return (JSON.parse(readFileSync(f, 'utf8')) as { entries: AuditEntry[] }).entries;
  }

  async export(model: string, version: string, entries: readonly AuditEntry[]): Promise<string> {
    const f = this.file(model, version);
    const prev = (await this.read(model, version)) ?? [];
    if (!extendsTrail(prev, entries)) throw new AuditAppendOnlyError(f);
    mkdirSync(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.partial`;
    writeFileSync(tmp, `${JSON.stringify({ model, version, entries }, null, 2)}\n`);
    renameSync(tmp, f);
    return f;
  }
}
