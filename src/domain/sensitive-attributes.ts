/**
 * Where the bias gate finds a sensitive attribute, per predicted row: a model
 * input of the replayed request (the caller sends it), a field of the traffic
 * sample's line (`attributes`, held-out rows only), or a Feast feature service
 * looked up by entity. Pure: the shadow stage writes what requests carry, the
 * bias stage decides each attribute's source from that.
 */
import type { TrafficLine } from './traffic.js';

export type AttributeValue = string | number | boolean | null;

/** One row's sensitive attributes as the request (or its sample line) carries them. */
export type RowAttributes = Record<string, AttributeValue>;

function scalar(v: unknown): AttributeValue | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return undefined;
}

/**
 * The sensitive attributes each row of a request carries: row r of the input of
 * that name, else (one-row requests only: a line describes one person) the
 * line's `attributes`. Attributes found nowhere are left out.
 */
export function rowAttributes(line: TrafficLine, names: readonly string[], rows: number): RowAttributes[] {
  return Array.from({ length: rows }, (_, r) => {
    const found: RowAttributes = {};
    for (const name of names) {
      const input = line.request.inputs.find((i) => i.name === name);
      const fromInput = input ? scalar(input.data[r]) : undefined;
      const fromLine =
        rows === 1 && line.attributes && Object.hasOwn(line.attributes, name)
          ? scalar(line.attributes[name])
          : undefined;
      const value = fromInput !== undefined ? fromInput : fromLine;
      if (value !== undefined) found[name] = value;
    }
    return found;
  });
}

export type AttributeSource =
  | { attribute: string; kind: 'input' }
  | { attribute: string; kind: 'sample' }
  | { attribute: string; kind: 'feature-service'; service: string };

/**
 * Each attribute's source: the requests when every row carries it (a model input,
 * else the sample's attributes), else the Feast service when one is named. The
 * ones found nowhere come back in `missing`.
 */
export function attributeSources(
  names: readonly string[],
  rows: ReadonlyArray<{ attributes?: RowAttributes }>,
  ctx: { inputs: readonly string[]; service: string | null },
): { sources: AttributeSource[]; missing: string[] } {
  const sources: AttributeSource[] = [];
  const missing: string[] = [];
  for (const attribute of names) {
    // Own keys only: an attribute called "constructor" is not carried by every object.
    const carried =
      rows.length > 0 &&
      rows.every((r) => r.attributes !== undefined && Object.hasOwn(r.attributes, attribute));
    if (carried) sources.push({ attribute, kind: ctx.inputs.includes(attribute) ? 'input' : 'sample' });
    else if (ctx.service) sources.push({ attribute, kind: 'feature-service', service: ctx.service });
    else missing.push(attribute);
  }
  return { sources, missing };
}

/** "model input sex; Feast service arrests_sensitive (colour)": for the report and the summary. */
export function describeSources(sources: readonly AttributeSource[]): string {
  const parts: string[] = [];
  const of = (kind: AttributeSource['kind']) =>
    sources.filter((s) => s.kind === kind).map((s) => s.attribute);
  const inputs = of('input');
  const sample = of('sample');
  const feast = sources.filter((s) => s.kind === 'feature-service');
  if (inputs.length)
    parts.push(`the replayed requests (model input${inputs.length > 1 ? 's' : ''} ${inputs.join(', ')})`);
  if (sample.length) parts.push(`the traffic sample's attributes (${sample.join(', ')})`);
  if (feast.length)
    parts.push(
      `Feast service ${(feast[0] as { service: string }).service} (${feast.map((s) => s.attribute).join(', ')})`,
    );
  return parts.join('; ');
}
