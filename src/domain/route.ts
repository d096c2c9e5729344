import { z } from 'zod';
import { MODEL_NAME, VERSION_PATTERN, VERSION_RULE } from './release.js';

/**
 * A model's route, in no data plane's terms: the stable version, an optional canary
 * with its weight, an optional shadow that receives copies, fault injection per
 * version, and where the sticky key comes from. Each version lists the endpoints its
 * replicas answer on. Weights are absolute, so setting a route twice is harmless.
 */

/** Model replicas answer on loopback TCP or on a unix socket; nothing else is reachable. */
export const EndpointSchema = z
  .string()
  .regex(
    /^(http:\/\/127\.0\.0\.1:\d{1,5}|unix:\/[^\0]+)$/,
    'must be http://127.0.0.1:<port> or unix:/<absolute socket path> (models are reached on this host only)',
  );
export type Endpoint = z.infer<typeof EndpointSchema>;

export { VERSION_PATTERN };
export const MODEL_NAME_PATTERN = MODEL_NAME;

export const BackendSchema = z.strictObject({
  version: z.string().regex(VERSION_PATTERN, `must be a release version (${VERSION_RULE})`),
  endpoints: z.array(EndpointSchema).min(1, 'must list at least one endpoint'),
});
export type Backend = z.infer<typeof BackendSchema>;

export const FaultSchema = z.strictObject({
  abortPercent: z.number().min(0).max(100).default(0),
  abortStatus: z.number().int().min(400).max(599).default(503),
  delayMs: z.number().int().min(0).max(60_000).default(0),
});
export type Fault = z.infer<typeof FaultSchema>;

export const ModelRouteSchema = z
  .strictObject({
    stable: BackendSchema.nullable().default(null),
    canary: BackendSchema.extend({ weight: z.number().min(0).max(100) })
      .nullable()
      .default(null),
    shadow: BackendSchema.extend({ percent: z.number().min(0).max(100) })
      .nullable()
      .default(null),
    faults: z.record(z.string(), FaultSchema).default({}),
    /** The V2 input whose first value keys sticky assignment (the entity key), when no x-paved-key header is sent. */
    stickyInput: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an input name')
      .nullable()
      .default(null),
  })
  .refine((r) => r.stable !== null || r.canary === null || r.canary.weight === 100, {
    message: 'a canary below 100 % needs a stable version to send the rest to',
    path: ['canary', 'weight'],
  });
export type ModelRoute = z.infer<typeof ModelRouteSchema>;

/**
 * A sealed model container's one door out: a socket in its own directory that
 * answers online reads of the features its release was bound to, for its entity key,
 * and refuses (and logs) anything else.
 */
export const FeatureDoorSchema = z.strictObject({
  /** The socket the data plane listens on, inside the directory mounted into the container. */
  socket: z.string().regex(/^\/[^\0]{1,100}$/, 'must be an absolute socket path of at most 100 characters'),
  /** Who uses the door, for the refusal log: model/version and role. */
  owner: z.string().min(1).max(200),
  service: z.string().min(1),
  entityKey: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an entity key name'),
  /** Full feature names (view__feature), as the binding lists them. */
  features: z
    .array(z.string().regex(/^[A-Za-z0-9_-]+__[A-Za-z0-9_]+$/, 'must be a full feature name, view__feature'))
    .min(1, 'must name at least one feature'),
});
export type FeatureDoor = z.infer<typeof FeatureDoorSchema>;

export const DOOR_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export const RouteTableSchema = z.strictObject({
  models: z.record(z.string().regex(MODEL_NAME_PATTERN), ModelRouteSchema).default({}),
  featureDoors: z.record(z.string().regex(DOOR_NAME_PATTERN), FeatureDoorSchema).default({}),
});
export type RouteTable = z.infer<typeof RouteTableSchema>;

/** Every version a route sends requests or copies to. */
export function routedVersions(route: ModelRoute): Backend[] {
  return [route.stable, route.canary, route.shadow].filter((b): b is Backend => b !== null);
}
