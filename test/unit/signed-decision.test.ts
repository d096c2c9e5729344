import { describe, expect, it } from 'vitest';
import {
  claimKey,
  controlRefusal,
  decisionRefusal,
  decisionShapeProblem,
  decisionText,
  looksArmored,
  parseDecisionText,
  type DecisionClaim,
  type DecisionContext,
  type Deciders,
} from '../../src/domain/signed-decision.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const claim = (over: Partial<DecisionClaim> = {}): DecisionClaim => ({
  action: 'approve',
  model: 'arrests',
  version: 'v1',
  package: DIGEST,
  round: 1,
  signer: 'bob@example.com',
  at: '2026-12-07T09:58:00.000Z',
  ...over,
});
const deciders: Deciders = {
  team: 'risk',
  reviewers: ['bob@example.com', 'carol@example.com', 'alice@example.com'],
  operators: ['ops@example.com'],
  owner: 'alice@example.com',
  requestedBy: 'ci@example.com',
};
const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({
  model: 'arrests',
  version: 'v1',
  digest: DIGEST,
  expected: ['approve', 'reject'],
  round: 1,
  now: NOW,
  signedWithin: '15m',
  deciders,
  used: [],
  ...over,
});

describe('the signed text', () => {
  it('round-trips every field, the comment folded onto one line', () => {
    const c = claim({ comment: 'torch pinned,\n  reviewed' });
    const text = decisionText(c);
    expect(text).toBe(
      [
        'paved decision v1',
        'action: approve',
        'release: arrests/v1',
        `package: ${DIGEST}`,
        'round: 1',
        'signer: bob@example.com',
        'at: 2026-12-07T09:58:00.000Z',
        'comment: torch pinned, reviewed',
        '',
      ].join('\n'),
    );
    expect(parseDecisionText(text)).toEqual({ claim: { ...c, comment: 'torch pinned, reviewed' } });
  });
  it('carries the commit author in a release request', () => {
    const c = claim({
      action: 'release',
      round: undefined,
      signer: 'ci@example.com',
      author: 'alice@example.com',
    });
    delete c.round;
    expect(parseDecisionText(decisionText(c))).toEqual({ claim: c });
  });
  it.each([
    ['a foreign header', 'hello\naction: approve\n', 'a signed decision starts with'],
    ['an unknown field', `${decisionText(claim())}extra: 1\n`, '"extra" is not a field of a decision'],
    [
      'a repeated field',
      decisionText(claim()).replace('round: 1', 'round: 1\nround: 2'),
      '"round" is given twice',
    ],
    [
      'an unknown action',
      decisionText(claim()).replace('action: approve', 'action: merge'),
      'action must be one of',
    ],
    ['a bad digest', decisionText(claim()).replace(DIGEST, 'sha256:zz'), 'package must be the sha256'],
    [
      'an approve without its round',
      decisionText(claim()).replace('round: 1\n', ''),
      'names its review round',
    ],
    ['a promote with a round', decisionText(claim({ action: 'promote' })), 'names its review round'],
    [
      'a bad time',
      decisionText(claim()).replace(/at: .*/, 'at: yesterday'),
      'at must be the time of signing',
    ],
  ])('refuses %s', (_, text, problem) => {
    expect(parseDecisionText(text)).toEqual({ problem: expect.stringContaining(problem) });
  });
  it('knows a payload that is no signed decision at all', () => {
    expect(decisionShapeProblem({ decision: 'approve', reviewer: 'bob@example.com' })).toContain('"text"');
    expect(decisionShapeProblem('approve')).toContain('send a signed decision');
    expect(decisionShapeProblem({ text: 'x', signature: 5 })).toContain('"signature"');
    expect(decisionShapeProblem({ text: 'x' })).toBeUndefined();
    expect(looksArmored('-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----\n')).toBe(true);
    expect(looksArmored('trust me')).toBe(false);
  });
});

