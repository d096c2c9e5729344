import type { FeatureDoor } from '../../domain/route.js';

/**
 * Doors out of sealed model containers: each a socket that reads only the features
 * the release was bound to. The data plane keeps them, beside the routes.
 */
export interface FeatureProxy {
  /** Resolves once the door's socket answers. */
  openFeatureDoor(name: string, door: FeatureDoor): Promise<void>;
  closeFeatureDoor(name: string): Promise<void>;
}
