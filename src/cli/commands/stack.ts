import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import type { PartStatus } from '../../adapters/stack/part.js';
import { runInForeground } from '../../adapters/stack/foreground.js';
import { buildPlatformImage } from '../../adapters/stack/platform-image.js';
import { stackDown, stackStatus, stackUp } from '../../adapters/stack/stack.js';
import { countStrays } from '../janitor.js';
import { renderTable } from '../table.js';

function statusTable(parts: PartStatus[]): string {
  return renderTable(
    ['PART', 'ADDRESS', 'VERSION', 'HEALTH', 'DETAIL'],
    parts.map((p) => [p.part, p.address, p.version ?? '-', p.healthy ? 'healthy' : 'DOWN', p.detail]),
  );
}

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local stack: Temporal, Docker, registry, base image');

  stack
    .command('up')
    .description('install and start what is missing; reuse what already answers')
    .action(async () => {
      const config = loadConfig();
      const started = Date.now();
      const parts = await stackUp(config, (s) =>
        process.stderr.write(`paved: ${s.part} ${s.healthy ? 'ready' : 'DOWN'} (${s.detail})\n`),
      );
      process.stdout.write(
        `${statusTable(parts)}\n\nstack up in ${((Date.now() - started) / 1000).toFixed(1)} s; PAVED_HOME=${config.home}\n`,
      );
    });

  stack
    .command('status')
    .description('each part, its address, version and health')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const [parts, strays] = await Promise.all([stackStatus(config), countStrays(config)]);
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify({ home: config.home, healthy: parts.every((p) => p.healthy), parts, strays }, null, 2)}\n`,
        );
      else
        process.stdout.write(
          `${statusTable(parts)}\n\n${
            strays.count === null
              ? `strays: could not count (${strays.error})`
              : `strays: ${strays.count}${strays.count > 0 ? ' (`paved janitor` lists them and why)' : ''}`
          }\n`,
        );
      if (!parts.every((p) => p.healthy)) process.exitCode = 1;
    });

  stack
    .command('down')
    .description('stop what `stack up` started; leave everything else running')
    .action(async () => {
      const config = loadConfig();
      for (const r of await stackDown(config)) process.stdout.write(`${r.part.padEnd(11)} ${r.result}\n`);
    });

  stack
    .command('run <part>')
    .description(
      'run one part in the foreground, its log on stdout, until SIGTERM (what each docker-compose service runs)',
    )
    .action(async (name: string) => {
      process.exitCode = await runInForeground(loadConfig(), name);
    });

  stack
    .command('image')
    .description('build the platform image docker-compose.yml runs, from the base image, network off')
    .action(async () => {
      const config = loadConfig();
      const started = Date.now();
      const image = await buildPlatformImage(config, (line) => process.stderr.write(`  ${line}\n`));
      process.stdout.write(
        `${image.ref} (${image.id.slice(0, 19)}) built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
}
