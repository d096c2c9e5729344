import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { packDirectory } from '../../src/adapters/package-store.js';
import { connectClient } from '../../src/adapters/temporal-connection.js';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ReleaseInput } from '../../src/domain/release.js';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { APPROVED_ONE_STEP_TRAIL, examplePackage, offPathPackage } from '../support/packages.js';
import { testKey } from '../support/signers.js';

// The CLI as CI and reviewers use it, against the real stack and a real worker process.
const env = { PAVED_TASK_QUEUE: `it-release-${randomUUID()}`, PAVED_USER: 'ci@example.com' };
let worker: SpawnedWorker;
beforeAll(async () => {
  worker = await spawnWorker(env);
});
afterAll(async () => {
  await worker?.kill();
});

const version = () => `it-${randomUUID().slice(0, 8)}`;
// The examples with a one-window rollout, so these tests are about the CLI, not the rollout.
const ARRESTS = examplePackage();
const PICKLE = examplePackage(() => {}, 'arrests-pickle');

async function waitForPendingReview(
  ref: string,
): Promise<Array<{ release: string; reasons: string[]; reviewers: string[] }>> {
  for (let i = 0; i < 60; i++) {
    const res = await paved(['reviews', '--json'], env);
    const rows = JSON.parse(res.stdout) as Array<{ release: string; reasons: string[]; reviewers: string[] }>;
    if (rows.some((r) => r.release === ref)) return rows;
    await sleep(500);
  }
  throw new Error(`${ref} never showed up in paved reviews`);
}

