import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { reportStore } from '../../adapters/report-store.js';
import { loadConfig } from '../../adapters/config-loader.js';
import { commandExists } from '../../adapters/stack/exec.js';
import { PavedError } from '../../domain/errors.js';
import { releaseRef } from '../client.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("print the path of a release's report (shadow and bias gates), or open it")
    .argument('<release>', '<model>/<version>')
    .option('--open', 'open the HTML page in the desktop browser (xdg-open)')
    .option('--markdown', 'print the Markdown report itself')
    .action(async (ref: string, opts: { open?: boolean; markdown?: boolean }) => {
      const { model, version } = releaseRef(ref);
      const dir = reportStore(loadConfig()).dir(model, version);
      const html = path.join(dir, 'report.html');
      if (!existsSync(html)) {
        throw new PavedError(
          `${model}/${version} has no report: the shadow stage writes it, and this release ` +
            'has not reached shadow (see `paved status` or `paved audit`)',
        );
      }
      if (opts.markdown) {
        process.stdout.write(readFileSync(path.join(dir, 'report.md'), 'utf8'));
        return;
      }
      process.stdout.write(`${html}\n`);
      if (opts.open) {
        if (!(await commandExists('xdg-open'))) {
          process.stderr.write(`paved: no xdg-open here; open file://${html} in a browser\n`);
          return;
        }
        spawn('xdg-open', [html], { detached: true, stdio: 'ignore' }).unref();
      }
    });
}
