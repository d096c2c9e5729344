import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { workflowUiUrl } from '../../adapters/temporal-connection.js';
import { withClient } from '../client.js';
import { resolveIdentity } from '../identity.js';
import { startRelease } from '../release-start.js';
import { waitForRelease } from '../release-wait.js';

export function registerReleaseCommand(program: Command): void {
  program
    .command('release')
    .description('package a model directory and start its release (CI runs this on every commit)')
    .argument('<dir>', 'model package directory (with paved.yaml)')
    .option('--version <version>', 'release version (default: first 12 hex digits of the package digest)')
    .option(
      '--wait',
      'follow the release and exit 0 released, 2 gate, 3 rejected/expired, 4 rolled back, 1 other',
    )
    .option('--json', 'machine-readable output (NDJSON events with --wait)')
    .action(async (dir: string, opts: { version?: string; wait?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const requestedBy = resolveIdentity() ?? 'unknown';
      await withClient(config, async (client) => {
        const started = await startRelease(client, config, path.resolve(dir), {
          version: opts.version,
          requestedBy,
        });
        const url = workflowUiUrl(config, started.workflowId);
        const json = Boolean(opts.json);
        if (json) {
          process.stdout.write(
            `${JSON.stringify({ event: 'started', workflowId: started.workflowId, model: started.model, version: started.version, url })}\n`,
          );
        } else {
          process.stderr.write(`release ${started.model}/${started.version} (${started.workflowId})\n`);
        }
        if (!opts.wait) {
          if (!json) process.stdout.write(`${started.model}/${started.version} started: ${url}\n`);
          return;
        }
        const result = await waitForRelease(started.handle, { json });
        if (!json)
          process.stdout.write(
            `${result.status} ${started.model}/${started.version}: ${result.reason} — ${url}\n`,
          );
        process.exitCode = result.exitCode;
      });
    });
}
