import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { TrafficRouter } from '../adapters/router/traffic-router.js';
import type { ModelRuntime } from '../adapters/runtime/model-runtime.js';
import { readFileFromPackage, type PackageStore } from '../adapters/package-store.js';
import type { ReportStore } from '../adapters/report-store.js';
import { watchContainers } from '../adapters/shadow/container-stats.js';
import { replayInProcess } from '../adapters/shadow/replay-process.js';
import { takeMeasurementSlot } from '../adapters/shadow/measurement-slots.js';
import type { TargetResult } from '../adapters/shadow/replayer.js';
import { durationMs } from '../domain/duration.js';
import type { FeatureBinding } from '../domain/feature-binding.js';
import type { Manifest } from '../domain/manifest.js';
import type { Policy } from '../domain/policy.js';
import { gateStageVerdict } from '../domain/gate-verdict.js';
import type { PackageRef, StageOutcome } from '../domain/release.js';
import { judgeShadow, mergeBudgets, type ShadowJudgement } from '../domain/shadow-gate.js';
import {
  accuracy,
  agreement,
  type Answer,
  costPerMillion,
  type ResourceUsage,
  type VersionMeasure,
} from '../domain/shadow.js';
import {
  parseTraffic,
  peakRate,
  replayRate,
  TrafficFormatError,
  type TrafficLine,
} from '../domain/traffic.js';
import type { ShadowSection } from '../report/release-report.js';
import { withHeartbeat } from './heartbeat.js';
import { shadowKeeper, sweepStrayShadows } from './shadow-sweep.js';
import { rowAttributes } from '../domain/sensitive-attributes.js';
import { readPolicy } from './policy.js';
import { sizeReplicas, type Sizing } from '../domain/sizing.js';

export interface ShadowInput {
  model: string;
  version: string;
  image: string;
  binding: FeatureBinding | null;
  allowPickle: boolean;
  package: PackageRef;
  manifest: Pick<Manifest, 'budgets' | 'shadow' | 'serving'>;
  /** fairness.sensitive: predictions carry these when the requests do. */
  sensitive?: string[];
}

export interface ShadowOutput {
  /** report.html, and the predictions the bias stage reads; null when nothing was replayed. */
  report: string | null;
  predictions: string | null;
  stableVersion: string | null;
  p99Ms: number | null;
  judgement: ShadowJudgement | null;
  /** How many replicas the version serves with, and why; null when nothing was measured. */
  sizing?: Sizing | null;
}

export interface ShadowActivities {
  shadowEvaluate(input: ShadowInput): Promise<StageOutcome<ShadowOutput>>;
}

export interface ShadowDeps {
  /** For the replicas' CPU and memory figures. */
  docker: Docker;
  runtime: ModelRuntime;
  router: TrafficRouter;
  packages: PackageStore;
  reports: ReportStore;
  policy: () => Policy;
  /** Whether a release workflow runs: a shadow container of one that does not is a stray. */
  releaseRunning: (workflowId: string) => Promise<boolean>;
}

interface Traffic {
  source: string;
  file: string;
  lines: TrafficLine[];
  live: boolean;
  times: number[];
  sampledShare: number;
}

