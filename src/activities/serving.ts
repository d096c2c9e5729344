import type { Client } from '@temporalio/client';
import { workflowRunning } from '../adapters/workflow-status.js';
import type { TrafficRouter } from '../adapters/router/traffic-router.js';
import type { ModelRuntime } from '../adapters/runtime/model-runtime.js';
import type { Policy } from '../domain/policy.js';
import type { Endpoint, ModelRoute } from '../domain/route.js';
import type { ServedVersion, ServedVersionSpec } from '../domain/serving.js';
import {
  servingRequestSignal,
  servingWorkflowId,
  type ServingRequest,
} from '../workflows/serving-definitions.js';
import { readPolicy } from './policy.js';

export interface ServingActivities {
  /**
   * Sends a release's request to its model's serving workflow, starting that
   * workflow on first need (signal-with-start: one call, no race between two releases).
   */
  requestServing(input: { model: string; taskQueue: string; request: ServingRequest }): Promise<void>;
  /** What already serves a model when its serving workflow first starts. */
  adoptServing(input: { model: string }): Promise<{ route: ModelRoute | null; versions: ServedVersion[] }>;
  /**
   * Brings the running replicas to the wanted ones: a missing replica is started
   * again, one this workflow keeps of no wanted version (or beyond its count) is removed. Endpoints per
   * version, as they answer now.
   */
  reconcileServing(input: {
    model: string;
    versions: ServedVersionSpec[];
    /** The serving workflow reconciling: it removes only replicas it keeps. */
    keeper: string;
  }): Promise<{ endpoints: Record<string, Endpoint[]>; replaced: string[]; removed: string[] }>;
  /** Whether a release still runs (one that was terminated cannot give its lane back). */
  releaseRunning(input: { workflowId: string }): Promise<boolean>;
}

export function createServingActivities(deps: {
  client: () => Promise<Client>;
  runtime: ModelRuntime;
  router: TrafficRouter;
  policy: () => Policy;
}): ServingActivities {
  return {
    async requestServing({ model, taskQueue, request }) {
      const client = await deps.client();
      await client.workflow.signalWithStart('serving', {
        workflowId: servingWorkflowId(model, taskQueue),
        taskQueue,
        args: [{ model }],
        signal: servingRequestSignal,
        signalArgs: [request],
      });
    },

    async adoptServing({ model }) {
      const route = await deps.router.route(model);
      const versions: ServedVersion[] = [];
      const running = await deps.runtime.list(model, 'serving');
      for (const backend of [route?.stable, route?.canary]) {
        if (!backend || versions.some((v) => v.version === backend.version)) continue;
        const mine = running.filter((r) => r.version === backend.version);
        const first = await deps.runtime.find(model, backend.version, 'serving', mine[0]?.index ?? 0);
        if (!first) continue; // routed but not running: nothing to keep alive
        versions.push({
          version: backend.version,
          image: first.image,
          binding: first.binding,
          allowPickle: first.allowPickle,
          replicas: Math.max(mine.length, 1),
          endpoints: backend.endpoints,
        });
      }
      return { route, versions };
    },

    async reconcileServing({ model, versions, keeper }) {
      const limits = readPolicy(deps.policy).model_limits;
      const endpoints: Record<string, Endpoint[]> = {};
      const replaced: string[] = [];
      for (const v of versions) {
        endpoints[v.version] = [];
        for (let index = 0; index < v.replicas; index++) {
          let replica = await deps.runtime.find(model, v.version, 'serving', index);
          if (!replica || replica.image !== v.image) {
            const started = await deps.runtime.start(
              { model, role: 'serving', limits, index, keeper, ...v },
              90_000,
            );
            replaced.push(started.id);
            replica = { ...started, binding: v.binding, allowPickle: v.allowPickle };
          }
          endpoints[v.version]!.push(replica.endpoint);
        }
      }
      const removed: string[] = [];
      for (const r of await deps.runtime.list(model, 'serving')) {
        // Another installation's replicas of a model of the same name, and replicas
        // from before serving workflows, are not this one's to remove.
        if (r.keeper !== keeper) continue;
        const wanted = versions.find((v) => v.version === r.version);
        if (wanted && r.index < wanted.replicas) continue;
        await deps.runtime.stop(r.id);
        removed.push(r.id);
      }
      return { endpoints, replaced, removed };
    },

    async releaseRunning({ workflowId }) {
      return workflowRunning(await deps.client(), workflowId);
    },
  };
}
