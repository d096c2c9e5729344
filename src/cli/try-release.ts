import { loadPolicy } from '../adapters/policy-loader.js';
import { replicaName } from '../adapters/runtime/docker/docker-runtime.js';
import { endpointClient } from '../adapters/runtime/endpoint-client.js';
import { localModelRuntime } from '../adapters/runtime/local.js';
import type { AuditEntry } from '../domain/audit.js';
import type { PavedConfig } from '../domain/config.js';
import { PavedError } from '../domain/errors.js';
import type { FeatureBinding } from '../domain/feature-binding.js';

export interface TryResult {
  image: string;
  binding: FeatureBinding;
  request: unknown;
  status: number;
  response: Record<string, unknown>;
}

/** What the release's own stages recorded: the image it built and the binding it checked. */
export function releasedArtifacts(entries: readonly AuditEntry[]): {
  image: string;
  binding: FeatureBinding | null;
} {
  const built = entries.find((e) => e.stage === 'containerize' && e.verdict === 'pass')?.outputs as
    { image?: string } | undefined;
  if (!built?.image)
    throw new PavedError('this release has no built image yet; wait until its containerize stage passed');
  const bound = entries.find((e) => e.stage === 'bind' && e.verdict === 'pass')?.outputs as
    { report?: { binding?: FeatureBinding } | null } | undefined;
  return { image: built.image, binding: bound?.report?.binding ?? null };
}

/**
 * Starts the release's image with exactly the binding its bind stage recorded, asks
 * it for predictions by entity key, and stops it again: the serving path, end to end.
 */
export async function tryRelease(
  config: PavedConfig,
  release: { model: string; version: string },
  entries: readonly AuditEntry[],
  entities: Array<number | string>,
): Promise<TryResult> {
  const { image, binding } = releasedArtifacts(entries);
  if (!binding)
    throw new PavedError(
      `${release.model}/${release.version} reads no feature service, so it cannot serve by entity key. Fix: send every input by value`,
    );
  const runtime = localModelRuntime(config);
  const approved = entries.some((e) => e.action === 'review approved');
  const spec = {
    model: release.model,
    version: release.version,
    role: 'try' as const,
    image,
    binding,
    allowPickle: approved,
    limits: loadPolicy().model_limits,
  };
  // A replica left by an interrupted try is replaced, not reused: the binding may differ.
  const id = replicaName(spec.model, spec.version, spec.role);
  await runtime.stop(id);
  const replica = await runtime.start(spec, 60_000);
  const client = endpointClient(replica.endpoint);
  try {
    const body = {
      id: `try-${release.version}`,
      inputs: [
        {
          name: binding.entityKey,
          shape: [entities.length],
          datatype: entities.every((e) => typeof e === 'number') ? 'INT64' : 'BYTES',
          data: entities,
        },
      ],
    };
    const res = await client.request({
      path: `/v2/models/${release.model}/infer`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const response = (await res.body.json()) as Record<string, unknown>;
    return { image, binding, request: body, status: res.statusCode, response };
  } finally {
    await client.close().catch(() => undefined);
    await runtime.stop(replica.id);
  }
}

/** One row per entity: the key, then each output's value. */
export function predictionRows(
  result: TryResult,
  entities: Array<number | string>,
): { headers: string[]; rows: string[][] } {
  const outputs = (result.response.outputs ?? []) as Array<{ name: string; data: unknown[] }>;
  return {
    headers: [result.binding.entityKey, ...outputs.map((o) => o.name)],
    rows: entities.map((e, k) => [
      String(e),
      ...outputs.map((o) => {
        const v = o.data[k];
        return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v);
      }),
    ]),
  };
}
