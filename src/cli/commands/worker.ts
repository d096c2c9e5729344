import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { createLogger } from '../../adapters/logger.js';
import { runWorker } from '../../worker.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a Temporal worker for paved until SIGINT/SIGTERM')
    .action(async () => {
      const config = loadConfig();
      await runWorker(config, createLogger('paved-worker'));
    });
}
