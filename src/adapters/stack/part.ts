import type { PavedConfig } from '../../domain/config.js';

export type PartName =
  'docker' | 'registry' | 'temporal' | 'base-image' | 'feature-store' | 'envoy' | 'gateway';

export interface PartStatus {
  part: PartName;
  address: string;
  version: string | null;
  healthy: boolean;
  /** true when paved started it (and `stack down` will stop it). */
  managed: boolean;
  detail: string;
}

/** One piece of the local stack. `up` is idempotent: reuse what answers, start what is missing. */
export interface StackPart {
  readonly name: PartName;
  /** The process `up` starts, by its pid-file name; absent for parts that are not a process. */
  readonly daemon?: string;
  status(config: PavedConfig): Promise<PartStatus>;
  up(config: PavedConfig): Promise<PartStatus>;
  /** Stops it only if paved started it; returns what it did. */
  down(config: PavedConfig): Promise<string>;
}
