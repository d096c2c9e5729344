import { isPickleSafe, scanPickle } from './pickle-scan.js';
import type { PickleScanner } from './validate.js';

/** The platform's pickle rule: every global on the policy's exact-name allow-list. */
export const scanPickleArtifact: PickleScanner = (bytes, allow) => {
  const r = scanPickle(bytes, allow);
  return { safe: isPickleSafe(r), disallowed: r.disallowed, error: r.error };
};
