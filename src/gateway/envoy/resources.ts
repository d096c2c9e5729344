import { PAVED_VERSION } from '../../domain/version.js';
import type { Backend, Endpoint, Fault, FeatureDoor, ModelRoute, RouteTable } from '../../domain/route.js';
import { routedVersions } from '../../domain/route.js';
import { doorScript, routeScript } from './lua.js';
import { clusterName, faultClusterName, faultSocket, statName } from './names.js';

/**
 * The Envoy resources for a route table: pure data, written to disk by the control
 * plane. Each serving version is a cluster; a version with a fault gets a hop through
 * its own listener that injects the fault, so what the fault does is counted in the
 * version's own cluster stats like any answer of the model's.
 */
export interface EnvoyConfig {
  clusters: Record<string, object>;
  listeners: Record<string, object>;
  routes: object;
}

export interface RenderOptions {
  /** Where fault hop sockets live. */
  socketDir: string;
  captureRate: number;
  /** Cluster of Envoy's own admin interface, for /metrics. */
  adminCluster: string;
  /** The feature server the doors of sealed containers lead to. */
  featureServerPort: number;
  /** JSON lines of the doors' refusals. */
  featureProxyLog: string;
}

export const FEATURE_SERVER_CLUSTER = 'feature-server';

export const ROUTE_CONFIG_NAME = 'paved';
const ANY = 'type.googleapis.com/';
const CLUSTER = `${ANY}envoy.config.cluster.v3.Cluster`;
const LISTENER = `${ANY}envoy.config.listener.v3.Listener`;
const ROUTE_CONFIG = `${ANY}envoy.config.route.v3.RouteConfiguration`;
const HCM = `${ANY}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': `${ANY}envoy.extensions.filters.http.router.v3.Router` },
};

function address(endpoint: Endpoint): object {
  if (endpoint.startsWith('unix:')) return { pipe: { path: endpoint.slice('unix:'.length) } };
  const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

/**
 * A version's replicas: each is checked for readiness every second, and one whose
 * connections fail (a dead replica: its socket refuses) is ejected at once. Answers
 * the model gives, errors included, never eject: those are the rollout's to judge.
 */
const REPLICA_HEALTH = {
  health_checks: [
    {
      timeout: '1s',
      interval: '1s',
      // Checked at the same pace when no request comes: a dead replica is found before traffic meets it.
      no_traffic_interval: '1s',
      unhealthy_threshold: 2,
      healthy_threshold: 1,
      http_health_check: { path: '/v2/health/ready' },
    },
  ],
  outlier_detection: {
    split_external_local_origin_errors: true,
    consecutive_local_origin_failure: 2,
    enforcing_consecutive_local_origin_failure: 100,
    enforcing_consecutive_5xx: 0,
    enforcing_consecutive_gateway_failure: 0,
    enforcing_success_rate: 0,
    enforcing_local_origin_success_rate: 0,
    interval: '1s',
    base_ejection_time: '5s',
    max_ejection_percent: 50,
  },
};

function replicaCluster(name: string, stat: string, addresses: object[]): object {
  return { ...cluster(name, stat, addresses), ...REPLICA_HEALTH };
}

function cluster(name: string, stat: string, addresses: object[]): object {
  return {
    '@type': CLUSTER,
    name,
    alt_stat_name: stat,
    type: 'STATIC',
    connect_timeout: '1s',
    lb_policy: 'ROUND_ROBIN',
    // A model's server closes idle connections; Envoy should not be the one to find out.
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': `${ANY}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
        common_http_protocol_options: { idle_timeout: '3s' },
        explicit_http_config: { http_protocol_options: {} },
      },
    },
    circuit_breakers: {
      thresholds: [{ max_connections: 4096, max_pending_requests: 4096, max_requests: 4096 }],
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: addresses.map((a) => ({ endpoint: { address: a } })) }],
    },
  };
}

function percent(value: number): object {
  // Millionths: a canary at 2.5 % or a fault at 0.1 % is kept exactly.
  return { numerator: Math.round(value * 10_000), denominator: 'MILLION' };
}

