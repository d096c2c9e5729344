import { z } from 'zod';

/**
 * Traffic samples: what the gateway's capture writes and the shadow stage replays
 * (docs/traffic-format.md). JSONL; an optional header line
 * `{"paved_capture": 1, "model", "started"}`, then one request per line:
 * `{"t": ms since start, "key": entity or sticky key | null, "request": V2 body, "label"?: 0|1}`.
 * A package's own sample (held-out rows) may carry the true `label`; captured live
 * traffic never does.
 */
export const TrafficHeaderSchema = z.object({
  paved_capture: z.literal(1),
  model: z.string(),
  started: z.string(),
  /** The capture's sampling rate: the recorded peak divided by it is the live peak. */
  rate: z.number().gt(0).max(1).optional(),
});

export const TrafficLineSchema = z.object({
  t: z.number().min(0, 'must be milliseconds from the start of the sample, 0 or more'),
  key: z.string().nullable().default(null),
  request: z.looseObject({
    inputs: z.array(z.looseObject({ name: z.string(), data: z.array(z.unknown()) })).min(1),
  }),
  label: z.union([z.literal(0), z.literal(1)]).optional(),
  /**
   * Held-out samples only: facts about the person that the model does not read
   * (e.g. sex), so the bias gate can group by them without a feature service.
   */
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

export type TrafficLine = z.infer<typeof TrafficLineSchema>;

export interface TrafficSample {
  header: z.infer<typeof TrafficHeaderSchema> | null;
  lines: TrafficLine[];
  /** Lines that were not traffic (torn last line of a live capture, bad JSON): skipped, counted. */
  skipped: number;
}

export class TrafficFormatError extends Error {
  override readonly name = 'TrafficFormatError';
}

type ReadLine =
  | { n: number; kind: 'header'; header: z.infer<typeof TrafficHeaderSchema> }
  | { n: number; kind: 'request'; line: TrafficLine }
  | { n: number; kind: 'bad'; problem: string };

/** Each non-blank line of a sample, read as a header, a request or a problem (1-based line numbers). */
function* readLines(text: string): Generator<ReadLine> {
  const raws = text.split('\n');
  for (let k = 0; k < raws.length; k++) {
    const line = raws[k]!.trim();
    if (line === '') continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      yield { n: k + 1, kind: 'bad', problem: 'not JSON' };
      continue;
    }
    const head = TrafficHeaderSchema.safeParse(doc);
    if (head.success) {
      yield { n: k + 1, kind: 'header', header: head.data };
      continue;
    }
    const parsed = TrafficLineSchema.safeParse(doc);
    if (parsed.success) yield { n: k + 1, kind: 'request', line: parsed.data };
    else {
      const issue = parsed.error.issues[0]!;
      yield { n: k + 1, kind: 'bad', problem: `${issue.path.join('.') || '(line)'} ${issue.message}` };
    }
  }
}

/**
 * Parses a sample. A capture being written may end in a torn line and a long one
 * may hold a stray bad line: those are skipped and counted, but a file with no
 * usable request is an error that says where it went wrong.
 */
export function parseTraffic(text: string, source: string): TrafficSample {
  const lines: TrafficLine[] = [];
  let skipped = 0;
  let firstProblem: string | null = null;
  let header: TrafficSample['header'] = null;
  for (const read of readLines(text)) {
    if (read.kind === 'header') header = read.header;
    else if (read.kind === 'request') lines.push(read.line);
    else {
      skipped++;
      firstProblem ??= `line ${read.n}: ${read.problem}`;
    }
  }
  if (lines.length === 0) {
    throw new TrafficFormatError(
      `${source} holds no replayable request${firstProblem ? ` (${firstProblem})` : ''}; ` +
        'each line must be {"t": ms, "key": ..., "request": {"inputs": [...]}} (docs/traffic-format.md)',
    );
  }
  return { header, lines, skipped };
}

/** The most requests seen in any `windowMs` span, as a rate per second. */
export function peakRate(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return (best * 1000) / windowMs;
}

/** The policy's `shadow:` rates, as it writes them. */
export interface RatePolicy {
  /** Requests per second when the sample has no live timing (a package's own sample). */
  rate: number;
  headroom: number;
  max_rate: number;
}

/**
 * The replay rate: a live capture is replayed at its recorded peak times the
 * headroom, so a release is measured under the load it will meet plus a margin;
 * a package sample (no live timing) at the policy's rate. Never above max_rate.
 */
export function replayRate(
  sample: { live: boolean; times: readonly number[]; sampledShare?: number; peakWindowMs?: number },
  policy: RatePolicy,
): { rate: number; why: string } {
  if (!sample.live) {
    const rate = Math.min(policy.rate, policy.max_rate);
    return {
      rate,
      why:
        `policy rate ${policy.rate}/s` +
        (policy.rate > policy.max_rate ? `, capped at ${policy.max_rate}/s` : '') +
        ' (no live traffic recorded yet)',
    };
  }
  // A capture keeps a share of requests; the live peak is the recorded one scaled back up.
  const share = sample.sampledShare ?? 1;
  // A sparse sample (5 % kept) counted per second overstates the peak: one second
  // with two kept requests reads as 40/s. A longer window smooths that out.
  const recorded = peakRate(sample.times, sample.peakWindowMs ?? 1000);
  const peak = recorded / share;
  const wanted = peak * policy.headroom;
  const rate = Math.max(1, Math.min(wanted, policy.max_rate));
  return {
    rate,
    why:
      (share < 1
        ? `live peak ${round(peak)}/s (${round(recorded)}/s recorded at ${round(share * 100)} % sampling)`
        : `recorded peak ${round(peak)}/s`) +
      ` × headroom ${policy.headroom}` +
      (wanted > policy.max_rate ? `, capped at ${policy.max_rate}/s` : '') +
      (wanted < 1 ? ', raised to the 1/s floor' : ''),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** At most this many bad lines are named one by one; the rest are counted. */
const NAMED_PROBLEMS = 3;

function shapeProblem(line: TrafficLine): string | null {
  const inputs = line.request.inputs as Array<{ name: string; data: unknown[]; shape?: unknown }>;
  let batch: number | null = null;
  for (const input of inputs) {
    const shape = input.shape;
    if (shape !== undefined) {
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0))
        return `input ${input.name}: shape must be a list of whole numbers`;
      const size = (shape as number[]).reduce((a, b) => a * b, 1);
      if (size !== input.data.length)
        return `input ${input.name}: shape ${JSON.stringify(shape)} holds ${size} values but data has ${input.data.length}`;
    }
    const rows = Array.isArray(shape) && shape.length > 0 ? (shape[0] as number) : input.data.length;
    if (batch !== null && rows !== batch)
      return `input ${input.name}: ${rows} rows where the other inputs have ${batch}`;
    batch = rows;
  }
  return null;
}

/**
 * A package's own sample is written by its author, not cut off by a live capture:
 * every line must be a replayable request whose inputs agree on their shapes. The
 * validate stage refuses one that is not, naming the lines, before anything is built.
 */
export function samplePackageProblems(
  text: string,
  source: string,
  attributes: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  let requests = 0;
  for (const read of readLines(text)) {
    if (read.kind === 'header') continue;
    if (read.kind === 'bad') {
      problems.push(`line ${read.n}: ${read.problem}`);
      continue;
    }
    requests++;
    const shape = shapeProblem(read.line);
    if (shape) problems.push(`line ${read.n}: ${shape}`);
    const missing = attributes.filter((a) => read.line.attributes?.[a] === undefined);
    if (missing.length > 0)
      problems.push(
        `line ${read.n}: attributes.${missing.join(', attributes.')} missing (fairness.sensitive reads it here)`,
      );
  }
  if (requests === 0 && problems.length === 0) return [`${source} holds no request`];
  if (problems.length <= NAMED_PROBLEMS) return problems.map((p) => `${source} ${p}`);
  return [
    ...problems.slice(0, NAMED_PROBLEMS).map((p) => `${source} ${p}`),
    `${source}: ${problems.length - NAMED_PROBLEMS} more bad line(s)`,
  ];
}
