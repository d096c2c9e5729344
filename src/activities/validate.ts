import { ApplicationFailure } from '@temporalio/common';
import { inspectPackage } from '../adapters/package-inspector.js';
import type { PackageStore } from '../adapters/package-store.js';
import type { TemplateArtifacts } from '../domain/package-checks.js';
import type { Policy } from '../domain/policy.js';
import type { PackageRef, StageOutcome } from '../domain/release.js';
import {
  nothingKnown,
  assessPackage,
  validateOutcome,
  type PickleScanner,
  type ValidateOutput,
} from '../domain/validate.js';
import { readPolicy } from './policy.js';
import { FAILURE } from '../domain/errors.js';

export interface ValidateActivities {
  validatePackage(input: { model: string; package: PackageRef }): Promise<StageOutcome<ValidateOutput>>;
}

export function createValidateActivities(deps: {
  store: PackageStore;
  policy: () => Policy;
  scanPickle: PickleScanner;
  /** What each template serves, by suffix (template.yaml artifacts). */
  templates: () => Record<string, TemplateArtifacts>;
}): ValidateActivities {
  return {
    /** Reads the package from the store (never the client's directory) and applies every check. */
    async validatePackage({ model, package: ref }) {
      let tarball: string;
      try {
        tarball = await deps.store.fetch(ref);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, FAILURE.packageUnavailable);
      }
      const policy = readPolicy(deps.policy);
      let inspection;
      try {
        inspection = await inspectPackage(tarball, policy.packages);
      } catch (err) {
        // A tarball that does not parse is the package's fault; anything else (disk,
        // descriptors, a bug) is retried as an ordinary activity failure.
        const code = String((err as { code?: unknown }).code ?? '');
        if (!code.startsWith('TAR_') && !code.startsWith('Z_')) throw err;
        return validateOutcome(ref.digest, {
          ...nothingKnown(),
          reviewReasons: [],
          refusals: [
            {
              code: 'invalid-archive',
              field: '(package)',
              message: `the package is not a readable tar.gz (${(err as Error).message})`,
              fix: 'release the directory with `paved release`, which packs it',
            },
          ],
        });
      }
      return validateOutcome(
        ref.digest,
        assessPackage(inspection, policy, {
          expectedModel: model,
          scanPickle: deps.scanPickle,
          templates: deps.templates(),
        }),
      );
    },
  };
}
