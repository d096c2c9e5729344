import { ApplicationFailure } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import type { PackageStore } from '../adapters/package-store.js';
import { readFileFromPackage } from '../adapters/package-store.js';
import { parseManifest } from '../domain/manifest.js';
import { decidePath, type Policy } from '../domain/policy.js';
import type { PackageRef, StageOutcome } from '../domain/release.js';
import { validateOutcome, type ValidateOutput } from '../domain/validate.js';

export interface ValidateActivities {
  validatePackage(input: { model: string; package: PackageRef }): Promise<StageOutcome<ValidateOutput>>;
}

export function createValidateActivities(deps: {
  store: PackageStore;
  policy: () => Policy;
}): ValidateActivities {
  return {
    async validatePackage({ model, package: ref }) {
      let tarball: string;
      try {
        tarball = await deps.store.fetch(ref);
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'PackageUnavailable');
      }
      let policy: Policy;
      try {
        policy = deps.policy();
      } catch (err) {
        throw ApplicationFailure.nonRetryable((err as Error).message, 'PolicyInvalid');
      }
      const raw = await readFileFromPackage(tarball, 'paved.yaml');
      if (!raw) {
        return validateOutcome(
          ref.digest,
          model,
          {
            findings: [
              {
                code: 'missing-manifest',
                field: 'paved.yaml',
                message: 'the package has no paved.yaml at its root',
                fix: 'run `paved init` or copy examples/arrests/paved.yaml',
              },
            ],
          },
          (m) => decidePath(m, policy),
        );
      }
      let data: unknown;
      try {
        data = parseYaml(raw.toString('utf8'));
      } catch (err) {
        return validateOutcome(
          ref.digest,
          model,
          {
            findings: [
              {
                code: 'invalid-yaml',
                field: 'paved.yaml',
                message: `is not valid YAML (${(err as Error).message.split('\n')[0]})`,
                fix: 'correct the YAML syntax',
              },
            ],
          },
          (m) => decidePath(m, policy),
        );
      }
      const result = parseManifest(data);
      return validateOutcome(
        ref.digest,
        model,
        result.ok ? { manifest: result.manifest } : { findings: result.findings },
        (m) => decidePath(m, policy),
      );
    },
  };
}
