import type { AuditStore } from '../adapters/audit-store.js';
import type { AuditEntry } from '../domain/audit.js';

export interface AuditActivities {
  exportAudit(input: {
    model: string;
    version: string;
    runId: string;
    entries: AuditEntry[];
  }): Promise<string>;
}

export function createAuditActivities(store: AuditStore): AuditActivities {
  return {
    exportAudit: ({ model, version, runId, entries }) => store.export(model, version, runId, entries),
  };
}
