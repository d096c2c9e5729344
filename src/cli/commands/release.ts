import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { workflowUiUrl } from '../../adapters/temporal-connection.js';
import { withClient } from '../client.js';
import { PavedError } from '../../domain/errors.js';
import { resolveIdentity } from '../identity.js';
import { requireSigningKey } from '../signing.js';
import { startRelease } from '../release-start.js';
import { waitForRelease } from '../release-wait.js';

interface ReleaseOpts {
  version?: string;
  wait?: boolean;
  json?: boolean;
  sign?: boolean;
  key?: string;
  author?: string;
}

/** The author of the last commit that touched the package, when it is in a git checkout. */
function commitAuthor(dir: string): string | undefined {
  try {
    return (
      execFileSync('git', ['log', '-1', '--format=%ae', '--', '.'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

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
    .option(
      '--sign',
      'sign the request (PAVED_SIGNING_KEY, git user.signingkey or ssh-agent): proves who asked, and in CI whose commit it is, so neither reviews it',
    )
    .option('--key <file>', 'sign the request with this SSH key (implies --sign)')
    .option(
      '--author <email>',
      "the commit's author the signed request names (default: git's last commit author of <dir>)",
    )
    .action(async (dir: string, opts: ReleaseOpts) => {
      const config = loadConfig();
      const requestedBy = resolveIdentity() ?? 'unknown';
      const signWith = opts.sign || opts.key ? requireSigningKey(opts.key) : undefined;
      if (signWith && requestedBy === 'unknown')
        throw new PavedError(
          'who is asking? A signed request names its signer. Fix: set PAVED_USER or git user.email',
        );
      const author = signWith ? (opts.author ?? commitAuthor(path.resolve(dir))) : undefined;
      await withClient(config, async (client) => {
        const started = await startRelease(client, config, path.resolve(dir), {
          version: opts.version,
          requestedBy,
          ...(signWith ? { signWith } : {}),
          ...(author ? { author } : {}),
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
