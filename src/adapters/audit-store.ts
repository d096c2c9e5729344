import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { extendsTrail, type AuditEntry } from '../domain/audit.js';
import { parseReleaseRef } from '../domain/release.js';

/**
 * Keeps a release's audit trail after Temporal's retention has dropped the
 * history. Append-only: an export may add entries, never change or drop one.
 * Each run of a release id has its own record.
 */
export interface AuditStore {
  export(model: string, version: string, runId: string, entries: readonly AuditEntry[]): Promise<string>;
  /** The newest run's trail. */
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

export class InvalidReleaseNameError extends Error {
  constructor(name: string) {
    super(`${JSON.stringify(name)} is not a release name (<model>/<version>)`);
    this.name = 'InvalidReleaseNameError';
  }
}

/** JSON files under PAVED_HOME/audit/<model>/<version>/<runId>.json. */
export class LocalAuditStore implements AuditStore {
  constructor(readonly dir: string) {}

  private releaseDir(model: string, version: string): string {
    // The names come from workflow input: never let them leave the audit directory.
    if (!parseReleaseRef(`${model}/${version}`)) throw new InvalidReleaseNameError(`${model}/${version}`);
    return path.join(this.dir, model, version);
  }

  private static readFile(f: string): AuditEntry[] {
    return (JSON.parse(readFileSync(f, 'utf8')) as { entries: AuditEntry[] }).entries;
  }

  async read(model: string, version: string): Promise<AuditEntry[] | undefined> {
    const dir = this.releaseDir(model, version);
    if (!existsSync(dir)) return undefined;
    const newest = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    return newest ? LocalAuditStore.readFile(newest) : undefined;
  }

  async export(
    model: string,
    version: string,
    runId: string,
    entries: readonly AuditEntry[],
  ): Promise<string> {
    if (!/^[A-Za-z0-9-]+$/.test(runId)) throw new InvalidReleaseNameError(runId);
    const f = path.join(this.releaseDir(model, version), `${runId}.json`);
    const prev = existsSync(f) ? LocalAuditStore.readFile(f) : [];
    if (!extendsTrail(prev, entries)) throw new AuditAppendOnlyError(f);
    mkdirSync(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.partial`;
    writeFileSync(tmp, `${JSON.stringify({ model, version, runId, entries }, null, 2)}\n`);
    renameSync(tmp, f);
    return f;
  }
}
