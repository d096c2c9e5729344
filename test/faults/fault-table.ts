import { appendFileSync } from 'node:fs';

export interface FaultRow {
  fault: string;
  where: string;
  outcome: string;
  duplicates: string;
  requestsFailed: string;
}

/** Adds a row to the suite's one table, which the global teardown prints. */
export function faultRow(row: FaultRow): void {
  const file = process.env.PAVED_FAULT_TABLE;
  if (!file) throw new Error('PAVED_FAULT_TABLE is unset: run the fault suite through its vitest project');
  appendFileSync(file, `${JSON.stringify(row)}\n`);
}
