import type { Client } from '@temporalio/client';

/** The task queue a workflow runs on now; null when it does not run or never existed. */
async function runningOn(client: Client, workflowId: string): Promise<string | null> {
  try {
    const described = await client.workflow.getHandle(workflowId).describe();
    return described.status.name === 'RUNNING' ? described.taskQueue : null;
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return null;
    throw err;
  }
}

/** Whether a workflow runs now; one that never existed does not. */
export async function workflowRunning(client: Client, workflowId: string): Promise<boolean> {
  return (await runningOn(client, workflowId)) !== null;
}

/**
 * Which of these workflows run now, with the queue each runs on: asked one by one
 * (describe), since a visibility list may lag a workflow that just started.
 */
export async function runningWorkflows(client: Client, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const queue = await runningOn(client, id);
    if (queue !== null) out.set(id, queue);
  }
  return out;
}

/** Every serving workflow that runs now, on any task queue, with its queue (a visibility query). */
export async function runningServingWorkflows(client: Client): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const w of client.workflow.list({
    query: `WorkflowType = 'serving' AND ExecutionStatus = 'Running'`,
  }))
    out.set(w.workflowId, w.taskQueue);
  return out;
}
