import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { PavedError } from '../../domain/errors.js';
import { releaseRef } from '../client.js';
import { releaseTrail } from '../release-trail.js';
import { renderTable } from '../table.js';
import { predictionRows, tryRelease } from '../try-release.js';

/** Entity ids as the feature store keys them: integers stay integers. */
export function parseEntities(values: string[]): Array<number | string> {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => (/^-?\d+$/.test(v) ? Number(v) : v));
}

export function registerTryCommand(program: Command): void {
  program
    .command('try')
    .description("start a release's image with its feature binding and predict for entity keys")
    .argument('<release>', '<model>/<version>')
    .requiredOption('--entity <ids...>', 'entity ids, e.g. --entity 1883 4680 (or 1883,4680)')
    .option('--json', 'print the V2 request and response as JSON')
    .action(async (ref: string, opts: { entity: string[]; json?: boolean }) => {
      const release = releaseRef(ref);
      const entities = parseEntities(opts.entity);
      if (entities.length === 0)
        throw new PavedError('--entity: give at least one entity id, e.g. --entity 1883');
      const result = await tryRelease(
        loadConfig(),
        release,
        await releaseTrail(loadConfig(), release),
        entities,
      );
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ request: result.request, status: result.status, response: result.response }, null, 2)}\n`,
        );
      } else if (result.status !== 200) {
        throw new PavedError(
          `the model answered HTTP ${result.status}: ${String(result.response.error ?? '')}`,
        );
      } else {
        const { headers, rows } = predictionRows(result, entities);
        process.stdout.write(
          `${release.model}/${release.version} by ${result.binding.entityKey} from feature service ${result.binding.service}:\n` +
            `${renderTable(headers, rows)}\n`,
        );
      }
      if (result.status !== 200) process.exitCode = 1;
    });
}
