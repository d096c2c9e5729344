import { templateArtifacts } from '../../src/adapters/template-catalog.js';
import { stringify } from 'yaml';
import { parsePolicy, type Policy } from '../../src/domain/policy.js';
import type { PackageRef, ReleaseInput, StageOutcome } from '../../src/domain/release.js';
import { signerLine } from './signers.js';
import { assessPackage, validateOutcome, type ValidateOutput } from '../../src/domain/validate.js';

export const TEST_POLICY: Policy = (() => {
  const p = parsePolicy({
    templates: ['python-sklearn'],
    approved_libraries: { 'scikit-learn': '>=1.6 <2', numpy: '>=1.26 <3' },
    teams: {
      risk: {
        reviewers: ['bob@example.com', 'carol@example.com'],
        operators: ['ops@example.com'],
        signers: ['bob@example.com', 'carol@example.com', 'ops@example.com', 'ci@example.com'].map(
          signerLine,
        ),
      },
    },
    review: { deadline: '72h' },
    budgets: { p50_ms: 100, p99_ms: 200, error_rate: 0.01 },
    rollout: { steps: [5, 25, 50, 100], bake: '60s' },
  });
  if (!p.ok) throw new Error(JSON.stringify(p.findings));
  return p.policy;
})();

export function manifestDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'arrests',
    owner: 'alice@example.com',
    team: 'risk',
    template: 'python-sklearn',
    artifact: 'model.skops',
    requirements: ['scikit-learn==1.9.1', 'numpy==2.2.6'],
    inputs: [{ name: 'age', dtype: 'float32' }],
    ...overrides,
  };
}

export const PACKAGE: PackageRef = { digest: `sha256:${'ab'.repeat(32)}`, uri: 'file:///store/pkg.tar.gz' };

export function releaseInput(model = 'arrests', version = 'v1'): ReleaseInput {
  return { model, version, package: PACKAGE, requestedBy: 'ci@example.com' };
}

/** What the real validate activity would answer for this paved.yaml, computed by the same pure code. */
export function validated(
  doc: Record<string, unknown>,
  policy: Policy = TEST_POLICY,
  model = 'arrests',
): StageOutcome<ValidateOutput> {
  const inspection = {
    entries: [
      { path: 'model.skops', type: 'File', size: 3000 },
      { path: 'paved.yaml', type: 'File', size: 400 },
    ],
    manifestText: stringify(doc),
    modelPy: undefined,
    artifactBytes: undefined,
  };
  const scanPickle = () => {
    throw new Error('these fixtures use skops artifacts');
  };
  return validateOutcome(
    PACKAGE.digest,
    assessPackage(inspection, policy, { expectedModel: model, scanPickle, templates: templateArtifacts() }),
  );
}
