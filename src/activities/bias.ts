import type { FeatureServerClient } from '../adapters/feature-store/feature-server.js';
import type { ReportStore } from '../adapters/report-store.js';
import { judgeBias, type BiasJudgement } from '../domain/bias-gate.js';
import {
  FairnessInputError,
  measureFairness,
  type FairnessReport,
  type Outcome,
  type PredictionRow,
} from '../domain/fairness.js';
import type { Manifest } from '../domain/manifest.js';
import type { Policy } from '../domain/policy.js';
import { gateStageVerdict } from '../domain/gate-verdict.js';
import type { StageOutcome } from '../domain/release.js';
import { biasSection } from '../report/bias-section.js';
import { attributeSources, describeSources, type RowAttributes } from '../domain/sensitive-attributes.js';
import { readPolicy } from './policy.js';

export interface BiasInput {
  model: string;
  version: string;
  fairness: Manifest['fairness'];
  /** The model's input names: a sensitive attribute among them is read from each request. */
  inputs?: string[];
  /** Where the shadow stage stored its predictions (for people); read by key from the report store. */
  predictions: string;
  stableVersion: string | null;
  /** The entity key the predictions are keyed by (the feature binding's). */
  entityKey: string | null;
}

export interface BiasOutput {
  judgement: BiasJudgement | null;
  /** Selection rate per attribute and group, candidate (and stable), for the audit. */
  selectionRates: Record<string, Record<string, { candidate: number | null; stable: number | null }>>;
}

export interface BiasActivities {
  biasCheck(input: BiasInput): Promise<StageOutcome<BiasOutput>>;
}

export interface BiasDeps {
  server: FeatureServerClient;
  reports: ReportStore;
  policy: () => Policy;
}

interface PredictionLine {
  entity: string | null;
  label: Outcome | null;
  candidate: number | null;
  stable: number | null;
  /** The sensitive attributes the replayed request (or its sample line) carried. */
  attributes?: RowAttributes;
}

function stopped(reason: string): StageOutcome<BiasOutput> {
  return {
    stage: 'bias',
    verdict: { kind: 'fail', reason },
    output: { judgement: null, selectionRates: {} },
    summary: reason,
  };
}

/** Binary decisions only: a multi-class or regression output is not gated here. */
function decision(v: number | null): Outcome | null {
  return v === 0 || v === 1 ? v : null;
}

function rowsFor(
  lines: readonly PredictionLine[],
  side: 'candidate' | 'stable',
  groups: ReadonlyArray<Record<string, string | null>>,
): PredictionRow[] {
  // A label on some rows only is not a labelled sample: use labels when all have one.
  const labelled = lines.every((l) => l.label !== null);
  const rows: PredictionRow[] = [];
  lines.forEach((l, i) => {
    const yPred = decision(l[side]);
    if (yPred === null) return; // that version failed the request: counted by the shadow stage
    rows.push({ yPred, ...(labelled ? { yTrue: l.label } : {}), groups: groups[i]! });
  });
  return rows;
}

function selectionRates(
  candidate: FairnessReport,
  stable: FairnessReport | null,
): BiasOutput['selectionRates'] {
  const out: BiasOutput['selectionRates'] = {};
  for (const a of candidate.attributes) {
    const s = stable?.attributes.find((x) => x.attribute === a.attribute);
    out[a.attribute] = Object.fromEntries(
      a.groups.map((g) => [
        g.group,
        {
          candidate: g.selectionRate,
          stable: s?.groups.find((x) => x.group === g.group)?.selectionRate ?? null,
        },
      ]),
    );
  }
  return out;
}

