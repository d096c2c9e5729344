import { DEFAULT_PICKLE_ALLOW, isPickleSafe, scanPickle } from './pickle-scan.js';
import type { PickleScanner } from './validate.js';

/** The platform's pickle rule: only the default allow-list of scikit-learn/numpy types. */
export const scanPickleArtifact: PickleScanner = (bytes) => {
  const r = scanPickle(bytes, DEFAULT_PICKLE_ALLOW);
  return { safe: isPickleSafe(r), disallowed: r.disallowed, error: r.error };
};
