import { existsSync, readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
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

export interface BiasInput {
  model: string;
  version: string;
  fairness: Manifest['fairness'];
  /** predictions.jsonl from the shadow stage. */
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
      let policy: Policy;
      try {
        policy = deps.policy();
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'PolicyInvalid');
      }
      if (!input.entityKey)
        return stopped(
          `fairness: the bias gate looks up ${sensitive.join(', ')} by entity, but the model reads no feature service; declare features.service in paved.yaml`,
        );
      if (!existsSync(input.predictions))
        throw new Error(
          `the shadow stage's predictions are missing (${input.predictions}); the stage reruns shadow`,
        );
      const lines = readFileSync(input.predictions, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as PredictionLine)
        .filter((l) => l.entity !== null);
      const entities = lines.map((l) => (/^\d+$/.test(l.entity!) ? Number(l.entity) : l.entity!));
      const online = await deps.server.onlineFeatures(input.fairness.service!, input.entityKey, entities);
      // Full refs are view__feature; the manifest names the feature.
      const column = (attr: string) =>
        Object.entries(online.values).find(([ref]) => ref === attr || ref.endsWith(`__${attr}`))?.[1];
      const missing = sensitive.filter((a) => !column(a));
      if (missing.length > 0) {
        const available = Object.keys(online.values).map((r) => r.split('__').pop());
        return stopped(
          `fairness.sensitive: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in feature service ` +
            `${input.fairness.service} (it has ${available.join(', ')}); fix the name in paved.yaml`,
        );
      }
      const groups = lines.map((_, i) =>
        Object.fromEntries(sensitive.map((a) => [a, column(a)![i] === null ? null : String(column(a)![i])])),
      );
      const t = policy.fairness;
      const thresholds = {
        minDpRatio: Math.max(t.minDpRatio, input.fairness.min_dp_ratio ?? 0),
        maxDpRatioDrop: t.maxDpRatioDrop,
        nearMiss: t.nearMiss,
        minGroupSize: t.minGroupSize,
        ...(t.maxEqualizedOddsDifference !== undefined
          ? { maxEqualizedOddsDifference: t.maxEqualizedOddsDifference }
          : {}),
      };
      let candidate: FairnessReport;
      let stable: FairnessReport | null = null;
      try {
        candidate = measureFairness(rowsFor(lines, 'candidate', groups), sensitive, {
          minGroupSize: t.minGroupSize,
        });
        if (input.stableVersion)
          stable = measureFairness(rowsFor(lines, 'stable', groups), sensitive, {
            minGroupSize: t.minGroupSize,
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
          source: `Feast service ${input.fairness.service}`,
        });
        report.sections = [...report.sections.filter((s) => s.title !== section.title), section];
        reportPath = deps.reports.save(report).html;
      }
      const verdict = gateStageVerdict(judgement, {
        reviewOnNearMiss: t.reviewOnNearMiss,
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