function faultListener(name: string, socket: string, target: string, fault: Fault): object {
  const config: Record<string, unknown> = {
    '@type': `${ANY}envoy.extensions.filters.http.fault.v3.HTTPFault`,
    abort: { http_status: fault.abortStatus, percentage: percent(fault.abortPercent) },
  };
  if (fault.delayMs > 0) config.delay = { fixed_delay: `${fault.delayMs / 1000}s`, percentage: percent(100) };
  return {
    '@type': LISTENER,
    name,
    address: { pipe: { path: socket } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name.replace(/[^A-Za-z0-9_-]/g, '_'),
              route_config: {
                name,
                virtual_hosts: [
                  {
                    name,
                    domains: ['*'],
                    routes: [{ match: { prefix: '/' }, route: { cluster: target, timeout: '0s' } }],
                  },
                ],
              },
              http_filters: [{ name: 'envoy.filters.http.fault', typed_config: config }, ROUTER],
            },
          },
        ],
      },
    ],
  };
}

function jsonReply(status: number, body: object): object {
  return {
    direct_response: { status, body: { inline_string: JSON.stringify(body) } },
    response_headers_to_add: [{ header: { key: 'content-type', value: 'application/json' } }],
  };
}

function modelAction(model: string, route: ModelRoute): object {
  const canary = route.canary && route.canary.weight > 0 ? route.canary : null;
  const weighted: Array<{ name: string; weight: number }> = [];
  // The canary first: with the key's hash taken modulo the total, the keys below the
  // canary's weight stay on it while the weight only grows.
  if (canary)
    weighted.push({ name: clusterName(model, canary.version), weight: Math.round(canary.weight * 100) });
  if (route.stable && (!canary || canary.weight < 100))
    weighted.push({
      name: clusterName(model, route.stable.version),
      weight: 10_000 - (canary ? Math.round(canary.weight * 100) : 0),
    });
  if (weighted.length === 0) return jsonReply(503, { error: `model '${model}' has no version serving` });
  const action: Record<string, unknown> = {
    timeout: '60s',
    hash_policy: [{ header: { header_name: 'x-paved-sticky' } }],
    // A request whose replica refused it or died under it is tried once more, on
    // another replica. Running a prediction twice is harmless: a sealed replica has no
    // network and no writable disk, so it has no side effects. One retry, not more: a
    // request that crashes its model takes down at most two replicas.
    retry_policy: {
      retry_on: 'connect-failure,reset-before-request,reset',
      num_retries: 1,
      retry_host_predicate: [
        {
          name: 'envoy.retry_host_predicates.previous_hosts',
          typed_config: {
            '@type': `${ANY}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate`,
          },
        },
      ],
      host_selection_retry_max_attempts: 3,
    },
  };
  if (weighted.length === 1) action.cluster = weighted[0]!.name;
  else action.weighted_clusters = { use_hash_policy: true, clusters: weighted };
  if (route.shadow && route.shadow.percent > 0)
    action.request_mirror_policies = [
      {
        cluster: clusterName(model, route.shadow.version),
        runtime_fraction: { default_value: percent(route.shadow.percent) },
        disable_shadow_host_suffix_append: true,
      },
    ];
  return { route: action };
}

function modelRoutes(model: string, route: ModelRoute, opts: RenderOptions): object[] {
  const script = routeScript({ model, stickyInput: route.stickyInput, captureRate: opts.captureRate });
  const perRoute = {
    'envoy.filters.http.lua': {
      '@type': `${ANY}envoy.extensions.filters.http.lua.v3.LuaPerRoute`,
      source_code: { inline_string: script },
    },
  };
  const action = modelAction(model, route);
  return [
    {
      name: `${model}`,
      match: { path: `/v2/models/${model}` },
      typed_per_filter_config: perRoute,
      ...action,
    },
    {
      name: `${model}/`,
      match: { prefix: `/v2/models/${model}/` },
      typed_per_filter_config: perRoute,
      ...action,
    },
  ];
}

function versionResources(
  model: string,
  backend: Backend,
  fault: Fault | undefined,
  opts: RenderOptions,
  out: EnvoyConfig,
) {
  const name = clusterName(model, backend.version);
  const direct = backend.endpoints.map(address);
  if (!fault || (fault.abortPercent === 0 && fault.delayMs === 0)) {
    out.clusters[name] = replicaCluster(name, statName(model, backend.version), direct);
    return;
  }
  const inner = faultClusterName(model, backend.version);
  const socket = faultSocket(opts.socketDir, model, backend.version);
  out.clusters[inner] = replicaCluster(inner, `fault_${statName(model, backend.version)}`, direct);
  out.listeners[inner] = faultListener(inner, socket, inner, fault);
  out.clusters[name] = cluster(name, statName(model, backend.version), [{ pipe: { path: socket } }]);
}

