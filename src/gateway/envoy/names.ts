import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Envoy names for a model's versions. A version's cluster is what the route's weights
 * point at; its stats carry a dot-free name so Envoy's tag extraction keeps it whole.
 */
export function clusterName(model: string, version: string): string {
  return `paved|${model}|${version}`;
}

/**
 * A dot separates Envoy's stat name elements, so the version's dots are spelled
 * `_d` and its underscores `__`: versions 1.0 and 1_0 keep stats of their own.
 */
export function statName(model: string, version: string): string {
  return `paved_${model}_${version.replace(/_/g, '__').replace(/\./g, '_d')}`;
}

/** The direct cluster behind a version's fault hop. */
export function faultClusterName(model: string, version: string): string {
  return `fault|${model}|${version}`;
}

/** The hop's listener socket: short, since a unix socket path has at most 107 bytes. */
export function faultSocket(socketDir: string, model: string, version: string): string {
  const id = createHash('sha256').update(`${model}/${version}`).digest('hex').slice(0, 16);
  return path.join(socketDir, `${id}.sock`);
}
