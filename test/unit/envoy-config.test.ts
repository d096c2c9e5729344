import { describe, expect, it } from 'vitest';
import { bucketDelta, bucketPercentile } from '../../src/domain/bucket-percentile.js';
import { ModelRouteSchema, type RouteTable } from '../../src/domain/route.js';
import { planApply } from '../../src/gateway/envoy/apply-plan.js';
import { renderEnvoyConfig, type EnvoyConfig } from '../../src/gateway/envoy/resources.js';
import { WindowedStats } from '../../src/gateway/window-stats.js';

const opts = {
  socketDir: '/run/paved',
  captureRate: 0.05,
  adminCluster: 'envoy-admin',
  featureServerPort: 6566,
  featureProxyLog: '/var/log/doors.log',
};
const v = (version: string, port: number) => ({ version, endpoints: [`http://127.0.0.1:${port}`] });
const table = (route: object): RouteTable => ({
  models: { arrests: ModelRouteSchema.parse(route) },
  featureDoors: {},
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const modelRoute = (c: EnvoyConfig): Json =>
  ((c.routes as Json).virtual_hosts[0].routes as Json[]).find((r) => r.name === 'arrests')!;

describe('Envoy config from a route', () => {
  it('puts the canary first in the weighted clusters, in ten-thousandths, hashed on the salted sticky header', () => {
    const c = renderEnvoyConfig(
      table({ stable: v('v1', 1001), canary: { ...v('v2', 1002), weight: 2.5 } }),
      opts,
    );
    const action = modelRoute(c).route;
    expect(action.weighted_clusters).toEqual({
      use_hash_policy: true,
      clusters: [
        { name: 'paved|arrests|v2', weight: 250 },
        { name: 'paved|arrests|v1', weight: 9750 },
      ],
    });
    expect(action.hash_policy).toEqual([{ header: { header_name: 'x-paved-sticky' } }]);
    expect(Object.keys(c.clusters).sort()).toEqual(['paved|arrests|v1', 'paved|arrests|v2']);
    expect((c.clusters['paved|arrests|v2'] as Json).alt_stat_name).toBe('paved_arrests_v2');
  });

  it('sends everything to one cluster at 0 % or 100 %, and answers 503 with no version serving', () => {
    const at0 = modelRoute(
      renderEnvoyConfig(table({ stable: v('v1', 1), canary: { ...v('v2', 2), weight: 0 } }), opts),
    );
    expect(at0.route.cluster).toBe('paved|arrests|v1');
    const at100 = modelRoute(
      renderEnvoyConfig(table({ stable: v('v1', 1), canary: { ...v('v2', 2), weight: 100 } }), opts),
    );
    expect(at100.route.cluster).toBe('paved|arrests|v2');
    const none = modelRoute(renderEnvoyConfig(table({}), opts));
    expect(none.direct_response.status).toBe(503);
  });

  it('mirrors the shadow share in millionths, and gives a faulty version a hop that injects the fault', () => {
    const c = renderEnvoyConfig(
      table({
        stable: v('v1', 1),
        shadow: { ...v('s', 3), percent: 12.5 },
        faults: { v1: { abortPercent: 20, abortStatus: 503, delayMs: 0 } },
      }),
      opts,
    );
    expect(modelRoute(c).route.request_mirror_policies[0]).toMatchObject({
      cluster: 'paved|arrests|s',
      runtime_fraction: { default_value: { numerator: 125_000, denominator: 'MILLION' } },
    });
    const outer = c.clusters['paved|arrests|v1'] as Json;
    const socket = outer.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe.path as string;
    expect(socket.startsWith('/run/paved/')).toBe(true);
    const hop = c.listeners['fault|arrests|v1'] as Json;
    expect(hop.address.pipe.path).toBe(socket);
    expect(JSON.stringify(hop)).toContain('"numerator":200000');
    expect(
      (c.clusters['fault|arrests|v1'] as Json).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address,
    ).toEqual({ socket_address: { address: '127.0.0.1', port_value: 1 } });
  });

  it('reaches unix socket endpoints as pipes', () => {
    const c = renderEnvoyConfig(
      table({ stable: { version: 'v1', endpoints: ['unix:/run/m/a.sock', 'unix:/run/m/b.sock'] } }),
      opts,
    );
    const eps = (c.clusters['paved|arrests|v1'] as Json).load_assignment.endpoints[0].lb_endpoints as Json[];
    expect(eps.map((e) => e.endpoint.address.pipe.path)).toEqual(['/run/m/a.sock', '/run/m/b.sock']);
  });

  it('refuses endpoints off this host', () => {
    expect(
      ModelRouteSchema.safeParse({ stable: { version: 'v1', endpoints: ['http://models.example.com:80'] } })
        .success,
    ).toBe(false);
  });
});

describe('the order a change reaches Envoy in', () => {
  const render = (route: object) => renderEnvoyConfig(table(route), opts);
  const kinds = (a: EnvoyConfig, b: EnvoyConfig) => planApply(a, b).map((w) => w.kind);

  it('changes only the routes when only a weight changes', () => {
    expect(
      kinds(
        render({ stable: v('v1', 1), canary: { ...v('v2', 2), weight: 5 } }),
        render({ stable: v('v1', 1), canary: { ...v('v2', 2), weight: 25 } }),
      ),
    ).toEqual(['routes']);
  });

  it('adds a cluster before a route names it, and removes it only after no route does', () => {
    const one = render({ stable: v('v1', 1) });
    const two = render({ stable: v('v1', 1), canary: { ...v('v2', 2), weight: 5 } });
    const up = planApply(one, two);
    expect(up.map((w) => w.kind)).toEqual(['clusters', 'routes']);
    expect(Object.keys(up[0]!.config.clusters)).toContain('paved|arrests|v2');
    const down = planApply(two, one);
    expect(down.map((w) => w.kind)).toEqual(['routes', 'clusters']);
  });

  it('brings a fault hop up listener-first and takes it down cluster-first', () => {
    const plain = render({ stable: v('v1', 1) });
    const faulty = render({
      stable: v('v1', 1),
      faults: { v1: { abortPercent: 50, abortStatus: 503, delayMs: 0 } },
    });
    const on = planApply(plain, faulty);
    expect(on.map((w) => w.kind)).toEqual(['clusters', 'listeners', 'clusters']);
    // the hop's inner cluster is there before its listener, the listener before the outer cluster points at it
    expect(Object.keys(on[0]!.config.clusters)).toContain('fault|arrests|v1');
    expect(JSON.stringify(on[0]!.config.clusters['paved|arrests|v1'])).not.toContain('pipe');
    expect(Object.keys(on[1]!.config.listeners)).toEqual(['fault|arrests|v1']);
    const off = planApply(faulty, plain);
    expect(off.map((w) => w.kind)).toEqual(['clusters', 'listeners', 'clusters']);
    expect(JSON.stringify(off[0]!.config.clusters['paved|arrests|v1'])).not.toContain('pipe');
    expect(off[1]!.config.listeners).toEqual({});
  });
});

describe('window percentiles from cumulative buckets', () => {
  const edges = [1, 2, 5, 10];

  it('interpolates inside the bucket the rank falls in', () => {
    // 10 values ≤ 1, 10 in (1,2], 80 in (2,5]
    expect(bucketPercentile(edges, [10, 20, 100, 100], 50)).toBeCloseTo(2 + (3 * 30) / 80);
    expect(bucketPercentile(edges, [10, 20, 100, 100], 10)).toBeCloseTo(1);
    expect(bucketPercentile(edges, [0, 0, 0, 0], 99)).toBeNull();
  });

  it('subtracts the window start, and starts over when a counter was reset', () => {
    expect(bucketDelta([5, 9, 9, 9], [1, 2, 2, 2])).toEqual([4, 7, 7, 7]);
    expect(bucketDelta([1, 1, 1, 1], [5, 9, 9, 9])).toEqual([1, 1, 1, 1]);
  });

  it('answers a window from the reading at its start to the newest', () => {
    const s = new WindowedStats(edges);
    s.add(new Map([['m/v1', { completed: 100, errors: 1, buckets: [100, 100, 100, 100] }]]), 0);
    s.add(new Map([['m/v1', { completed: 150, errors: 3, buckets: [100, 150, 150, 150] }]]), 10_000);
    s.add(new Map([['m/v1', { completed: 160, errors: 3, buckets: [100, 150, 160, 160] }]]), 20_000);
    expect(s.window('m/v1', 10_000, 20_000)).toMatchObject({ requests: 10, errors: 0 });
    const wide = s.window('m/v1', 20_000, 20_000);
    expect(wide).toMatchObject({ requests: 60, errors: 2 });
    expect(wide.p50Ms).toBeGreaterThan(1);
    expect(s.window('m/v2', 20_000, 20_000)).toEqual({ requests: 0, errors: 0, p50Ms: null, p99Ms: null });
  });
});
