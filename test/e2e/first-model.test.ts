import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { servingContainerName } from '../../src/domain/rollout.js';
import { paved, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { anyRollout, basePolicyDoc, looseLatency } from '../support/rollout-policy.js';

// A scientist's first model, as a new user runs it: their own table (generated
// here, never seen by the project), one input a sensitive attribute, no feature
// service, no live traffic. init --data, train, validate, release --wait, from a
// clean directory. The shipped policy's rollout (minimum traffic, 60 s bakes):
// a first release must not wait for callers nobody has yet.
const config = loadConfig();
const admin = PavedGatewayRouter.fromConfig(config);
const docker = dockerClient(config);
const suffix = randomUUID().slice(0, 6);
const work = mkdtempSync(path.join(os.tmpdir(), 'paved-first-'));

/** The shipped policy; latency out of reach (a busy CI machine) and a shadow window with 30+ rows per group. */
function policyFile(): string {
  const doc = basePolicyDoc();
  looseLatency(doc);
  anyRollout(doc);
  doc.shadow = { ...doc.shadow, rate: 20, duration: '10s', warmup: '1s' };
  const file = path.join(work, 'platform.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

const env = {
  PAVED_TASK_QUEUE: `e2e-first-${suffix}`,
  PAVED_USER: 'alice@example.com',
  PAVED_POLICY: policyFile(),
};
let worker: SpawnedWorker;

/**
 * Loan decisions for 1200 people: approval follows age and income; with `bias`,
 * it also follows sex (0.75 against 0.25 at the same age and income), and a
 * model that reads sex learns it.
 */
function loans(file: string, bias: boolean): void {
  let seed = bias ? 7 : 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows = ['age,income,sex,approved'];
  for (let i = 0; i < 1200; i++) {
    const sex = rand() < 0.5 ? 'female' : 'male';
    const age = 18 + Math.floor(rand() * 60);
    const income = Math.round((30 + rand() * 50) * 10) / 10;
    const merit = 0.04 * (age - 48) + 0.06 * (income - 55) + (rand() - 0.5) * 2;
    const approved = bias ? rand() < (sex === 'male' ? 0.75 : 0.25) : merit > 0;
    rows.push(`${age},${income},${sex},${approved ? 'yes' : 'no'}`);
  }
  writeFileSync(file, `${rows.join('\n')}\n`);
}

beforeAll(async () => {
  worker = await spawnWorker(env);
}, 120_000);

afterAll(async () => {
  await worker?.kill();
  for (const model of [`loans-${suffix}`, `loans-biased-${suffix}`]) {
    const route = await admin.route(model).catch(() => null);
    if (route?.stable)
      await docker
        .getContainer(servingContainerName(model, route.stable.version))
        .remove({ force: true })
        .catch(() => undefined);
    await admin.removeRoute(model).catch(() => undefined);
  }
});

describe("a scientist's own model, first time", () => {
  it('init --data, train, validate, release --wait: serves at 100 % with no traffic (exit 0)', async () => {
    const model = `loans-${suffix}`;
    loans(path.join(work, 'loans.csv'), false);
    const t0 = Date.now();
    const run = (args: string[]) => paved(args, env, 600_000, work);

    const init = await run([
      'init',
      'loans',
      '--name',
      model,
      '--data',
      'loans.csv',
      '--label',
      'approved',
      '--sensitive',
      'sex',
    ]);
    expect(init.code, init.stderr).toBe(0);
    const manifest = parse(readFileSync(path.join(work, 'loans', 'paved.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual([
      { name: 'age', dtype: 'int64' },
      { name: 'income', dtype: 'float64' },
      { name: 'sex', dtype: 'string' },
    ]);
    expect(manifest.fairness).toEqual({ sensitive: ['sex'] });
    const sample = readFileSync(path.join(work, 'loans', 'traffic-sample.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(sample).toHaveLength(300); // the held-out quarter
    expect(JSON.parse(sample[0]!)).toMatchObject({
      request: { inputs: expect.any(Array) },
      label: expect.any(Number),
    });
    expect(readFileSync(path.join(work, 'loans', 'README.md'), 'utf8')).toMatch(
      /paved train loans[\s\S]*paved validate loans[\s\S]*paved release loans --wait/,
    );

    const train = await run(['train', 'loans']);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/trained on \d+ rows; held-out accuracy 0\.\d+ on \d+ rows/);
    expect(train.stderr).toContain("python-sklearn's Python 3.11");

    const validate = await run(['validate', 'loans']);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);

    const release = await run(['release', 'loans', '--wait', '--version', 'v1']);
    const seconds = Math.round((Date.now() - t0) / 1000);
    console.log(`first model: paved init to 100 % in ${seconds} s\n${release.stderr}\n${release.stdout}`);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stdout).toContain(
      `released ${model}/v1: passed validate, containerize, bind, shadow, bias, rollout; first release, not judged on live traffic`,
    );
    // the bias gate ran on the sensitive input, with no feature service
    expect(release.stderr).toMatch(/bias: sex parity ratio \d\.\d\d on \d+ predictions/);
    expect(await admin.route(model)).toMatchObject({ stable: { version: 'v1' }, canary: null });
    const report = readFileSync(path.join(config.home, 'reports', model, 'v1', 'report.md'), 'utf8');
    expect(report).toContain('the replayed requests (model input sex)');
  }, 900_000);

  it('init --data names the column and the fix when the label is wrong, and leaves nothing behind', async () => {
    loans(path.join(work, 'typo.csv'), false);
    const run = (args: string[]) => paved(args, env, 600_000, work);
    const res = await run(['init', 'typo', '--name', 'typo', '--data', 'typo.csv', '--label', 'aproved']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'paved: --label aproved: the data has no such column (it has age, income, sex, approved). Fix: use one of them',
    );
    const many = await run(['init', 'typo', '--name', 'typo', '--data', 'typo.csv', '--label', 'age']);
    expect(many.stderr).toMatch(/--label age has \d+ distinct values .*Fix: give a column with two outcomes/);
    expect(existsSync(path.join(work, 'typo'))).toBe(false);
  }, 300_000);

  it('a model that learned its bias from a sensitive input stops at the bias gate (exit 2), naming the group', async () => {
    const model = `loans-biased-${suffix}`;
    loans(path.join(work, 'biased.csv'), true);
    const run = (args: string[]) => paved(args, env, 600_000, work);
    expect(
      (
        await run([
          'init',
          'biased',
          '--name',
          model,
          '--data',
          'biased.csv',
          '--label',
          'approved',
          '--sensitive',
          'sex',
        ])
      ).code,
    ).toBe(0);
    expect((await run(['train', 'biased'])).code).toBe(0);
    const release = await run(['release', 'biased', '--wait', '--version', 'v1']);
    expect(release.code, release.stderr).toBe(2);
    expect(release.stdout).toMatch(
      new RegExp(
        `^stopped ${model}/v1: Selection rate for sex=female is \\d\\.\\d+ against \\d\\.\\d+ for sex=male: demographic parity ratio \\d\\.\\d+, below the 0\\.80 minimum`,
      ),
    );
    expect(await admin.route(model)).toBeNull();
  }, 900_000);
});
