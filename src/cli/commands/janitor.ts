import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { janitorAuditFile, JanitorAuditLog } from '../../adapters/janitor-audit.js';
import type { Stray } from '../../domain/janitor.js';
import { resolveIdentity } from '../identity.js';
import { survey, sweep, withJanitor } from '../janitor.js';
import { renderTable } from '../table.js';

function strayTable(strays: readonly Stray[]): string {
  return renderTable(
    ['KIND', 'NAME', 'MODEL', 'HOST', 'WHY'],
    strays.map((s) => [s.kind, s.name, s.model ?? '-', s.host ?? '-', s.reason]),
  );
}

export function registerJanitorCommand(program: Command): void {
  program
    .command('janitor')
    .description(
      'find model containers and gateway routes that belong to no running release or serving version; --apply removes them',
    )
    .option('--apply', 'remove the strays (without it, only list what would be removed and why)')
    .option('--model <name...>', 'only these models')
    .option('--json', 'print the findings as JSON')
    .option(
      '--as <identity>',
      'who is cleaning up, for the audit trail (default: PAVED_USER, then git user.email)',
    )
    .action(async (opts: { apply?: boolean; model?: string[]; json?: boolean; as?: string }) => {
      const config = loadConfig();
      const audit = new JanitorAuditLog(janitorAuditFile(config));
      const actor = resolveIdentity(opts.as) ?? 'paved';
      const { found, failed } = await withJanitor(config, async (deps) => {
        const found = await survey(deps, opts.model ?? []);
        const failed = opts.apply ? await sweep(deps, found.strays, audit, actor) : [];
        return { found, failed };
      });
      if (failed.length > 0) process.exitCode = 1;
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ applied: Boolean(opts.apply), ...found, failed, audit: audit.file }, null, 2)}\n`,
        );
        return;
      }
      const out: string[] = [];
      if (found.strays.length === 0) out.push('no strays');
      else {
        out.push(strayTable(found.strays), '');
        const removed = found.strays.length - failed.length;
        out.push(
          opts.apply
            ? `removed ${removed} of ${found.strays.length}; audit: ${audit.file}`
            : `${found.strays.length} would be removed; run \`paved janitor --apply\` to remove them`,
        );
      }
      for (const f of failed) out.push(`could not remove ${f.kind} ${f.name}: ${f.error}`);
      if (found.unkept.length > 0) out.push('', 'left alone (no keeper):', strayTable(found.unkept));
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