/** Live traffic when enough was captured, else the package's own sample. */
async function pickTraffic(
  deps: ShadowDeps,
  input: ShadowInput,
  minCaptured: number,
): Promise<Traffic | string> {
  const captured: TrafficLine[] = [];
  let share = 1;
  let peakFile: number[] = [];
  const files = await deps.router.capturedTraffic(input.model);
  for (const [i, text] of files.entries()) {
    try {
      const sample = parseTraffic(text, `capture ${i + 1} of ${input.model}`);
      captured.push(...sample.lines);
      share = sample.header?.rate ?? share;
      // Each file has its own clock; the peak is read within one file.
      if (sample.lines.length > peakFile.length) peakFile = sample.lines.map((l) => l.t);
    } catch (err) {
      if (!(err instanceof TrafficFormatError)) throw err;
    }
  }
  if (captured.length >= minCaptured) {
    return {
      source: 'live capture',
      file: `the gateway's capture of ${input.model}`,
      lines: captured,
      live: true,
      times: peakFile,
      sampledShare: share,
    };
  }
  const sampleName = input.manifest.shadow?.sample;
  if (!sampleName) {
    return (
      `No traffic to replay: the gateway has recorded ${captured.length} requests for ${input.model} ` +
      `(the policy needs ${minCaptured}) and paved.yaml names no sample. ` +
      'Add shadow: {sample: traffic-sample.jsonl} with held-out requests (docs/traffic-format.md).'
    );
  }
  const tarball = await deps.packages.fetch(input.package);
  const bytes = await readFileFromPackage(tarball, sampleName, 64 * 1024 * 1024);
  if (!bytes)
    return `shadow.sample: ${sampleName} is not a file in the package; add it or fix the path in paved.yaml`;
  try {
    const sample = parseTraffic(bytes.toString('utf8'), sampleName);
    return {
      source: 'package sample',
      file: sampleName,
      lines: sample.lines,
      live: false,
      times: [],
      sampledShare: 1,
    };
  } catch (err) {
    if (err instanceof TrafficFormatError) return `shadow.sample: ${err.message}`;
    throw err;
  }
}

/** The stable version's replica, to start a twin of it for the measurement. */
async function stableTwin(deps: ShadowDeps, model: string) {
  const route = await deps.router.route(model);
  const version = route?.stable?.version;
  if (!version) return null;
  // Routed but not running here: nothing to compare with.
  return deps.runtime.find(model, version, 'serving');
}

/** The entity of each row of a request: the entity-key input's values, else the line's key for one row. */
function entitiesOf(line: TrafficLine, binding: FeatureBinding | null, rows: number): Array<string | null> {
  const input = binding ? line.request.inputs.find((i) => i.name === binding.entityKey) : undefined;
  return Array.from({ length: rows }, (_, r) => {
    const v = input?.data[r];
    return typeof v === 'number' || typeof v === 'string' ? String(v) : rows === 1 ? line.key : null;
  });
}

/**
 * One line per predicted row: entity, held-out label (a line's label is for a
 * one-row request), and each version's label; null where a version failed.
 */
function predictionLines(
  lines: readonly TrafficLine[],
  candidate: ReadonlyArray<Answer | null>,
  stable: ReadonlyArray<Answer | null> | undefined,
  binding: FeatureBinding | null,
  sensitive: readonly string[],
): string[] {
  const out: string[] = [];
  candidate.forEach((a, i) => {
    const line = lines[i % lines.length]!;
    const st = stable?.[i];
    const rows = a?.labels.length ?? st?.labels.length ?? 1;
    const attributes = rowAttributes(line, sensitive, rows);
    entitiesOf(line, binding, rows).forEach((entity, r) =>
      out.push(
        JSON.stringify({
          entity,
          label: rows === 1 ? (line.label ?? null) : null,
          candidate: a?.labels[r] ?? null,
          stable: st?.labels.length === rows ? st.labels[r] : null,
          ...(sensitive.length > 0 ? { attributes: attributes[r] } : {}),
        }),
      ),
    );
  });
  return out;
}

function measure(
  t: TargetResult,
  role: VersionMeasure['role'],
  version: string,
  usage: ResourceUsage | null,
  labels: Array<0 | 1 | undefined>,
  policy: Policy,
): VersionMeasure {
  return {
    version,
    role,
    sent: t.sent,
    errors: t.errors,
    errorRate: t.sent > 0 ? t.errors / t.sent : 0,
    statuses: t.statuses,
    latency: t.latency,
    curve: t.curve,
    resources: usage,
    costPerMillionUsd: usage ? costPerMillion(usage, t.sent - t.errors, policy.cost) : null,
    accuracy: accuracy(t.answers, labels),
  };
}

