import type { FeatureServerClient } from '../adapters/feature-store/feature-server.js';
import { FeatureStoreError, type LocalFeast } from '../adapters/feature-store/local-feast.js';
import { bindFeatures, humanAge, type BindReport } from '../domain/feature-binding.js';
import type { Manifest } from '../domain/manifest.js';
import type { Policy } from '../domain/policy.js';
import type { StageOutcome } from '../domain/release.js';
import { readPolicy } from './policy.js';

/** What the bind stage records; `report` is null when the package reads no features. */
export interface BindOutput {
  report: Omit<BindReport, 'problems'> | null;
}

export interface BindActivities {
  bindFeatures(input: {
    model: string;
    version: string;
    packageDigest: string;
    manifest: Pick<Manifest, 'inputs' | 'features'>;
  }): Promise<StageOutcome<BindOutput>>;
}

export interface BindDeps {
  feast: LocalFeast;
  server: FeatureServerClient;
  policy: () => Policy;
  now?: () => Date;
}

/** The same package samples the same entities on every attempt, so a retry measures the same thing. */
function seedFrom(digest: string): number {
  return parseInt(digest.replace(/^sha256:/, '').slice(0, 8), 16);
}

function summarize(report: BindReport): string {
  const features = report.binding.inputs.filter((i) => i.ref !== null).length;
  const skewed = report.skew.reduce((n, s) => n + s.mismatches, 0);
  const oldest = Math.max(0, ...report.freshness.map((f) => f.ageSeconds ?? 0));
  return (
    `bound ${report.binding.service} (${features} features); skew ${skewed} of ` +
    `${report.sampleSize * report.skew.length} sampled values; materialized ${humanAge(oldest)} ago`
  );
}

export function createBindActivities(deps: BindDeps): BindActivities {
  return {
    /**
     * Resolves the package's feature service, reads a sample of entities offline
     * (point-in-time, through the Feast SDK) and online (through the feature server,
     * as containers will), and checks dtypes, freshness and skew.
     */
    async bindFeatures({ packageDigest, manifest }) {
      const service = manifest.features?.service;
      if (!service) {
        return {
          stage: 'bind',
          verdict: { kind: 'pass' },
          output: { report: null },
          summary: 'no feature service declared; callers send every model input',
        };
      }
      const policy = readPolicy(deps.policy);
      const now = deps.now?.() ?? new Date();
      let snapshot;
      try {
        snapshot = await deps.feast.inspect({
          service,
          sampleSize: policy.features.skew_sample_size,
          seed: seedFrom(packageDigest),
          at: now,
        });
      } catch (err) {
        if (!(err instanceof FeatureStoreError)) throw err;
        return {
          stage: 'bind',
          verdict: { kind: 'fail', reason: `${err.message} — fix features.service in paved.yaml` },
          output: { report: null },
          summary: err.message,
        };
      }
      const online = await deps.server.onlineFeatures(service, snapshot.entityKey, snapshot.sample.entities);
      const report = bindFeatures({
        manifest,
        snapshot,
        online,
        server: deps.server.url,
        limits: policy.features,
        now,
      });
      const { problems, ...recorded } = report;
      return {
        stage: 'bind',
        verdict: problems.length === 0 ? { kind: 'pass' } : { kind: 'fail', reason: problems.join('; ') },
        output: { report: recorded },
        summary: problems.length === 0 ? summarize(report) : problems[0]!,
      };
    },
  };
}
