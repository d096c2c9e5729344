import { request } from 'undici';
import { z } from 'zod';
import type { FeatureValue, OnlineSample } from '../../domain/feature-binding.js';

const OnlineResponse = z.object({
  metadata: z.object({ feature_names: z.array(z.string()) }),
  results: z.array(
    z.object({
      values: z.array(z.union([z.number(), z.string(), z.boolean(), z.null()])),
      statuses: z.array(z.string()),
    }),
  ),
});

/**
 * Thin client of `feast serve`'s HTTP API: the same reads model containers make.
 * undici's request, not fetch: fetch refuses Feast's default port 6566 (a "bad port").
 */
export class FeatureServerClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async healthy(timeoutMs = 1000): Promise<boolean> {
    try {
      const res = await request(`${this.url}/health`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  /** Values by full feature ref (`view__feature`), one per entity, in the entities' order. */
  async onlineFeatures(
    service: string,
    entityKey: string,
    entities: Array<string | number>,
  ): Promise<OnlineSample> {
    const body = await this.post('/get-online-features', {
      feature_service: service,
      entities: { [entityKey]: entities },
      full_feature_names: true,
    });
    const parsed = OnlineResponse.safeParse(body);
    if (!parsed.success)
      throw new Error(`feature server ${this.url}: unexpected answer to /get-online-features`);
    const values: Record<string, FeatureValue[]> = {};
    const statuses: Record<string, string[]> = {};
    parsed.data.metadata.feature_names.forEach((name, k) => {
      values[name] = parsed.data.results[k]?.values ?? [];
      statuses[name] = parsed.data.results[k]?.statuses ?? [];
    });
    return { values, statuses };
  }

  /** Writes rows straight into the online store (what a streaming job would do). */
  async writeOnline(view: string, columns: Record<string, unknown[]>): Promise<void> {
    await this.post('/write-to-online-store', { feature_view_name: view, df: columns });
  }

  private async post(route: string, payload: unknown): Promise<unknown> {
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new Error(
        `feature server ${this.url} does not answer (${(err as Error).message}) — start it with \`paved stack up\``,
      );
    }
    if (status !== 200)
      throw new Error(`feature server ${this.url}${route}: HTTP ${status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }
}
