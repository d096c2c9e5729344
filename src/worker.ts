import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Runtime, Worker } from '@temporalio/worker';
import type { PavedConfig } from './domain/config.js';
import { createActivities } from './activities/index.js';
import { connectWorker } from './adapters/temporal-connection.js';
import { temporalLogger } from './adapters/temporal-logger.js';
import type { Logger } from './adapters/logger.js';
import { findPortOwner, isListening, PortTakenError } from './adapters/stack/ports.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** A worker for paved's task queue with every workflow and activity registered. */
export function createWorker(config: PavedConfig, connection: NativeConnection): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities(config),
    // Heartbeats carry cancellation back to activities: send them often enough that
    // an aborted release stops its build within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
  });
}

/**
 * Installs the process-wide Temporal runtime: logs through pino, and Prometheus
 * metrics on 127.0.0.1 when a port is given. Runtime.install may run once per process.
 * On SIGINT/SIGTERM the runtime asks every worker to shut down gracefully: running
 * activities get the shutdown grace time, workflow tasks are handed back.
 */
export function installRuntime(logger: Logger, metricsPort?: number): void {
  Runtime.install({
    logger: temporalLogger(logger),
    shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'],
    telemetryOptions: metricsPort
      ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } }
      : undefined,
  });
}

/** Runs a worker until a shutdown signal arrives. */
export async function runWorker(config: PavedConfig, logger: Logger): Promise<void> {
  const port = config.worker.metricsPort;
  if (await isListening('127.0.0.1', port)) {
    throw new PortTakenError(
      'worker metrics',
      port,
      findPortOwner(port),
      'set PAVED_METRICS_PORT=<free port> for this worker',
    );
  }
  installRuntime(logger, port);
  const connection = await connectWorker(config);
  try {
    const worker = await createWorker(config, connection);
    logger.info(
      {
        taskQueue: config.temporal.taskQueue,
        namespace: config.temporal.namespace,
        metrics: `http://127.0.0.1:${config.worker.metricsPort}/metrics`,
      },
      'worker started',
    );
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
  }
}
