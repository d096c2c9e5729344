import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.js';
import { signDecision } from '../../src/cli/signing.js';
import type { ReleaseInput } from '../../src/domain/release.js';
import {
  auditQuery,
  decisionSignal,
  promoteUpdate,
  reviewUpdate,
  stateQuery,
} from '../../src/workflows/definitions.js';
import type { release } from '../../src/workflows/release.js';
import { decide, signedFor } from '../support/decisions.js';
import { manifestDoc, releaseInput, validated } from '../support/release-fixtures.js';
import { afterStableV0, mocks as releaseMocks } from '../support/release-mocks.js';
import { ReleaseHarness } from '../support/release-worker.js';
import { testKey } from '../support/signers.js';

// Every decision here is signed with a real SSH key made for the test identity and
// checked by the real verifyDecision activity (ssh-keygen), on the stack's dev server.
let h: ReleaseHarness;
beforeAll(async () => {
  h = await ReleaseHarness.create();
});
afterAll(async () => {
  await h?.close();
});

const OFF_PATH = manifestDoc({ requirements: ['scikit-learn==1.9.1', 'torch==2.4.0'] });
const mocks = (doc = OFF_PATH) => releaseMocks(() => h.client, validated(doc), true);

let seq = 0;
async function start(tq: string, change: Partial<ReleaseInput> = {}) {
  seq += 1;
  const input = { ...releaseInput('arrests', `s${Date.now()}-${seq}`), ...change };
  return h.client.workflow.start<typeof release>('release', {
    taskQueue: tq,
    workflowId: `release/${input.model}/${input.version}`,
    args: [input],
  });
}

async function until(
  handle: WorkflowHandle,
  what: string,
  ok: (s: Awaited<ReturnType<typeof state>>) => boolean,
) {
  for (let i = 0; i < 200; i++) {
    const s = await state(handle);
    if (ok(s)) return s;
    await sleep(50);
  }
  throw new Error(`${what} never happened`);
}
const state = (handle: WorkflowHandle) => handle.query(stateQuery);
const pending = (handle: WorkflowHandle) =>
  until(handle, 'a pending review', (s) => s.pendingReview !== null);

/** The refusal the Update came back with. */
async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause?.message;
}

const refusedIn = (trail: AuditEntry[]) =>
  trail.filter((e) => e.action.endsWith('refused')).map((e) => `${e.actor}: ${e.action}: ${e.reason}`);

