import { z } from 'zod';

/**
 * The gateway's route table: per model, the stable version, an optional canary
 * with its weight, an optional shadow that receives copies, and fault injection
 * per version. Weights are absolute, so setting a route twice is harmless.
 */
const loopbackUrl = z
  .string()
  .regex(/^http:\/\/127\.0\.0\.1:\d{1,5}$/, 'must be http://127.0.0.1:<port> (backends are on loopback)');

export const BackendSchema = z.strictObject({ version: z.string().min(1), url: loopbackUrl });
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
    stickyInput: z.string().min(1).nullable().default(null),
  })
  .refine((r) => r.stable !== null || r.canary === null || r.canary.weight === 100, {
    message: 'a canary below 100 % needs a stable version to send the rest to',
    path: ['canary', 'weight'],
  });
export type ModelRoute = z.infer<typeof ModelRouteSchema>;

export const RouteTableSchema = z.strictObject({
  models: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/), ModelRouteSchema).default({}),
});
export type RouteTable = z.infer<typeof RouteTableSchema>;
