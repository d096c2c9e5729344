import path from 'node:path';

/**
 * Envoy's static start-up config. Everything that changes (clusters, fault hops,
 * routes) comes from files in `xdsDir` that the control plane replaces by rename;
 * Envoy watches the directory, and reads the same files again after a restart, so a
 * restarted Envoy serves the current routes before the control plane says a word.
 */
export interface BootstrapOptions {
  port: number;
  adminPort: number;
  xdsDir: string;
  /** JSON lines of the sampled requests, read by the control plane. */
  captureLog: string;
}

export const ADMIN_CLUSTER = 'envoy-admin';

export const XDS_FILES = { clusters: 'cds.json', listeners: 'lds.json', routes: 'rds.json' } as const;

/** Latency bucket edges in ms: fine where models answer, so window percentiles are close. */
export const LATENCY_BUCKETS_MS = [
  0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 60, 75, 90, 110, 135, 165, 200,
  250, 300, 375, 450, 550, 700, 850, 1000, 1300, 1600, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 30000,
  60000,
];

function source(dir: string, file: string) {
  return {
    resource_api_version: 'V3',
    path_config_source: { path: path.join(dir, file), watched_directory: { path: dir } },
  };
}

export function renderBootstrap(opts: BootstrapOptions): object {
  const any = 'type.googleapis.com/';
  return {
    node: { id: 'paved-local', cluster: 'paved' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: opts.adminPort } } },
    // Histograms reach the admin interface on each flush: the rollout's windows want them fresh.
    stats_flush_interval: '1s',
    stats_config: {
      histogram_bucket_settings: [{ match: { suffix: 'upstream_rq_time' }, buckets: LATENCY_BUCKETS_MS }],
    },
    dynamic_resources: {
      cds_config: source(opts.xdsDir, XDS_FILES.clusters),
      lds_config: source(opts.xdsDir, XDS_FILES.listeners),
    },
    overload_manager: {
      resource_monitors: [
        {
          name: 'envoy.resource_monitors.global_downstream_max_connections',
          typed_config: {
            '@type': `${any}envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig`,
            max_active_downstream_connections: 50_000,
          },
        },
      ],
    },
    static_resources: {
      clusters: [
        {
          name: ADMIN_CLUSTER,
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: ADMIN_CLUSTER,
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: '127.0.0.1', port_value: opts.adminPort } },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
      listeners: [
        {
          name: 'public',
          address: { socket_address: { address: '127.0.0.1', port_value: opts.port } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': `${any}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
                    stat_prefix: 'public',
                    // Per-request work nobody reads: a UUID per request and x-envoy-* headers.
                    generate_request_id: false,
                    rds: { route_config_name: 'paved', config_source: source(opts.xdsDir, XDS_FILES.routes) },
                    access_log: [
                      {
                        name: 'capture',
                        filter: {
                          metadata_filter: {
                            matcher: {
                              filter: 'paved',
                              path: [{ key: 'body' }],
                              value: { present_match: true },
                            },
                          },
                        },
                        typed_config: {
                          '@type': `${any}envoy.extensions.access_loggers.file.v3.FileAccessLog`,
                          path: opts.captureLog,
                          log_format: {
                            json_format: {
                              at: '%START_TIME(%s.%3f)%',
                              model: '%DYNAMIC_METADATA(paved:model)%',
                              key: '%REQ(x-paved-key)%',
                              body: '%DYNAMIC_METADATA(paved:body)%',
                              binary: '%DYNAMIC_METADATA(paved:binary)%',
                            },
                          },
                        },
                      },
                    ],
                    http_filters: [
                      {
                        name: 'envoy.filters.http.lua',
                        typed_config: {
                          '@type': `${any}envoy.extensions.filters.http.lua.v3.Lua`,
                          default_source_code: { inline_string: 'function envoy_on_request(h) end' },
                        },
                      },
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type': `${any}envoy.extensions.filters.http.router.v3.Router`,
                          suppress_envoy_headers: true,
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}
