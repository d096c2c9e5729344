import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { releaseRef } from '../client.js';
import { releaseTrail } from '../release-trail.js';
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
      const entries = await releaseTrail(config, { model, version });
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