describe('paved release --wait', () => {
  it('releases examples/arrests: exit 0, one verdict line with the UI link', async () => {
    const v = version();
    const res = await paved(['release', ARRESTS, '--wait', '--version', v], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    expect(res.stdout).toMatch(
      new RegExp(
        `^released arrests/${v}: passed validate, containerize, bind, shadow, bias, rollout(; first release, not judged on live traffic)?; serves on \\d+ replicas?[ ,][^\\n]+ — http://127\\.0\\.0\\.1:8233/namespaces/default/workflows/release%2Farrests%2F${v}\\n$`,
      ),
    );
    expect(res.stderr).toContain('validate: golden path'); // progress lines, no spinner on a pipe
    expect(res.stderr).not.toMatch(/[⠋⠙⠹⠸]/);
  });

  it('stops at the gate with exit 2 and names the field', async () => {
    const dir = examplePackage((doc) => {
      doc.inputs = [];
    });
    const res = await paved(['release', dir, '--wait', '--version', version()], env);
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(
      /^stopped arrests\/it-\w+: paved.yaml is invalid: inputs: must list at least one model input\. Fix: /,
    );
  });

  it('the same id twice returns the same release, not a second one', async () => {
    const v = version();
    const dir = ARRESTS;
    const first = await paved(['release', dir, '--wait', '--version', v, '--json'], env);
    const second = await paved(['release', dir, '--wait', '--version', v, '--json'], env);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const client = await connectClient(loadConfig());
    try {
      const runs = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = "release/arrests/${v}"` }))
        runs.push(wf.runId);
      expect(runs).toHaveLength(1);
    } finally {
      await client.connection.close();
    }
  });

  it('refuses to reuse a version for different content, while the first runs and after it ended', async () => {
    const v = version();
    expect((await paved(['release', ARRESTS, '--version', v], env)).code).toBe(0);
    const changed = examplePackage((doc) => {
      doc.description = 'changed after release';
    });
    const res = await paved(['release', changed, '--version', v], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`arrests/${v} was already released from different content`);
    expect(res.stderr).toContain('Fix: release it under a new --version');
    expect((await paved(['status', `arrests/${v}`, '--watch'], env)).code).toBe(0);
    const after = await paved(['release', changed, '--version', v], env);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`arrests/${v} was already released from different content`);
  });

  it('the default version is the package digest prefix: same content, same release', async () => {
    const res = await paved(['release', ARRESTS, '--json'], env);
    const started = JSON.parse(res.stdout.split('\n')[0]!) as { version: string; workflowId: string };
    // The first 12 hex digits of the sha256 of the package as packed (deterministic: no
    // mtimes or owners), hashed here rather than taken from the CLI.
    const packed = createHash('sha256')
      .update(await packDirectory(ARRESTS))
      .digest('hex');
    expect(started.version).toBe(packed.slice(0, 12));
    // and the release was started with that package: its recorded input names the digest
    const client = await connectClient(loadConfig());
    try {
      const history = await client.workflow.getHandle(started.workflowId).fetchHistory();
      const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const input = defaultPayloadConverter.fromPayload<ReleaseInput>(payload);
      expect(input.package.digest).toBe(`sha256:${packed}`);
      expect(input.version).toBe(started.version);
    } finally {
      await client.connection.close();
    }
    const again = await paved(['release', ARRESTS, '--json'], env);
    expect(JSON.parse(again.stdout.split('\n')[0]!).workflowId).toBe(started.workflowId);
  });
});

describe('a review round-trip from two processes', () => {
  it('CI signs its request and waits; the owner, the author, an outsider, a forged and a keyless approve are refused; a reviewer signs: exit 0', async () => {
    const v = version();
    const ref = `arrests/${v}`;
    // The CI terminal: its own key, naming the commit's author.
    const ciEnv = { ...env, PAVED_SIGNING_KEY: testKey('ci@example.com') };
    const ci = pavedBackground(
      [
        'release',
        offPathPackage(),
        '--wait',
        '--json',
        '--version',
        v,
        '--sign',
        '--author',
        'carol@example.com',
      ],
      ciEnv,
    );
    const rows = await waitForPendingReview(ref);
    expect(rows.find((r) => r.release === ref)).toMatchObject({
      reasons: ['torch is not an approved library'],
      reviewers: ['bob@example.com', 'carol@example.com'],
    });
    const table = await paved(['reviews'], env);
    expect(table.stdout).toMatch(
      new RegExp(
        `${ref}\\s+alice@example.com\\s+bob@example.com,carol@example.com\\s+72h\\s+torch is not an approved library`,
      ),
    );

    // The reviewers' terminal: each person signs with their own key (test/support/cli.ts).
    const refusals = {
      owner: await paved(['approve', ref, '--as', 'alice@example.com'], env),
      author: await paved(['approve', ref, '--as', 'carol@example.com'], env),
      outsider: await paved(['approve', ref], { ...env, PAVED_USER: 'eve@example.com' }),
      forged: await paved(
        ['approve', ref, '--as', 'bob@example.com', '--key', testKey('eve@example.com')],
        env,
      ),
      keyless: await paved(
        ['approve', ref, '--as', 'bob@example.com', '--key', '/nonexistent/id_ed25519'],
        env,
      ),
    };
    for (const [what, r] of Object.entries(refusals)) {
      console.log(`refused (${what}): ${r.stderr.trim()}`);
      expect(r.code, what).toBe(1);
    }
    expect(refusals.owner.stderr).toContain(
      'review refused: alice@example.com owns this model and cannot review their own release',
    );
    expect(refusals.author.stderr).toContain(
      'review refused: carol@example.com wrote this package (the signed release request names them) and cannot review it',
    );
    expect(refusals.outsider.stderr).toContain(
      'review refused: eve@example.com is not a reviewer for team risk',
    );
    expect(refusals.forged.stderr).toContain(
      "review refused: the signature is not bob@example.com's signature of this decision",
    );
    expect(refusals.keyless.stderr).toContain('signing key /nonexistent/id_ed25519 does not exist');

    const ok = await paved(['approve', ref, '--as', 'bob@example.com', '-m', 'torch pinned, reviewed'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      new RegExp(`^${ref}: approved by bob@example.com at \\d{4}-.*, signed with SHA256:`),
    );
    const again = await paved(['approve', ref, '--as', 'bob@example.com'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(ok.stdout);

    const result = await ci.done;
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; outcome?: { status: string } });
    expect(events.map((e) => e.event)).toEqual([
      'started',
      'stage',
      'stage',
      'stage',
      'review-pending',
      'stage',
      'stage',
      'stage',
      'stage',
      'done',
    ]);
    expect(events.at(-1)!.outcome!.status).toBe('released');

    const audit = await paved(['audit', ref, '--json'], env);
    const entries = JSON.parse(audit.stdout) as Array<{ actor: string; action: string; reason?: string }>;
    const [applied, refused] = [
      entries.filter((e) => !e.action.endsWith('refused') && e.action !== 'release request signed'),
      entries.filter((e) => e.action.endsWith('refused')),
    ];
    expect(applied.map((e) => e.action)).toEqual(APPROVED_ONE_STEP_TRAIL);
    expect(entries.find((e) => e.action === 'release request signed')).toMatchObject({
      actor: 'ci@example.com',
      reason: expect.stringContaining('for the commit of carol@example.com'),
    });
    expect(refused.map((e) => e.actor)).toEqual([
      'alice@example.com',
      'carol@example.com',
      'eve@example.com',
      'bob@example.com',
    ]);
    expect(applied[5]).toMatchObject({
      actor: 'bob@example.com',
      reason: expect.stringMatching(/^torch pinned, reviewed; signed with SHA256:\S+ at /),
    });
  });

  it('examples/arrests-pickle waits for review because its artifact is a pickle', async () => {
    const v = version();
    const ci = pavedBackground(['release', PICKLE, '--wait', '--version', v], env);
    const rows = await waitForPendingReview(`arrests-pickle/${v}`);
    expect(rows.find((r) => r.release === `arrests-pickle/${v}`)!.reasons).toEqual([
      'pickle artifact is off the golden path',
    ]);
    await paved(
      ['reject', `arrests-pickle/${v}`, '--as', 'bob@example.com', '-m', 'save it with skops'],
      env,
    );
    expect((await ci.done).code).toBe(3);
  });

  it('a reject ends CI with exit 3', async () => {
    const v = version();
    const ci = pavedBackground(['release', offPathPackage(), '--wait', '--version', v], env);
    await waitForPendingReview(`arrests/${v}`);
    const no = await paved(
      ['reject', `arrests/${v}`, '--as', 'carol@example.com', '-m', 'no torch in risk models'],
      env,
    );
    expect(no.code).toBe(0);
    const result = await ci.done;
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('rejected by carol@example.com: no torch in risk models');
  });

  it('status shows where a release stands', async () => {
    const v = version();
    await paved(['release', ARRESTS, '--wait', '--version', v], env);
    const one = await paved(['status', `arrests/${v}`, '--json'], env);
    expect(JSON.parse(one.stdout)).toMatchObject({
      model: 'arrests',
      version: v,
      stage: 'done',
      outcome: { status: 'released' },
    });
    const list = await paved(['status', 'arrests'], env);
    expect(list.stdout).toMatch(new RegExp(`arrests/${v}\\s+COMPLETED\\s+released`));
  });
});
