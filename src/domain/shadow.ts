/**
 * What the shadow stage measures for one version, and how candidate and stable
 * answers compare on the same requests. Pure: the replayer and Docker stats feed it.
 */

/** Milliseconds. Gated latency counts from each request's intended send time (open loop). */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One point of a percentile curve: `percentile` in [0, 100]. */
export interface PercentilePoint {
  percentile: number;
  ms: number;
}

/** The percentiles a report plots: dense in the tail, where queueing shows. */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100] as const;

export interface ResourceUsage {
  /** CPU time the container used during the measured window. */
  cpuSeconds: number;
  memMeanMB: number;
  memPeakMB: number;
  /** Length of the window the Docker stats covered. */
  seconds: number;
  samples: number;
}

/** A model's answer to one request: labels and positive-class scores, row by row. */
export interface Answer {
  labels: number[];
  scores: number[] | null;
}

export interface VersionMeasure {
  version: string;
  role: 'candidate' | 'stable';
  sent: number;
  errors: number;
  errorRate: number;
  /** HTTP status (or "timeout" / "connection") → count, for the error sentence. */
  statuses: Record<string, number>;
  latency: LatencySummary;
  curve: PercentilePoint[];
  resources: ResourceUsage | null;
  costPerMillionUsd: number | null;
  /** Against the labels of a held-out sample, single-row requests only. */
  accuracy: { correct: number; labelled: number } | null;
}

export interface Agreement {
  /** Rows both versions answered. */
  compared: number;
  sameLabel: number;
  labelAgreement: number | null;
  meanAbsScoreDiff: number | null;
}

/** Reads a V2 response body; null when it is not one (the caller counts that as an error). */
export function readAnswer(body: unknown): Answer | null {
  const outputs = (body as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return null;
  const numbers = (name: string): number[] | null => {
    const out = outputs.find((o) => (o as { name?: unknown })?.name === name) as
      { data?: unknown } | undefined;
    const data = out?.data;
    return Array.isArray(data) && data.every((v) => typeof v === 'number') ? data : null;
  };
  const labels = numbers('label');
  if (!labels) return null;
  const scores = numbers('probability');
  return { labels, scores: scores && scores.length === labels.length ? scores : null };
}

/** Candidate and stable answers to the same requests, slot by slot (null = that side failed). */
export function agreement(
  candidate: ReadonlyArray<Answer | null>,
  stable: ReadonlyArray<Answer | null>,
): Agreement {
  let compared = 0;
  let sameLabel = 0;
  let scored = 0;
  let diff = 0;
  const n = Math.min(candidate.length, stable.length);
  for (let i = 0; i < n; i++) {
    const c = candidate[i];
    const s = stable[i];
    if (!c || !s || c.labels.length !== s.labels.length) continue;
    for (let r = 0; r < c.labels.length; r++) {
      compared++;
      if (c.labels[r] === s.labels[r]) sameLabel++;
      if (c.scores && s.scores) {
        scored++;
        diff += Math.abs(c.scores[r]! - s.scores[r]!);
      }
    }
  }
  return {
    compared,
    sameLabel,
    labelAgreement: compared > 0 ? sameLabel / compared : null,
    meanAbsScoreDiff: scored > 0 ? diff / scored : null,
  };
}

/** Correct single-row answers against the sample's labels (slot i asked request i). */
export function accuracy(
  answers: ReadonlyArray<Answer | null>,
  labels: ReadonlyArray<0 | 1 | undefined>,
): { correct: number; labelled: number } | null {
  let labelled = 0;
  let correct = 0;
  answers.forEach((a, i) => {
    const y = labels[i];
    if (y === undefined || !a || a.labels.length !== 1) return;
    labelled++;
    if (a.labels[0] === y) correct++;
  });
  return labelled > 0 ? { labelled, correct } : null;
}

/** The policy's `cost:` prices, as it writes them. */
export interface CostModel {
  vcpu_hour_usd: number;
  gb_hour_usd: number;
}

/**
 * Dollars per million predictions at the replayed rate: the CPU time used plus the
 * memory held for the window, spread over the requests answered in it. Memory is
 * paid whether or not requests come, so a lightly loaded model costs more per
 * prediction; the report says at which rate the figure holds.
 */
export function costPerMillion(usage: ResourceUsage, answered: number, prices: CostModel): number | null {
  if (answered <= 0 || usage.seconds <= 0) return null;
  const cpu = (usage.cpuSeconds / 3600) * prices.vcpu_hour_usd;
  const memory = (usage.memMeanMB / 1024) * (usage.seconds / 3600) * prices.gb_hour_usd;
  return ((cpu + memory) / answered) * 1e6;
}