export function createShadowActivities(deps: ShadowDeps): ShadowActivities {
  return {
    /**
     * Starts the candidate and a twin of the current stable, each pinned to the same
     * CPU, replays traffic at both interleaved, and judges latency, errors and cost
     * against the budgets and against stable. Containers are removed whatever happens.
     */
    async shadowEvaluate(input) {
      const policy = readPolicy(deps.policy);
      const p = policy.shadow;
      const traffic = await pickTraffic(deps, input, p.min_captured);
      if (typeof traffic === 'string') {
        return {
          stage: 'shadow',
          verdict: { kind: 'fail', reason: traffic },
          output: { report: null, predictions: null, stableVersion: null, p99Ms: null, judgement: null },
          summary: traffic,
        };
      }
      const { rate, why } = replayRate({ ...traffic, peakWindowMs: 10_000 }, p);
      // One measurement per slot of this host's queue: a neighbour's replay on the same
      // cores would be measured as this model's latency.
      const slot = await withHeartbeat('waiting for a measurement slot', takeMeasurementSlot());
      const cpus = slot.cpus;
      const { taskQueue } = Context.current().info;
      const started: string[] = [];
      const start = async (
        version: string,
        image: string,
        binding: FeatureBinding | null,
        allowPickle: boolean,
        cpuset: string | null,
      ) => {
        const replica = await deps.runtime.start(
          {
            model: input.model,
            version,
            role: 'shadow',
            image,
            binding,
            allowPickle,
            limits: { ...policy.model_limits, ...(cpuset ? { cpuset } : {}) },
            measuredFor: input.version,
            keeper: shadowKeeper(input.model, input.version, taskQueue),
          },
          90_000,
        );
        started.push(replica.id);
        return { name: replica.id, url: replica.endpoint };
      };
      // Everything after the slot is taken gives it back, even a Docker that does not
      // answer the sweep: a slot held by a failed attempt starves every retry on this host.
      try {
        await sweepStrayShadows({ ...deps, model: input.model, taskQueue });
        const twin = await stableTwin(deps, input.model);
        const candidate = await withHeartbeat(
          'starting the candidate',
          start(input.version, input.image, input.binding, input.allowPickle, cpus.candidate),
        );
        // A stable that cannot run here (an image from before sealed replicas, say) is not
        // the candidate's fault: it is then measured against the budgets alone, and told so.
        let twinTrouble: string | null = null;
        const stable = twin
          ? await withHeartbeat(
              `starting stable ${twin.version}`,
              start(twin.version, twin.image, twin.binding, twin.allowPickle, cpus.stable).catch(
                (err: Error) => {
                  twinTrouble = `stable ${twin.version} could not run beside it (${err.message.split('\n')[0]}), so it was judged on the budgets alone`;
                  return null;
                },
              ),
            )
          : null;
        const watch = await watchContainers(deps.docker, started);
        const durationMsValue = durationMs(p.duration);
        const warmupMs = durationMs(p.warmup);
        const result = await withHeartbeat(
          'replaying traffic',
          replayInProcess(
            {
              model: input.model,
              targets: [
                { name: 'candidate', url: candidate.url },
                ...(stable ? [{ name: 'stable', url: stable.url }] : []),
              ],
              bodies: traffic.lines.map((l) => l.request),
              rate,
              durationMs: durationMsValue,
              warmupMs,
              timeoutMs: durationMs(p.timeout),
            },
            { cpus: cpus.generator, signal: Context.current().cancellationSignal },
          ),
        );
        // The warm-up is in the stats too; its share of CPU is small next to the window's.
        const usage = await watch.stop();
        // A Docker that went away took the containers with it: their errors are not the
        // model's, so this attempt measures nothing and the next one starts over.
        await deps.docker.ping().catch((err: Error) => {
          throw new Error(
            `Docker stopped answering during the measurement (${err.message}); measuring again`,
          );
        });
        const labels = result.targets[0]!.answers.map(
          (_, i) => traffic.lines[i % traffic.lines.length]!.label,
        );
        const c = measure(
          result.targets[0]!,
          'candidate',
          input.version,
          usage[candidate.name] ?? null,
          labels,
          policy,
        );
        const s =
          stable && twin
            ? measure(result.targets[1]!, 'stable', twin.version, usage[stable.name] ?? null, labels, policy)
            : null;
        const budgets = mergeBudgets(input.manifest.budgets, policy.budgets);
        const judgement = judgeShadow({ candidate: c, stable: s, budgets, limits: p });
        const answered = c.sent - c.errors;
        const sizing = sizeReplicas({
          cpuSecondsPerRequest: c.resources && answered > 0 ? c.resources.cpuSeconds / answered : null,
          cpusPerReplica: policy.model_limits.cpus,
          measuredRate: result.achievedRate,
          withinBudgetAtMeasuredRate:
            c.latency.p99 <= (budgets.p99_ms ?? Infinity) && c.errorRate <= (budgets.error_rate ?? 1),
          p99BudgetMs: budgets.p99_ms ?? null,
          livePeakRps: traffic.live ? peakRate(traffic.times, 10_000) / traffic.sampledShare : null,
          requested: input.manifest.serving?.replicas ?? null,
          policy: policy.serving,
        });
        const section: ShadowSection = {
          traffic: {
            source: traffic.source,
            file: traffic.file,
            requests: traffic.lines.length,
            labelled: traffic.lines.filter((l) => l.label !== undefined).length,
            rate,
            rateWhy: why,
            durationMs: durationMsValue,
            warmupMs,
          },
          queue: { slot: slot.slot, waitedMs: slot.waitedMs },
          pinning: {
            candidate: cpus.candidate,
            stable: stable ? cpus.stable : null,
            generator: result.pinned,
          },
          achievedRate: result.achievedRate,
          sendLagP99Ms: result.sendLagP99Ms,
          candidate: c,
          stable: s,
          agreement: s ? agreement(result.targets[0]!.answers, result.targets[1]!.answers) : null,
          budgets,
          judgement,
          sizing,
        };
        const saved = deps.reports.save({
          model: input.model,
          version: input.version,
          generatedAt: new Date().toISOString(),
          shadow: section,
          sections: [],
        });
        // What each version predicted for each replayed entity: the bias stage's input,
        // through the store (the bias stage may run on another worker).
        const predictions = deps.reports.savePredictions(
          input.model,
          input.version,
          predictionLines(
            traffic.lines,
            result.targets[0]!.answers,
            result.targets[1]?.answers,
            input.binding,
            input.sensitive ?? [],
          ),
        );
        const verdictKind = gateStageVerdict(judgement, {
          reviewOnNearMiss: p.review_on_near_miss,
          code: 'shadow-near-miss',
          field: 'budgets',
          fix: 'a reviewer decides whether the margin is enough',
          failed: 'shadow evaluation failed',
        });
        const figures =
          `p50 ${c.latency.p50.toFixed(1)} ms, p99 ${c.latency.p99.toFixed(1)} ms, errors ${c.errors}/${c.sent}` +
          (c.costPerMillionUsd !== null ? `, $${c.costPerMillionUsd.toFixed(3)}/M` : '') +
          (s ? ` (stable ${s.version}: p99 ${s.latency.p99.toFixed(1)} ms)` : '');
        return {
          stage: 'shadow',
          verdict: verdictKind,
          output: {
            report: saved.html,
            predictions,
            stableVersion: s?.version ?? null,
            p99Ms: c.latency.p99,
            judgement,
            sizing,
          },
          summary:
            judgement.verdict === 'fail'
              ? judgement.headline!
              : `${figures} at ${rate.toFixed(0)}/s from the ${traffic.source}${slot.waitedMs >= 1000 ? ` (waited ${(slot.waitedMs / 1000).toFixed(0)} s for a measurement slot)` : ''}; ${sizing.line}${twinTrouble ? `; ${twinTrouble}` : ''}${judgement.verdict === 'warn' ? `; warning: ${judgement.headline}` : ''}; report ${saved.html}`,
        };
      } finally {
        await Promise.all(started.map((id) => deps.runtime.stop(id).catch(() => undefined)));
        await slot.release().catch(() => undefined);
      }
    },
  };
}
