import type { ReleaseInput } from '../../domain/release.js';

/** What every stage sees: the release input. Stage outputs flow through the pipeline. */
export interface StageContext {
  input: ReleaseInput;
}
