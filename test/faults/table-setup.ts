import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderTable } from '../../src/cli/table.js';
import type { FaultRow } from './fault-table.js';

/** Each fault file adds rows; the suite prints them as one table when it ends. */
export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-faults-'));
  const file = path.join(dir, 'rows.jsonl');
  process.env.PAVED_FAULT_TABLE = file;
  return () => {
    const rows = existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as FaultRow)
      : [];
    process.stdout.write(
      `\nfault suite\n${renderTable(
        ['FAULT', 'INJECTED', 'OUTCOME', 'DUPLICATES', 'REQUESTS FAILED'],
        rows.map((r) => [r.fault, r.where, r.outcome, r.duplicates, r.requestsFailed]),
      )}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
  };
}