export function createBiasActivities(deps: BiasDeps): BiasActivities {
  return {
    /**
     * Joins the shadow stage's predictions with the sensitive attributes from the
     * feature store, per entity, and judges per-group selection (and, with labels,
     * error) rates against the policy and against stable. Adds its section to the
     * release report.
     */
    async biasCheck(input) {
      const sensitive = input.fairness.sensitive;
      if (sensitive.length === 0) {
        return {
          stage: 'bias',
          verdict: { kind: 'pass' },
          output: { judgement: null, selectionRates: {} },
          summary: 'no sensitive attributes declared (fairness.sensitive in paved.yaml); nothing to measure',
        };
      }
      const policy = readPolicy(deps.policy);
      const text = deps.reports.loadPredictions(input.model, input.version);
      if (text === null)
        throw new Error(
          `the shadow stage's predictions of ${input.model}/${input.version} are not in the store (${input.predictions}); the stage reruns shadow`,
        );
      const all = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as PredictionLine);
      const { sources, missing } = attributeSources(sensitive, all, {
        inputs: input.inputs ?? [],
        service: input.fairness.service ?? null,
      });
      if (missing.length > 0)
        return stopped(
          `fairness.sensitive: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} in no replayed request: ` +
            'make it a model input, add it to each traffic sample line as "attributes" (docs/traffic-format.md), ' +
            'or name a Feast feature service that holds it in fairness.service',
        );
      const fromFeast = sources.filter((s) => s.kind === 'feature-service').map((s) => s.attribute);
      if (fromFeast.length > 0 && !input.entityKey)
        return stopped(
          `fairness: the bias gate looks up ${fromFeast.join(', ')} by entity in ${input.fairness.service}, but the model reads no feature service; declare features.service in paved.yaml, or send ${fromFeast.join(', ')} with each request`,
        );
      // Rows looked up in Feast need an entity; rows whose requests carry everything do not.
      const lines = fromFeast.length > 0 ? all.filter((l) => l.entity !== null) : all;
      let looked: Record<string, Array<string | number | boolean | null>> = {};
      if (fromFeast.length > 0) {
        const entities = lines.map((l) => (/^\d+$/.test(l.entity!) ? Number(l.entity) : l.entity!));
        const online = await deps.server.onlineFeatures(input.fairness.service!, input.entityKey!, entities);
        // Full refs are view__feature; the manifest names the feature.
        const column = (attr: string) =>
          Object.entries(online.values).find(([ref]) => ref === attr || ref.endsWith(`__${attr}`))?.[1];
        const absent = fromFeast.filter((a) => !column(a));
        if (absent.length > 0) {
          const available = Object.keys(online.values).map((r) => r.split('__').pop());
          return stopped(
            `fairness.sensitive: ${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} not in feature service ` +
              `${input.fairness.service} (it has ${available.join(', ')}); fix the name in paved.yaml`,
          );
        }
        looked = Object.fromEntries(fromFeast.map((a) => [a, column(a)!]));
      }
      const groups = lines.map((l, i) =>
        Object.fromEntries(
          sensitive.map((a) => {
            const v = Object.hasOwn(looked, a) ? looked[a]![i] : l.attributes?.[a];
            return [a, v === null || v === undefined ? null : String(v)];
          }),
        ),
      );
      const t = policy.fairness;
      // The package's min_dp_ratio may only be stricter than the platform's.
      const thresholds = { ...t, min_dp_ratio: Math.max(t.min_dp_ratio, input.fairness.min_dp_ratio ?? 0) };
      let candidate: FairnessReport;
      let stable: FairnessReport | null = null;
      try {
        candidate = measureFairness(rowsFor(lines, 'candidate', groups), sensitive, {
          minGroupSize: t.min_group_size,
        });
        if (input.stableVersion)
          stable = measureFairness(rowsFor(lines, 'stable', groups), sensitive, {
            minGroupSize: t.min_group_size,
          });
      } catch (err) {
        if (err instanceof FairnessInputError) return stopped(err.message);
        throw err;
      }
      const judgement = judgeBias({
        candidate,
        stable: stable && input.stableVersion ? { version: input.stableVersion, metrics: stable } : null,
        thresholds,
      });
      const report = deps.reports.load(input.model, input.version);
      let reportPath: string | null = null;
      if (report) {
        const section = biasSection({
          candidate: { version: input.version, metrics: candidate },
          stable: stable && input.stableVersion ? { version: input.stableVersion, metrics: stable } : null,
          judgement,
          source: describeSources(sources),
        });
        report.sections = [...report.sections.filter((s) => s.title !== section.title), section];
        reportPath = deps.reports.save(report).html;
      }
      const verdict = gateStageVerdict(judgement, {
        reviewOnNearMiss: t.review_on_near_miss,
        code: 'bias-near-miss',
        field: 'fairness',
        fix: 'a reviewer compares the per-group rates in the report',
        failed: 'the bias gate failed',
      });
      const ratios = candidate.attributes
        .map((a) => `${a.attribute} parity ratio ${a.gated.demographicParityRatio?.toFixed(2) ?? '—'}`)
        .join(', ');
      return {
        stage: 'bias',
        verdict,
        output: { judgement, selectionRates: selectionRates(candidate, stable) },
        summary:
          judgement.verdict === 'fail'
            ? judgement.headline!
            : `${ratios} on ${candidate.rows} predictions${judgement.verdict === 'warn' ? `; warning: ${judgement.headline}` : ''}` +
              (reportPath ? `; report ${reportPath}` : ''),
      };
    },
  };
}
