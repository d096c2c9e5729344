import { auditStore } from '../activities/index.js';
import type { AuditEntry } from '../domain/audit.js';
import type { PavedConfig } from '../domain/config.js';
import { PavedError } from '../domain/errors.js';
import { workflowIdFor } from '../domain/release.js';
import { auditQuery } from '../workflows/definitions.js';
import { withClient } from './client.js';

/**
 * A release's audit trail: live from the workflow while Temporal has it (and can
 * replay it), else from the file exported when it ended.
 */
export async function releaseTrail(
  config: PavedConfig,
  ref: { model: string; version: string },
): Promise<AuditEntry[]> {
  const live = await withClient(config, (client) =>
    client.workflow
      .getHandle(workflowIdFor(ref.model, ref.version))
      .query(auditQuery)
      .catch(() => undefined),
  ).catch(() => undefined);
  const entries = live ?? (await auditStore(config).read(ref.model, ref.version));
  if (!entries)
    throw new PavedError(
      `no audit trail for ${ref.model}/${ref.version}. Fix: check the name with \`paved status ${ref.model}\``,
    );
  return entries;
}
