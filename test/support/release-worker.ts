import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ReleaseActivities } from '../../src/activities/index.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { connectClient, connectWorker } from '../../src/adapters/temporal-connection.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';

/** A client, a worker connection and one workflow bundle for a test file, on the stack's dev server. */
export class ReleaseHarness {
  private constructor(
    readonly client: Client,
    readonly connection: NativeConnection,
    readonly bundle: WorkflowBundleWithSourceMap,
  ) {}

  static async create(): Promise<ReleaseHarness> {
    const config = loadConfig();
    const [client, connection, bundle] = await Promise.all([
      connectClient(config),
      connectWorker(config),
      bundleWorkflowCode({
        workflowsPath: WORKFLOWS_PATH,
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
      }),
    ]);
    return new ReleaseHarness(client, connection, bundle);
  }

  /** Runs fn while a worker with these (mock) activities polls a fresh task queue. */
  async run<T>(activities: Partial<ReleaseActivities>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `test-release-${randomUUID()}`;
    const worker = await Worker.create({
      connection: this.connection,
      taskQueue,
      workflowBundle: this.bundle,
      activities,
    });
    try {
      return await worker.runUntil(fn(taskQueue));
    } finally {
      await this.terminateLeftovers(taskQueue);
    }
  }

  /**
   * A failed test can leave its release running, e.g. waiting for a review mid-rollout
   * (PavedStage "rollout"): on the shared dev server it would hold its model's
   * rollout lane, and every later release of that model would wait behind it.
   */
  private async terminateLeftovers(taskQueue: string): Promise<void> {
    for await (const wf of this.client.workflow.list({
      query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`,
    })) {
      await this.client.workflow
        .getHandle(wf.workflowId, wf.runId)
        .terminate('left running by a test')
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.client.connection.close();
    await this.connection.close();
  }
}
