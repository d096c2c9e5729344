import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { createLogger } from '../../adapters/logger.js';
import { reportStore } from '../../adapters/report-store.js';
import { projectPath } from '../../adapters/project.js';
import { baseImageRef } from '../../adapters/stack/base-image.js';
import { MissingPrerequisiteError } from '../../adapters/stack/debian.js';
import { stackStatus } from '../../adapters/stack/stack.js';
import { connectClient, connectWorker, workflowUiUrl } from '../../adapters/temporal-connection.js';
import type { PavedConfig } from '../../domain/config.js';
import { createWorker, installRuntime } from '../../worker.js';
import { stackSmoke } from '../../workflows/smoke.js';
import { resolveIdentity } from '../identity.js';
import { startRelease } from '../release-start.js';
import { waitForRelease } from '../release-wait.js';
import { renderTable } from '../table.js';
import { predictionRows, tryRelease } from '../try-release.js';
import { releaseTrail } from '../release-trail.js';
import { gatewayUrl } from '../../adapters/router/paved-gateway/client.js';
import { startTraffic } from '../traffic.js';

/** The package's entity-key sample when it has one, else its sample by value. */
function sampleRequest(dir: string): string {
  const byKey = path.join(path.resolve(dir), 'sample-request-entities.json');
  return existsSync(byKey) ? byKey : path.join(path.resolve(dir), 'sample-request.json');
}

async function requireStack(config: PavedConfig): Promise<void> {
  const down = (await stackStatus(config)).filter((p) => !p.healthy);
  if (down.length > 0) {
    throw new MissingPrerequisiteError(
      `the stack is not ready (${down.map((p) => `${p.part}: ${p.detail}`).join('; ')})`,
      'run `npx paved stack up` (or `npm run demo`, which does it)',
    );
  }
}

/** Runs job with a worker in this process, so the demo needs no separate worker terminal. */
async function withInProcessWorker<T>(
  config: PavedConfig,
  job: (client: Awaited<ReturnType<typeof connectClient>>) => Promise<T>,
): Promise<T> {
  installRuntime(createLogger('paved-demo', process.env.PAVED_LOG_LEVEL ?? 'warn'));
  const connection = await connectWorker(config);
  const client = await connectClient(config);
  try {
    const worker = await createWorker(config, connection);
    return await worker.runUntil(job(client));
  } finally {
    await client.connection.close();
    await connection.close();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('release an example model on the local stack with an in-process worker')
    .argument('[dir]', 'model package to release', projectPath('examples', 'arrests'))
    .action(async (dir: string) => {
      const config = loadConfig();
      await requireStack(config);
      const requestedBy = resolveIdentity() ?? 'demo@paved.local';
      const result = await withInProcessWorker(config, async (client) => {
        const started = await startRelease(client, config, path.resolve(dir), { requestedBy });
        process.stdout.write(
          `paved: releasing ${started.model}/${started.version} (${started.workflowId})\n`,
        );
        // Live traffic through the gateway for the whole release: the rollout judges the canary on it.
        const traffic = startTraffic(
          gatewayUrl(config),
          started.model,
          readFileSync(sampleRequest(dir), 'utf8'),
        );
        let outcome;
        try {
          outcome = await waitForRelease(started.handle, { json: false });
        } finally {
          const sent = await traffic.stop();
          process.stdout.write(
            `traffic through the gateway: ${sent.requests} requests, ${sent.failed} failed (status ${JSON.stringify(sent.statuses)}); answered by ${
              Object.entries(sent.byVersion)
                .map(([v, n]) => `${v} ${n}`)
                .join(', ') || 'none'
            }\n`,
          );
        }
        return { outcome, started };
      });
      const { outcome, started } = result;
      const report = path.join(reportStore(config).dir(started.model, started.version), 'report.html');
      process.stdout.write(
        [
          `${outcome.status} ${started.model}/${started.version}: ${outcome.reason}`,
          `  audit        npx paved audit ${started.model}/${started.version}`,
          ...(existsSync(report) ? [`  report       ${report}`] : []),
          `  Temporal UI  ${workflowUiUrl(config, started.workflowId)}`,
          '',
        ].join('\n'),
      );
      process.exitCode = outcome.exitCode;
      const sample = path.join(path.resolve(dir), 'sample-request-entities.json');
      if (outcome.exitCode === 0 && existsSync(sample)) {
        // The released image, started with the binding its bind stage recorded, asked by entity key.
        const doc = JSON.parse(readFileSync(sample, 'utf8')) as {
          inputs: Array<{ data: Array<number | string> }>;
        };
        const entities = doc.inputs[0]!.data;
        // From the workflow, or from the exported audit when an older release can no longer replay.
        const tried = await tryRelease(config, started, await releaseTrail(config, started), entities);
        if (tried.status !== 200) {
          process.stdout.write(
            `the released model answered HTTP ${tried.status}: ${JSON.stringify(tried.response)}\n`,
          );
          process.exitCode = 1;
          return;
        }
        const { headers, rows } = predictionRows(tried, entities);
        process.stdout.write(
          `served by ${tried.binding.entityKey} from feature service ${tried.binding.service} (${tried.binding.server}):\n` +
            `${renderTable(headers, rows)}\n`,
        );
      }
    });

  program
    .command('smoke')
    .description('prove the stack: a workflow pushes the base image through Docker to the registry')
    .action(async () => {
      const config = loadConfig();
      await requireStack(config);
      const workflowId = `stack-smoke/${new Date().toISOString()}`;
      const { runId, value } = await withInProcessWorker(config, async (client) => {
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
          `  docker engine   ${value.engineVersion}`,
          `  pushed          ${value.pushedRef}`,
          `  digest          ${value.pushedDigest}`,
          `  registry holds  ${value.registryDigest}`,
          `  Temporal UI     ${workflowUiUrl(config, workflowId, runId)}`,
          '',
        ].join('\n'),
      );
    });
}
