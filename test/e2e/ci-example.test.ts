import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../src/adapters/project.js';
import { spawnWorker, type CliResult, type SpawnedWorker } from '../support/cli.js';
import { examplePackage } from '../support/packages.js';
import { noTrafficPolicy } from '../support/rollout-policy.js';

// examples/ci/release.sh as a CI job runs it: bash, npx paved, GitHub Actions
// annotations, and the job's exit code is paved's.
// The job validates locally before it releases: it reads the same test policy as the
// worker (test packages roll out in one short step, under the shipped floor).
const env = {
  PAVED_TASK_QUEUE: `e2e-ci-${randomUUID()}`,
  PAVED_USER: 'ci@example.com',
  GITHUB_ACTIONS: 'true',
  PAVED_POLICY: noTrafficPolicy(),
};
let worker: SpawnedWorker;
beforeAll(async () => {
  worker = await spawnWorker(env);
}, 120_000);
afterAll(async () => {
  await worker?.kill();
});

function ciStep(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [projectPath('examples', 'ci', 'release.sh'), ...args], {
      cwd: projectPath(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the example CI step', () => {
  it('a released package passes the job (exit 0) with a notice', async () => {
    const version = `ci-${randomUUID().slice(0, 8)}`;
    const res = await ciStep([examplePackage(), '--version', version]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^::notice::released arrests/${version}: passed validate, `, 'm'));
  }, 600_000);

  it('a package the validate stage refuses fails the job with exit 2 before anything is released', async () => {
    const dir = examplePackage((doc) => {
      doc.inputs = [];
    });
    const res = await ciStep([dir]);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain('inputs: must list at least one model input');
    expect(res.stdout).toContain(
      `::error::paved validate refused ${dir}; fix the findings above before releasing`,
    );
    expect(res.stdout).not.toContain('released');
  }, 120_000);

  it('a release stopped by a gate fails the job with exit 2 and the reason', async () => {
    // validate passes, bind stops it: the model reads a feature service that does not exist
    const dir = examplePackage((doc) => {
      doc.features = { service: 'no_such_service' };
    });
    const res = await ciStep([dir, '--version', `ci-${randomUUID().slice(0, 8)}`]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toMatch(/^::error::stopped by a gate: stopped arrests\/ci-\w+: .*no_such_service/m);
  }, 600_000);
});
