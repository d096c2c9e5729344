import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';
import { request } from 'undici';
import type { TrafficRouter } from '../adapters/router/traffic-router.js';
import { ephemeralPort } from '../adapters/stack/ports.js';
import { startModelContainer, stopModelContainer, waitReady } from '../adapters/model-runtime.js';
import { durationMs } from '../domain/duration.js';
import type { FeatureBinding } from '../domain/feature-binding.js';
import type { Manifest } from '../domain/manifest.js';
import type { Policy } from '../domain/policy.js';
import {
  servingContainerName,
  type RolloutLimits,
  type RolloutStepRecord,
  type WindowStats,
} from '../domain/rollout.js';
import type { ReportStore } from '../adapters/report-store.js';
import { rolloutSection } from '../report/rollout-section.js';
import type { Backend, ModelRoute } from '../domain/route.js';

export interface ServingBackend extends Backend {
  container: string;
}

export interface RolloutPlanOutput {
  steps: number[];
  bakeMs: number;
  drainMs: number;
  limits: RolloutLimits;
}

export interface RolloutActivities {
  planRollout(input: { rollout: Manifest['rollout'] | null }): Promise<RolloutPlanOutput>;
  startServing(input: {
    model: string;
    version: string;
    image: string;
    binding: FeatureBinding | null;
    allowPickle: boolean;
  }): Promise<ServingBackend>;
  currentRoute(input: { model: string }): Promise<ModelRoute | null>;
  /** Absolute: the whole route, or null to stop serving the model. */
  setRoute(input: { model: string; route: Partial<ModelRoute> | null }): Promise<void>;
  windowStats(input: { model: string; windowMs: number }): Promise<Record<string, WindowStats>>;
  stopServing(input: { container: string }): Promise<void>;
  /** Adds (or replaces) the Rollout section of the release's report, when shadow wrote one. */
  reportRollout(input: {
    model: string;
    version: string;
    stable: string | null;
    windows: RolloutStepRecord[];
    ending: string;
  }): Promise<string | null>;
}

/**
 * A fresh model process answers its first requests slowly (lazy imports, first
 * predict). Those must not land on live traffic or in the canary's p99, so a few
 * requests by value (zeros, built from the model's own metadata) go first.
 */
async function warmUp(url: string, model: string, rounds = 20): Promise<void> {
  try {
    const meta = await request(`${url}/v2/models/${model}`);
    const { inputs } = (await meta.body.json()) as { inputs: Array<{ name: string; datatype: string }> };
    const zero = (datatype: string) => (datatype === 'BYTES' ? '' : datatype === 'BOOL' ? false : 0);
    const body = JSON.stringify({
      inputs: inputs.map((i) => ({
        name: i.name,
        shape: [1],
        datatype: i.datatype,
        data: [zero(i.datatype)],
      })),
    });
    for (let k = 0; k < rounds; k++) {
      const res = await request(`${url}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.dump();
    }
  } catch {
    // Warm-up is best effort: a model that cannot answer zeros is judged on live traffic.
  }
}

export function createRolloutActivities(deps: {
  docker: Docker;
  router: TrafficRouter;
  policy: () => Policy;
  reports: ReportStore;
}): RolloutActivities {
  return {
    async planRollout({ rollout }) {
      let policy: Policy;
      try {
        policy = deps.policy();
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'PolicyInvalid');
      }
      const chosen = rollout ?? policy.rollout;
      const { drain, inconclusiveDeadline, ...rest } = policy.rolloutAnalysis;
      return {
        steps: chosen.steps,
        bakeMs: durationMs(chosen.bake),
        drainMs: durationMs(drain),
        limits: { ...rest, inconclusiveMs: durationMs(inconclusiveDeadline) },
      };
    },

    /**
     * Starts the release's image as `paved-<model>.<version>` with the recorded feature
     * binding. A container of that name already running this image is reused with the
     * port on its label, so a retry never starts a second one.
     */
    async startServing({ model, version, image, binding, allowPickle }) {
      const name = servingContainerName(model, version);
      let port: number | undefined;
      try {
        const info = await deps.docker.getContainer(name).inspect();
        if (info.State.Running && info.Config.Image === image)
          port = Number(info.Config.Labels['paved.port']);
      } catch {
        /* not there yet */
      }
      port ??= await ephemeralPort();
      await startModelContainer(deps.docker, {
        name,
        image,
        port,
        memoryMB: 1024,
        cpus: 1,
        allowPickle,
        env: {
          PAVED_MODEL_NAME: model,
          PAVED_MODEL_VERSION: version,
          ...(binding ? { PAVED_FEATURE_BINDING: JSON.stringify(binding) } : {}),
        },
        labels: {
          'paved.release': `${model}/${version}`,
          'paved.role': 'serving',
          'paved.port': String(port),
        },
      });
      await waitReady(deps.docker, name, port, 90_000);
      await warmUp(`http://127.0.0.1:${port}`, model);
      return { version, endpoints: [`http://127.0.0.1:${port}`], container: name };
    },

    currentRoute: ({ model }) => deps.router.route(model),

    async setRoute({ model, route }) {
      if (route === null) await deps.router.removeRoute(model);
      else await deps.router.setRoute(model, route);
    },

    windowStats: ({ model, windowMs }) => deps.router.stats(model, windowMs),

    stopServing: ({ container }) => stopModelContainer(deps.docker, container),

    async reportRollout({ model, version, stable, windows, ending }) {
      const report = deps.reports.load(model, version);
      if (!report) return null;
      const section = rolloutSection({ version, stable, windows, ending });
      report.sections = [...report.sections.filter((s) => s.title !== section.title), section];
      return deps.reports.save(report).html;
    },
  };
}
