import type { EnvoyConfig } from './resources.js';

export type XdsKind = keyof EnvoyConfig;

export interface XdsWrite {
  kind: XdsKind;
  config: EnvoyConfig;
}

/** Resources by name, compared whatever order they were merged in. */
const canonical = (v: unknown) =>
  JSON.stringify(
    v && typeof v === 'object' && !('@type' in v)
      ? Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))
      : v,
  );
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/**
 * The order in which to hand a new config to Envoy so that no request meets a
 * reference to something Envoy does not have yet: new clusters first, then the fault
 * hops' listeners (which point at clusters), then changed clusters (which may point at
 * those listeners), then routes, and only then the removal of what nothing uses any
 * more. Each entry is the whole config at that moment; unchanged steps are left out.
 */
export function planApply(current: EnvoyConfig, next: EnvoyConfig): XdsWrite[] {
  const writes: XdsWrite[] = [];
  let at = current;
  const step = (kind: XdsKind, value: EnvoyConfig[XdsKind]) => {
    if (same(at[kind], value)) return;
    at = { ...at, [kind]: value };
    writes.push({ kind, config: at });
  };
  step('clusters', { ...next.clusters, ...current.clusters });
  step('listeners', { ...current.listeners, ...next.listeners });
  step('clusters', { ...current.clusters, ...next.clusters });
  step('routes', next.routes);
  step('listeners', next.listeners);
  step('clusters', next.clusters);
  return writes;
}
