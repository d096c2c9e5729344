import type { PavedConfig } from '../../domain/config.js';
import { baseImage } from './base-image.js';
import { dockerEngine } from './docker-engine.js';
import { envoy } from './envoy.js';
import { featureStore } from './feature-store.js';
import { gateway } from './gateway.js';
import type { PartStatus, StackPart } from './part.js';
import { registry } from './registry.js';
import { temporalServer } from './temporal-server.js';

/** Start order: the base image needs Docker; stop order is the reverse. */
export const STACK_PARTS: readonly StackPart[] = [
  dockerEngine,
  registry,
  temporalServer,
  baseImage,
  featureStore,
  envoy,
  gateway,
];

export async function stackStatus(config: PavedConfig): Promise<PartStatus[]> {
  return Promise.all(STACK_PARTS.map((p) => p.status(config)));
}

/**
 * Brings every part up, reusing what answers. When a part fails, the parts this call
 * started are stopped again so nothing half-started is left running.
 */
export async function stackUp(
  config: PavedConfig,
  onPart: (s: PartStatus) => void = () => {},
): Promise<PartStatus[]> {
  const results: PartStatus[] = [];
  const startedNow: StackPart[] = [];
  try {
    for (const part of STACK_PARTS) {
      const before = await part.status(config);
      if (!before.healthy) startedNow.push(part);
      const after = before.healthy ? before : await part.up(config);
      results.push(after);
      onPart(after);
    }
    return results;
  } catch (err) {
    // down() stops only processes with our pid file, so a reused part is never touched.
    for (const part of startedNow.reverse()) await part.down(config);
    throw err;
  }
}

export async function stackDown(config: PavedConfig): Promise<Array<{ part: string; result: string }>> {
  const out: Array<{ part: string; result: string }> = [];
  for (const part of [...STACK_PARTS].reverse())
    out.push({ part: part.name, result: await part.down(config) });
  return out;
}