describe('signed decisions', () => {
  it('refuses a forged, an unsigned, an expired and a misdirected approve, each in the audit; a signed one lands', async () => {
    const m = mocks();
    const { refusals, trail, result, other } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      const other = await start(tq);
      await pending(handle);
      await pending(other);
      const send = (signed: Awaited<ReturnType<typeof signedFor>>) =>
        refusal(handle.executeUpdate(reviewUpdate, { args: [signed] }));
      const refusals = {
        // bob's name, eve's key
        forged: await send(
          await signedFor(handle, 'approve', 'bob@example.com', { key: testKey('eve@example.com') }),
        ),
        // a signed text whose signature was dropped
        unsigned: await send({ ...(await signedFor(handle, 'approve', 'bob@example.com')), signature: '' }),
        // a text changed after signing: the comment added by someone else
        tampered: await send(
          await signedFor(handle, 'approve', 'bob@example.com').then((s) => ({
            ...s,
            text: s.text.replace(/\n$/, '\ncomment: lgtm\n'),
          })),
        ),
        expired: await send(
          await signedFor(handle, 'approve', 'bob@example.com', {
            at: new Date(Date.now() - 20 * 60_000).toISOString(),
          }),
        ),
        // bob's real approval of the other release, replayed onto this one
        elsewhere: await send(await signedFor(other, 'approve', 'bob@example.com')),
      };
      expect((await state(handle)).pendingReview).not.toBeNull();
      const ok = await decide(handle, 'approve', 'bob@example.com', 'torch reviewed');
      expect(ok).toMatchObject({
        decision: 'approve',
        reviewer: 'bob@example.com',
        key: expect.stringMatching(/^SHA256:/),
      });
      await decide(other, 'reject', 'carol@example.com');
      m.releaseExport!();
      return {
        refusals,
        trail: await handle.query(auditQuery),
        result: await handle.result(),
        other: other.workflowId.split('/')[2]!,
      };
    });
    expect(refusals.forged).toMatch(/^the signature is not bob@example\.com's signature of this decision/);
    expect(refusals.unsigned).toBe(
      'the decision is not signed: `paved approve/reject/promote` sign it with your SSH key (--key, ssh-agent or git user.signingkey)',
    );
    expect(refusals.tampered).toMatch(/^the signature is not bob@example\.com's signature of this decision/);
    expect(refusals.expired).toMatch(
      /^this decision was signed at .*, more than 15m ago: a signed decision is good for 15m; sign it again$/,
    );
    expect(refusals.elsewhere).toMatch(
      new RegExp(`^this decision is signed for arrests/${other}, not arrests/s`),
    );
    expect(refusedIn(trail)).toHaveLength(5);
    expect(refusedIn(trail).every((line) => line.startsWith('bob@example.com: review refused: '))).toBe(true);
    expect(result.status).toBe('released');
    expect(trail.filter((e) => e.action === 'review approved')).toHaveLength(1);
  });

  it('a signed approve used twice counts once, and an approve for round 1 does not answer round 2', async () => {
    const m = mocks();
    afterStableV0(m, 100, { inconclusiveMs: 200 });
    const { replayed, again, result } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await pending(handle);
      const first = await signedFor(handle, 'approve', 'bob@example.com');
      await handle.executeUpdate(reviewUpdate, { args: [first] });
      // The same signed text again, as a retry: the decision on record, no second entry.
      const again = await handle.executeUpdate(reviewUpdate, { args: [first] });
      // Round 2: the inconclusive step asks again; round 1's signature is replayed.
      await until(handle, 'round 2', (s) => s.pendingReview?.round === 2);
      const replayed = await refusal(handle.executeUpdate(reviewUpdate, { args: [first] }));
      await decide(handle, 'approve', 'bob@example.com');
      m.releaseExport!();
      return { replayed, again, result: await handle.result() };
    });
    expect(again).toMatchObject({ decision: 'approve', round: 1 });
    expect(replayed).toBe(
      'this decision answers review round 1, but the pending review is round 2: sign again for the current round',
    );
    expect(result.status).toBe('released');
  });

  it('a CI-signed request keeps the commit author and the signer from approving; the manifest owner cannot be spoofed around it', async () => {
    // alice wrote the package but names someone else as owner; CI signs the request for her commit.
    const m = mocks(manifestDoc({ owner: 'someone-else@example.com', requirements: OFF_PATH.requirements }));
    const { byAuthor, bySigner, trail } = await h.run(m.activities, async (tq) => {
      const version = `r${Date.now()}`;
      const base = releaseInput('arrests', version);
      const request = await signDecision(
        {
          action: 'release',
          model: 'arrests',
          version,
          package: base.package.digest,
          signer: 'ci@example.com',
          author: 'carol@example.com',
        },
        testKey('ci@example.com'),
      );
      const handle = await start(tq, { version, requestedBy: 'ci@example.com', request });
      await pending(handle);
      const byAuthor = await refusal(decide(handle, 'approve', 'carol@example.com'));
      const bySigner = await refusal(decide(handle, 'approve', 'ci@example.com'));
      await decide(handle, 'approve', 'bob@example.com');
      m.releaseExport!();
      await handle.result();
      return { byAuthor, bySigner, trail: await handle.query(auditQuery) };
    });
    expect(byAuthor).toBe(
      'carol@example.com wrote this package (the signed release request names them) and cannot review it',
    );
    expect(bySigner).toMatch(
      /^ci@example\.com (started this release and cannot review it|is not a reviewer)/,
    );
    expect(trail.find((e) => e.action === 'release request signed')).toMatchObject({
      actor: 'ci@example.com',
      reason: expect.stringMatching(/^signed with SHA256:\S+, for the commit of carol@example\.com$/),
    });
  });

  it('a forged release request stops the release at validate (exit 2), saying so', async () => {
    const m = mocks(manifestDoc());
    const result = await h.run(m.activities, async (tq) => {
      const version = `f${Date.now()}`;
      const request = await signDecision(
        {
          action: 'release',
          model: 'arrests',
          version,
          package: releaseInput().package.digest,
          signer: 'ci@example.com',
        },
        testKey('eve@example.com'),
      );
      const handle = await start(tq, { version, request });
      m.releaseExport!();
      return handle.result();
    });
    expect(result).toMatchObject({ status: 'stopped', exitCode: 2, stage: 'validate' });
    expect(result.reason).toMatch(
      /^the signed release request does not hold: the signature is not ci@example\.com's signature/,
    );
  });

  it('promote needs an operator of the team, signed; pause from someone the team does not list is refused', async () => {
    const m = mocks(manifestDoc());
    afterStableV0(m, 60_000);
    const { byReviewer, byOps, trail, result } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await until(handle, 'the 5 % bake', (s) => s.rollout?.phase === 'judging');
      await handle.signal('rolloutControl', { action: 'pause', actor: 'mallory@example.com' });
      const byReviewer = await refusal(
        handle.executeUpdate(promoteUpdate, {
          args: [await signedFor(handle, 'promote', 'bob@example.com')],
        }),
      );
      const byOps = await handle.executeUpdate(promoteUpdate, {
        args: [await signedFor(handle, 'promote', 'ops@example.com', { comment: 'enough data' })],
      });
      m.releaseExport!();
      return { byReviewer, byOps, result: await handle.result(), trail: await handle.query(auditQuery) };
    });
    expect(byReviewer).toBe(
      'bob@example.com is not an operator of team risk: promote needs one of ops@example.com',
    );
    expect(byOps).toBe('promoted by ops@example.com');
    expect(result.status).toBe('released');
    expect(result.reason).toContain('passed');
    expect(refusedIn(trail)).toEqual([
      'mallory@example.com: rollout pause refused: mallory@example.com is not listed for team risk: pause, resume and abort are open to its reviewers and operators',
      'bob@example.com: rollout promote refused: bob@example.com is not an operator of team risk: promote needs one of ops@example.com',
    ]);
    expect(trail.find((e) => e.action === 'rollout promote')).toMatchObject({
      actor: 'ops@example.com',
      reason: expect.stringMatching(/^signed with SHA256:\S+: enough data$/),
    });
  });

  it('the Temporal UI path: a signed decision sent as a Signal is checked the same way', async () => {
    const m = mocks();
    const { trail, result } = await h.run(m.activities, async (tq) => {
      const handle = await start(tq);
      await pending(handle);
      // A forged one first: refused in the audit, the review still waits.
      await handle.signal(
        decisionSignal,
        await signedFor(handle, 'approve', 'bob@example.com', { key: testKey('eve@example.com') }),
      );
      // Not a signed decision at all: what a hand-typed {"decision": "approve"} would be.
      await handle.signal(decisionSignal, { decision: 'approve' } as never);
      for (let i = 0; i < 100 && refusedIn(await handle.query(auditQuery)).length < 2; i++) await sleep(50);
      expect((await state(handle)).pendingReview).not.toBeNull();
      await handle.signal(
        decisionSignal,
        await signedFor(handle, 'approve', 'carol@example.com', { comment: 'from the UI' }),
      );
      m.releaseExport!();
      return { result: await handle.result(), trail: await handle.query(auditQuery) };
    });
    // The unshaped one is refused at once; the forged one after its signature check.
    expect(refusedIn(trail).sort()).toEqual([
      "bob@example.com: review refused: the signature is not bob@example.com's signature of this decision",
      'unknown: decision refused: a signed decision carries its text (at most 4 KiB) under "text"',
    ]);
    expect(trail.find((e) => e.action === 'review approved')).toMatchObject({
      actor: 'carol@example.com',
      reason: expect.stringMatching(/^from the UI; signed with SHA256:/),
    });
    expect(result.status).toBe('released');
  });
});