function doorListener(name: string, door: FeatureDoor, opts: RenderOptions): object {
  return {
    '@type': LISTENER,
    name,
    // The container's user must be able to connect; the directory around it is the container's own.
    address: { pipe: { path: door.socket, mode: 0o666 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: 'feature_door',
              generate_request_id: false,
              access_log: [
                {
                  name: 'refusals',
                  filter: {
                    status_code_filter: {
                      comparison: {
                        op: 'EQ',
                        value: { default_value: 403, runtime_key: 'paved_door_refused' },
                      },
                    },
                  },
                  typed_config: {
                    '@type': `${ANY}envoy.extensions.access_loggers.file.v3.FileAccessLog`,
                    path: opts.featureProxyLog,
                    log_format: {
                      json_format: {
                        at: '%START_TIME%',
                        owner: '%DYNAMIC_METADATA(paved:owner)%',
                        refused: '%DYNAMIC_METADATA(paved:refused)%',
                      },
                    },
                  },
                },
              ],
              route_config: {
                name,
                virtual_hosts: [
                  {
                    name,
                    domains: ['*'],
                    routes: [
                      { match: { prefix: '/' }, route: { cluster: FEATURE_SERVER_CLUSTER, timeout: '5s' } },
                    ],
                  },
                ],
              },
              http_filters: [
                {
                  name: 'envoy.filters.http.lua',
                  typed_config: {
                    '@type': `${ANY}envoy.extensions.filters.http.lua.v3.Lua`,
                    default_source_code: {
                      inline_string: doorScript({
                        owner: door.owner,
                        service: door.service,
                        entityKey: door.entityKey,
                        features: door.features,
                      }),
                    },
                  },
                },
                ROUTER,
              ],
            },
          },
        ],
      },
    ],
  };
}

export function renderEnvoyConfig(table: RouteTable, opts: RenderOptions): EnvoyConfig {
  const out: EnvoyConfig = { clusters: {}, listeners: {}, routes: {} };
  const doors = Object.keys(table.featureDoors ?? {}).sort();
  if (doors.length > 0) {
    out.clusters[FEATURE_SERVER_CLUSTER] = cluster(FEATURE_SERVER_CLUSTER, 'paved_feature_server', [
      { socket_address: { address: '127.0.0.1', port_value: opts.featureServerPort } },
    ]);
    for (const name of doors)
      out.listeners[`door|${name}`] = doorListener(`door|${name}`, table.featureDoors[name]!, opts);
  }
  const routes: object[] = [
    { name: 'health', match: { path: '/v2/health/live' }, ...jsonReply(200, { live: true }) },
    // The data plane is ready when it answers; whether a model is, is /v2/models/<name>/ready.
    { name: 'ready', match: { path: '/v2/health/ready' }, ...jsonReply(200, { ready: true }) },
    // Every template serves the binary tensor extension (templates/runtime), so the data plane may say so.
    {
      name: 'server-metadata',
      match: { path: '/v2' },
      ...jsonReply(200, { name: 'paved', version: PAVED_VERSION, extensions: ['binary_tensor_data'] }),
    },
    {
      name: 'metrics',
      match: { path: '/metrics', headers: [{ name: ':method', string_match: { exact: 'GET' } }] },
      route: { cluster: opts.adminCluster, prefix_rewrite: '/stats/prometheus' },
    },
  ];
  for (const model of Object.keys(table.models).sort()) {
    const route = table.models[model]!;
    for (const backend of routedVersions(route))
      versionResources(model, backend, route.faults[backend.version], opts, out);
    routes.push(...modelRoutes(model, route, opts));
  }
  routes.push({
    name: 'unknown-model',
    match: { prefix: '/v2/models/' },
    ...jsonReply(404, { error: 'this model has no route; release it first' }),
  });
  routes.push({
    name: 'not-found',
    match: { prefix: '/' },
    ...jsonReply(404, { error: 'not a V2 model route' }),
  });
  out.routes = {
    '@type': ROUTE_CONFIG,
    name: ROUTE_CONFIG_NAME,
    virtual_hosts: [{ name: 'models', domains: ['*'], routes }],
  };
  return out;
}