describe('who may decide, and when', () => {
  it('lets a listed reviewer approve within the window', () => {
    expect(decisionRefusal(claim(), ctx())).toBeUndefined();
    expect(decisionRefusal(claim({ signer: 'Carol@Example.com' }), ctx())).toBeUndefined();
  });
  it('binds the decision to its release, package and round', () => {
    expect(decisionRefusal(claim({ version: 'v2' }), ctx())).toBe(
      'this decision is signed for arrests/v2, not arrests/v1: sign one for arrests/v1',
    );
    expect(decisionRefusal(claim({ package: `sha256:${'cd'.repeat(32)}` }), ctx())).toContain(
      'this decision is signed for package sha256:cdcdcdcdcdcd…, but arrests/v1 ships sha256:abababababab…',
    );
    expect(decisionRefusal(claim(), ctx({ round: 2 }))).toBe(
      'this decision answers review round 1, but the pending review is round 2: sign again for the current round',
    );
    expect(decisionRefusal(claim({ action: 'promote', round: undefined }), ctx())).toBe(
      'a signed promote cannot be sent here (expected approve or reject)',
    );
  });
  it('refuses an expired, a future and a replayed signature', () => {
    expect(decisionRefusal(claim({ at: '2026-12-07T09:40:00.000Z' }), ctx())).toBe(
      'this decision was signed at 2026-12-07T09:40:00.000Z, more than 15m ago: a signed decision is good for 15m; sign it again',
    );
    expect(decisionRefusal(claim({ at: '2026-12-07T10:05:00.000Z' }), ctx())).toContain(
      "later than now (2026-12-07T10:00:00.000Z): check the signing machine's clock",
    );
    expect(decisionRefusal(claim({ at: '2026-12-07T10:01:00.000Z' }), ctx())).toBeUndefined();
    expect(decisionRefusal(claim(), ctx({ used: [claimKey(claim())] }))).toBe(
      'this signed decision was already used on arrests/v1: a signature counts once; sign a new one',
    );
  });
  it('refuses the owner, the requester, the commit author, the request signer and outsiders', () => {
    expect(decisionRefusal(claim({ signer: 'ALICE@example.com' }), ctx())).toBe(
      'ALICE@example.com owns this model and cannot review their own release',
    );
    const signedRequest = { ...deciders, owner: 'someone-else@example.com', author: 'alice@example.com' };
    expect(decisionRefusal(claim({ signer: 'alice@example.com' }), ctx({ deciders: signedRequest }))).toBe(
      'alice@example.com wrote this package (the signed release request names them) and cannot review it',
    );
    expect(
      decisionRefusal(
        claim({ signer: 'carol@example.com' }),
        ctx({ deciders: { ...deciders, requestSigner: 'carol@example.com' } }),
      ),
    ).toBe('carol@example.com started this release and cannot review it');
    expect(
      decisionRefusal(
        claim({ signer: 'ci@example.com' }),
        ctx({ deciders: { ...deciders, reviewers: ['ci@example.com'] } }),
      ),
    ).toBe('ci@example.com started this release and cannot review it');
    expect(decisionRefusal(claim({ signer: 'eve@example.com' }), ctx())).toBe(
      'eve@example.com is not a reviewer for team risk (allowed: bob@example.com, carol@example.com, alice@example.com)',
    );
  });
  it('lets only an operator of the team promote', () => {
    const promote = (signer: string) => claim({ action: 'promote', round: undefined, signer });
    expect(decisionRefusal(promote('ops@example.com'), ctx({ expected: ['promote'] }))).toBeUndefined();
    expect(decisionRefusal(promote('bob@example.com'), ctx({ expected: ['promote'] }))).toBe(
      'bob@example.com is not an operator of team risk: promote needs one of ops@example.com',
    );
  });
  it('opens pause and abort to anyone the team lists', () => {
    expect(controlRefusal('ops@example.com', deciders)).toBeUndefined();
    expect(controlRefusal('bob@example.com', deciders)).toBeUndefined();
    expect(controlRefusal('mallory@example.com', deciders)).toBe(
      'mallory@example.com is not listed for team risk: pause, resume and abort are open to its reviewers and operators',
    );
    expect(controlRefusal('ops', deciders)).toContain('is not an identity');
    // Before validate the team is unknown: an abort can only stop a release, so it counts.
    expect(controlRefusal('anyone@example.com', null)).toBeUndefined();
  });
});
