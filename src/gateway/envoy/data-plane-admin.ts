import { request } from 'undici';

/** Envoy's admin interface, on loopback only: it has no authentication of its own. */
export class DataPlaneAdmin {
  constructor(readonly url: string) {}

  private async get(route: string, timeoutMs = 2000): Promise<string> {
    const res = await request(`${this.url}${route}`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`data plane admin ${route}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    return text;
  }

  async ready(): Promise<boolean> {
    try {
      return (await this.get('/ready', 1000)).trim() === 'LIVE';
    } catch {
      return false;
    }
  }

  async version(): Promise<string | null> {
    try {
      const info = JSON.parse(await this.get('/server_info', 1000)) as { version?: string };
      return info.version?.split('/')[1] ?? null;
    } catch {
      return null;
    }
  }

  /** The version_info Envoy applied for clusters, listeners and the route config. */
  async appliedVersions(
    routeConfig: string,
  ): Promise<Record<'clusters' | 'listeners' | 'routes', string | null>> {
    const dump = JSON.parse(await this.get('/config_dump')) as {
      configs: Array<{
        '@type': string;
        version_info?: string;
        dynamic_warming_clusters?: unknown[];
        dynamic_route_configs?: Array<{ version_info?: string; route_config?: { name?: string } }>;
      }>;
    };
    const of = (kind: string) => dump.configs.find((c) => c['@type'].endsWith(`.${kind}`));
    const routes = of('RoutesConfigDump')?.dynamic_route_configs?.find(
      (r) => r.route_config?.name === routeConfig,
    );
    const clusters = of('ClustersConfigDump');
    return {
      // A cluster still warming (its first health checks) cannot take requests yet.
      clusters: clusters?.dynamic_warming_clusters?.length ? null : (clusters?.version_info ?? null),
      listeners: of('ListenersConfigDump')?.version_info ?? null,
      routes: routes?.version_info ?? null,
    };
  }

  /** Counters and cumulative latency buckets of the clusters whose stat names match. */
  async clusterStats(statPattern: string): Promise<ClusterStatsSnapshot> {
    const filter = encodeURIComponent(
      `^cluster\\.${statPattern}\\.(upstream_rq_completed|upstream_rq_5xx|upstream_rq_time)$`,
    );
    const doc = JSON.parse(
      await this.get(`/stats?format=json&histogram_buckets=cumulative&filter=${filter}`),
    ) as {
      stats: Array<
        | { name: string; value: number }
        | { histograms: Array<{ name: string; buckets: Array<{ upper_bound: number; cumulative: number }> }> }
      >;
    };
    const out: ClusterStatsSnapshot = new Map();
    const entry = (name: string) => {
      const stat = name.slice('cluster.'.length, name.lastIndexOf('.'));
      let e = out.get(stat);
      if (!e) out.set(stat, (e = { completed: 0, errors: 0, buckets: [] }));
      return e;
    };
    for (const s of doc.stats) {
      if ('histograms' in s) {
        for (const h of s.histograms) entry(h.name).buckets = h.buckets.map((b) => b.cumulative);
      } else if (s.name.endsWith('.upstream_rq_completed')) entry(s.name).completed = s.value;
      else if (s.name.endsWith('.upstream_rq_5xx')) entry(s.name).errors = s.value;
    }
    return out;
  }

  /** Makes Envoy open its access log files again, after the control plane moved one away. */
  async reopenLogs(): Promise<void> {
    const res = await request(`${this.url}/reopen_logs`, { method: 'POST', headersTimeout: 2000 });
    await res.body.dump();
  }
}

export interface ClusterCounters {
  completed: number;
  errors: number;
  /** Cumulative counts per latency bucket edge (bootstrap's LATENCY_BUCKETS_MS). */
  buckets: number[];
}

export type ClusterStatsSnapshot = Map<string, ClusterCounters>;
