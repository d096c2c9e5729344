import { routeToCanary, stickyBucket } from '../domain/rollout.js';
import type { Backend, ModelRoute } from './routes.js';

export type Role = 'stable' | 'canary';

/**
 * Stable or canary for one request. With a key the choice is sticky (the same key
 * gets the same version while the weight only grows); without one it is random
 * at the canary's weight.
 */
export function pickBackend(
  model: string,
  route: ModelRoute,
  key: string | null,
  random: () => number = Math.random,
): { backend: Backend; role: Role } | null {
  const canary = route.canary;
  if (canary && canary.weight > 0) {
    const toCanary =
      key !== null ? routeToCanary(stickyBucket(model, key), canary.weight) : random() * 100 < canary.weight;
    if (toCanary || !route.stable) return { backend: canary, role: 'canary' };
  }
  return route.stable ? { backend: route.stable, role: 'stable' } : null;
}

/** The sticky key: the x-paved-key header, else the first value of the route's sticky input. */
export function stickyKey(
  header: string | undefined,
  body: Buffer | undefined,
  stickyInput: string | null,
): string | null {
  if (header) return header;
  if (!stickyInput || !body || body.length === 0) return null;
  try {
    const doc = JSON.parse(body.toString('utf8')) as { inputs?: Array<{ name?: unknown; data?: unknown[] }> };
    const input = doc.inputs?.find((i) => i.name === stickyInput);
    const first = Array.isArray(input?.data) ? input.data.flat(Infinity)[0] : undefined;
    return first === undefined || first === null ? null : String(first);
  } catch {
    return null; // the model answers a malformed body with a proper V2 error
  }
}
