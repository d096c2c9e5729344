import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { createLogger } from '../../adapters/logger.js';
import { baseImageRef } from '../../adapters/stack/base-image.js';
import { stackStatus } from '../../adapters/stack/stack.js';
import { MissingPrerequisiteError } from '../../adapters/stack/debian.js';
import { connectClient, connectWorker, workflowUiUrl } from '../../adapters/temporal-connection.js';
import { createWorker, installRuntime } from '../../worker.js';
import { stackSmoke } from '../../workflows/smoke.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the main job on the local stack with an in-process worker')
    .action(async () => {
      const config = loadConfig();
      const down = (await stackStatus(config)).filter((p) => !p.healthy);
      if (down.length > 0) {
        throw new MissingPrerequisiteError(
          `the stack is not ready (${down.map((p) => `${p.part}: ${p.detail}`).join('; ')})`,
          'run `npx paved stack up` (or `npm run demo`, which does it)',
        );
      }
      installRuntime(createLogger('paved-demo', process.env.PAVED_LOG_LEVEL ?? 'warn'));
      const connection = await connectWorker(config);
      const client = await connectClient(config);
      try {
        const worker = await createWorker(config, connection);
        const workflowId = `stack-smoke/${new Date().toISOString()}`;
        process.stdout.write(`paved: starting ${workflowId} on task queue ${config.temporal.taskQueue}\n`);
        const result = await worker.runUntil(async () => {
          const handle = await client.workflow.start(stackSmoke, {
            taskQueue: config.temporal.taskQueue,
            workflowId,
            args: [{ image: baseImageRef(config) }],
          });
          return { runId: handle.firstExecutionRunId, value: await handle.result() };
        });
        process.stdout.write(
          [
            'stack smoke passed:',
            `  docker engine   ${result.value.engineVersion}`,
            `  pushed          ${result.value.pushedRef}`,
            `  digest          ${result.value.pushedDigest}`,
            `  registry holds  ${result.value.registryDigest}`,
            `  Temporal UI     ${workflowUiUrl(config, workflowId, result.runId)}`,
            '',
          ].join('\n'),
        );
      } finally {
        await client.connection.close();
        await connection.close();
      }
    });
}
