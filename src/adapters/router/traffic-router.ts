import type { WindowStats } from '../../domain/rollout.js';
import type { ModelRoute } from '../../domain/route.js';

/**
 * How releases steer live traffic, whatever carries it: the workflow's activities,
 * the shadow stage and the CLI know only this. paved's own gateway (a control plane
 * in front of Envoy) is the local implementation; a Kubernetes Gateway API one would
 * sit beside it.
 */
export interface TrafficRouter {
  /** Sets a model's whole route; resolves once the data plane serves it, with the route as applied. */
  setRoute(model: string, route: Partial<ModelRoute>): Promise<ModelRoute>;
  /** The route the data plane was last given for the model, or null. */
  route(model: string): Promise<ModelRoute | null>;
  removeRoute(model: string): Promise<void>;
  /** Every model's route, by model: what the janitor judges. */
  listRoutes(): Promise<Record<string, ModelRoute>>;
  /** Requests, errors and latency per routed version over the last windowMs. */
  stats(model: string, windowMs: number): Promise<Record<string, WindowStats>>;
  /** The model's captured live requests: files in the traffic format, older first. */
  capturedTraffic(model: string): Promise<string[]>;
}
