import type { ModelRuntime } from '../adapters/runtime/model-runtime.js';
import { parseKeeper } from '../domain/janitor.js';
import { workflowIdFor } from '../domain/release.js';

/**
 * Who a shadow container belongs to: its release's workflow id on the worker's task
 * queue. The queue keeps another installation's shadows (same Docker, same model
 * name, its own Temporal) out of this one's sweep.
 */
export function shadowKeeper(model: string, version: string, taskQueue: string): string {
  return `${workflowIdFor(model, version)}@${taskQueue}`;
}

/**
 * Removes the model's shadow containers whose release no longer runs (a worker killed
 * mid-measurement, a release terminated or abandoned): nothing else would ever stop
 * them. Containers of running releases, of other queues, and without a keeper (from
 * before keepers) are left alone. Answers what it removed.
 */
export async function sweepStrayShadows(deps: {
  runtime: Pick<ModelRuntime, 'list' | 'stop'>;
  releaseRunning: (workflowId: string) => Promise<boolean>;
  model: string;
  taskQueue: string;
}): Promise<string[]> {
  const removed: string[] = [];
  const verdicts = new Map<string, Promise<boolean>>();
  for (const r of await deps.runtime.list(deps.model, 'shadow')) {
    const keeper = parseKeeper(r.keeper);
    if (!keeper || keeper.taskQueue !== deps.taskQueue) continue;
    const { workflowId } = keeper;
    if (!verdicts.has(workflowId)) verdicts.set(workflowId, deps.releaseRunning(workflowId));
    if (await verdicts.get(workflowId)!) continue;
    await deps.runtime.stop(r.id);
    removed.push(r.id);
  }
  return removed;
}
