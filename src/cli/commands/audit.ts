import type { Command } from 'commander';
import { auditStore } from '../../activities/index.js';
import { loadConfig } from '../../adapters/config-loader.js';
import type { AuditEntry } from '../../domain/audit.js';
import { PavedError } from '../../domain/errors.js';
import { workflowIdFor } from '../../domain/release.js';
import { auditQuery } from '../../workflows/definitions.js';
import { releaseRef, withClient } from '../client.js';
import { renderTable } from '../table.js';

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description("a release's audit trail: who did what, when, with which verdict")
    .argument('<release>', '<model>/<version>')
    .option('--json', 'print as JSON')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const { model, version } = releaseRef(ref);
      const config = loadConfig();
      // Live from the workflow while Temporal has it; from the exported file after retention.
      const live = await withClient(config, (client) =>
        client.workflow
          .getHandle(workflowIdFor(model, version))
          .query(auditQuery)
          .catch(() => undefined),
      ).catch(() => undefined);
      const entries: AuditEntry[] | undefined = live ?? (await auditStore(config).read(model, version));
      if (!entries)
        throw new PavedError(
          `no audit trail for ${model}/${version}. Fix: check the name with \`paved status ${model}\``,
        );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${renderTable(
          ['#', 'AT', 'ACTOR', 'ACTION', 'VERDICT', 'REASON'],
          entries.map((e) => [
            String(e.seq),
            e.at,
            e.actor,
            e.action,
            e.verdict ?? '',
            (e.reason ?? '').slice(0, 100),
          ]),
        )}\n`,
      );
    });
}
