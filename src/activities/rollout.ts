import type { TrafficRouter } from '../adapters/router/traffic-router.js';
import { endpointClient } from '../adapters/runtime/endpoint-client.js';
import type { ModelRuntime } from '../adapters/runtime/model-runtime.js';
import { durationMs } from '../domain/duration.js';
import type { FeatureBinding } from '../domain/feature-binding.js';
import type { Manifest } from '../domain/manifest.js';
import type { Policy } from '../domain/policy.js';
import {
  servingReplicaName,
  type RolloutLimits,
  type RolloutStepRecord,
  type WindowStats,
} from '../domain/rollout.js';
import type { ReportStore } from '../adapters/report-store.js';
import { rolloutSection } from '../report/rollout-section.js';
import type { Backend, Endpoint, ModelRoute } from '../domain/route.js';
import { readPolicy } from './policy.js';

export interface ServingBackend extends Backend {
  /** The version's replicas, by id. */
  replicas: string[];
}

export interface RolloutPlanOutput {
  steps: number[];
  bakeMs: number;
  drainMs: number;
  limits: RolloutLimits;
  /** How often the model's serving workflow reconciles its replicas. */
  reconcileEveryMs: number;
}

export interface RolloutActivities {
  planRollout(input: { rollout: Manifest['rollout'] | null }): Promise<RolloutPlanOutput>;
  startServing(input: {
    model: string;
    version: string;
    image: string;
    binding: FeatureBinding | null;
    allowPickle: boolean;
    replicas: number;
    /** The serving workflow that keeps the replicas alive. */
    keeper?: string;
  }): Promise<ServingBackend>;
  currentRoute(input: { model: string }): Promise<ModelRoute | null>;
  /** Absolute: the whole route, or null to stop serving the model. */
  setRoute(input: { model: string; route: Partial<ModelRoute> | null }): Promise<void>;
  windowStats(input: { model: string; windowMs: number }): Promise<Record<string, WindowStats>>;
  /** Stops every replica of a version. */
  stopServing(input: { model: string; version: string }): Promise<void>;
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
 * requests by value (zeros, built from the model's own metadata) go first. Each has a
 * timeout: a model that hangs on them is judged on live traffic instead.
 */
async function warmUp(endpoint: Endpoint, model: string, rounds = 20): Promise<void> {
  const client = endpointClient(endpoint, 5000);
  try {
    const meta = await client.request({ path: `/v2/models/${model}`, method: 'GET' });
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
      const res = await client.request({
        path: `/v2/models/${model}/infer`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.dump();
    }
  } catch {
    // Warm-up is best effort: a model that cannot answer zeros is judged on live traffic.
  } finally {
    await client.close().catch(() => undefined);
  }
}

export function createRolloutActivities(deps: {
  runtime: ModelRuntime;
  router: TrafficRouter;
  policy: () => Policy;
  reports: ReportStore;
}): RolloutActivities {
  return {
    async planRollout({ rollout }) {
      const policy = readPolicy(deps.policy);
      const chosen = rollout ?? policy.rollout;
      const a = policy.rollout_analysis;
      // The plan is an activity result the release workflow records and replays: its
      // shape is the one releases in flight have on record, durations in milliseconds.
      return {
        steps: chosen.steps,
        bakeMs: durationMs(chosen.bake),
        drainMs: durationMs(a.drain),
        limits: {
          minRequests: a.min_requests,
          maxErrorRateIncrease: a.max_error_rate_increase,
          maxErrorRate: a.max_error_rate,
          maxP99Ratio: a.max_p99_ratio,
          p99SlackMs: a.p99_slack_ms,
          inconclusiveMs: durationMs(a.inconclusive_deadline),
        },
        reconcileEveryMs: durationMs(policy.serving.reconcile_every),
      };
    },

    /**
     * Starts the version's replicas (sealed: each endpoint is a socket), spread across
     * the runtime's hosts. A running replica of the same image is found again, so a
     * retry never starts a second one.
     */
    async startServing({ model, version, image, binding, allowPickle, replicas, keeper }) {
      const limits = readPolicy(deps.policy).model_limits;
      const started = await Promise.all(
        Array.from({ length: Math.max(1, replicas) }, (_, index) =>
          deps.runtime.start(
            { model, version, role: 'serving', image, binding, allowPickle, limits, index, keeper },
            90_000,
          ),
        ),
      );
      await Promise.all(started.map((r) => warmUp(r.endpoint, model)));
      return { version, endpoints: started.map((r) => r.endpoint), replicas: started.map((r) => r.id) };
    },

    currentRoute: ({ model }) => deps.router.route(model),

    async setRoute({ model, route }) {
      if (route === null) await deps.router.removeRoute(model);
      else await deps.router.setRoute(model, route);
    },

    windowStats: ({ model, windowMs }) => deps.router.stats(model, windowMs),

    async stopServing({ model, version }) {
      const mine = (await deps.runtime.list(model, 'serving')).filter((r) => r.version === version);
      // Replica 0 by name too: a stopped container still holds its feature door and socket directory.
      const ids = new Set([...mine.map((r) => r.id), servingReplicaName(model, version, 0)]);
      for (const id of ids) await deps.runtime.stop(id);
    },

    async reportRollout({ model, version, stable, windows, ending }) {
      const report = deps.reports.load(model, version);
      if (!report) return null;
      const section = rolloutSection({ version, stable, windows, ending });
      report.sections = [...report.sections.filter((s) => s.title !== section.title), section];
      return deps.reports.save(report).html;
    },
  };
}
