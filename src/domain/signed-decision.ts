/**
 * A person's decision about a release, as the text they sign with their SSH key
 * (`ssh-keygen -Y sign -n paved`, the way git signs commits). The text binds the
 * decision to one release, one package digest, one review round and one moment,
 * so a signature cannot be moved to another release, round or day. Pure: the
 * workflow imports it; the signature itself is checked by an activity.
 */
import { durationMs } from './duration.js';
import { releaseNameProblem } from './release.js';

/** The SSH signature namespace: a key's signature for git or for a login is not one for paved. */
export const SIGNATURE_NAMESPACE = 'paved';

export const SIGNED_ACTIONS = ['approve', 'reject', 'promote', 'release'] as const;
export type SignedAction = (typeof SIGNED_ACTIONS)[number];

/** What a decision says, before it is signed. */
export interface DecisionClaim {
  action: SignedAction;
  model: string;
  version: string;
  /** sha256:<hex> of the package the release ships. */
  package: string;
  /** The review round an approve or reject answers; absent for promote and release. */
  round?: number;
  /** The identity whose key signs: a principal of the policy's signers. */
  signer: string;
  /** When it was signed (ISO 8601, UTC). */
  at: string;
  /** A release request names the commit's author (CI signs for them). */
  author?: string;
  comment?: string;
}

/** What travels to the workflow, by Update or by a Signal from the Temporal UI. */
export interface SignedDecision {
  /** The exact signed text (decisionText). */
  text: string;
  /** The armored SSH signature of `text`. */
  signature: string;
}

const HEADER = 'paved decision v1';
const KEYS = ['action', 'release', 'package', 'round', 'signer', 'at', 'author', 'comment'] as const;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const IDENTITY = /^[^\s@]+@[^\s@]+$/;
const ARMOR = /^-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+\n-----END SSH SIGNATURE-----\n?$/;

/** One line per field; the comment is folded onto one line so the text stays line-oriented. */
export function decisionText(claim: DecisionClaim): string {
  const lines = [
    HEADER,
    `action: ${claim.action}`,
    `release: ${claim.model}/${claim.version}`,
    `package: ${claim.package}`,
    ...(claim.round !== undefined ? [`round: ${claim.round}`] : []),
    `signer: ${claim.signer}`,
    `at: ${claim.at}`,
    ...(claim.author ? [`author: ${claim.author}`] : []),
    ...(claim.comment ? [`comment: ${claim.comment.replace(/\s*\n\s*/g, ' ').trim()}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The signed text back into its fields, or the reason it is not a paved decision. */
export function parseDecisionText(text: string): { claim: DecisionClaim } | { problem: string } {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines[0] !== HEADER) return { problem: `a signed decision starts with "${HEADER}"` };
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(': ');
    const key = colon > 0 ? line.slice(0, colon) : line;
    if (!(KEYS as readonly string[]).includes(key))
      return { problem: `"${key}" is not a field of a decision` };
    if (fields.has(key)) return { problem: `"${key}" is given twice` };
    fields.set(key, line.slice(colon + 2));
  }
  const action = fields.get('action');
  if (!action || !(SIGNED_ACTIONS as readonly string[]).includes(action))
    return { problem: `action must be one of ${SIGNED_ACTIONS.join(', ')}` };
  const release = fields.get('release') ?? '';
  const slash = release.indexOf('/');
  const [model, version] = [release.slice(0, slash), release.slice(slash + 1)];
  if (slash < 1 || releaseNameProblem(model, version))
    return { problem: 'release must be <model>/<version>' };
  const pkg = fields.get('package') ?? '';
  if (!DIGEST.test(pkg)) return { problem: 'package must be the sha256:<hex> digest of the package' };
  const signer = fields.get('signer') ?? '';
  if (!IDENTITY.test(signer)) return { problem: 'signer must be an identity such as bob@example.com' };
  const at = fields.get('at') ?? '';
  if (!/^\d{4}-\d\d-\d\dT/.test(at) || Number.isNaN(Date.parse(at)))
    return { problem: 'at must be the time of signing, e.g. 2026-12-07T10:00:00.000Z' };
  const roundText = fields.get('round');
  const round = roundText === undefined ? undefined : Number(roundText);
  if (round !== undefined && !(Number.isInteger(round) && round >= 1))
    return { problem: 'round must be the review round, 1 or more' };
  if ((action === 'approve' || action === 'reject') !== (round !== undefined))
    return { problem: 'an approve or reject names its review round; promote and release do not' };
  const author = fields.get('author');
  if (author !== undefined && !IDENTITY.test(author)) return { problem: 'author must be an identity' };
  const claim: DecisionClaim = { action: action as SignedAction, model, version, package: pkg, signer, at };
  if (round !== undefined) claim.round = round;
  if (author !== undefined) claim.author = author;
  const comment = fields.get('comment');
  if (comment) claim.comment = comment;
  return { claim };
}

/** Why a payload is not a signed decision at all (the Update's validator refuses it unrecorded). */
export function decisionShapeProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null)
    return 'send a signed decision: {"text": …, "signature": …}';
  const { text, signature } = input as Record<string, unknown>;
  if (typeof text !== 'string' || text.length > 4096)
    return 'a signed decision carries its text (at most 4 KiB) under "text"';
  if (signature !== undefined && (typeof signature !== 'string' || signature.length > 8192))
    return 'a signed decision carries its armored SSH signature under "signature"';
  return undefined;
}

/** Who may decide what on this release, known once validate has read the manifest and the policy. */
export interface Deciders {
  team: string;
  reviewers: string[];
  operators: string[];
  owner: string;
  /** Who asked for the release (a claim unless the request was signed). */
  requestedBy: string;
  /** Proven by a signed release request: its signer and the author it names. */
  requestSigner?: string;
  author?: string;
}

export interface DecisionContext {
  model: string;
  version: string;
  digest: string;
  /** The decision kind the channel expects (an approve on the review path, a promote on the rollout's). */
  expected: readonly SignedAction[];
  /** The pending review's round, for an approve or reject. */
  round?: number;
  /** Workflow time. */
  now: number;
  /** How long after signing a decision may be applied (policy review.signed_within). */
  signedWithin: string;
  deciders: Deciders;
  /** Claims already applied to this release (claimKey), so a signature is used once. */
  used: readonly string[];
}

/** Clocks of laptops and workers disagree a little; more than this ahead is refused. */
export const CLOCK_SKEW_MS = 2 * 60_000;

/** What makes a claim unique: one signer's one decision at one moment. */
export function claimKey(c: DecisionClaim): string {
  return `${c.action}|${c.model}/${c.version}|${c.round ?? '-'}|${c.signer.toLowerCase()}|${c.at}`;
}

const same = (a: string, b: string | undefined) => b !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * Pure: why this signed claim may not decide this release, or undefined when only
 * the signature itself is left to check. Every sentence names what to do instead.
 */
export function decisionRefusal(claim: DecisionClaim, ctx: DecisionContext): string | undefined {
  const release = `${ctx.model}/${ctx.version}`;
  if (!ctx.expected.includes(claim.action))
    return `a signed ${claim.action} cannot be sent here (expected ${ctx.expected.join(' or ')})`;
  if (`${claim.model}/${claim.version}` !== release)
    return `this decision is signed for ${claim.model}/${claim.version}, not ${release}: sign one for ${release}`;
  if (claim.package !== ctx.digest)
    return `this decision is signed for package ${claim.package.slice(0, 19)}…, but ${release} ships ${ctx.digest.slice(0, 19)}…: sign one for the package under review`;
  if (claim.round !== undefined && claim.round !== ctx.round)
    return `this decision answers review round ${claim.round}, but ${ctx.round === undefined ? 'no review is pending' : `the pending review is round ${ctx.round}`}: sign again for the current round`;
  const signedAt = Date.parse(claim.at);
  const age = ctx.now - signedAt;
  if (age > durationMs(ctx.signedWithin))
    return `this decision was signed at ${claim.at}, more than ${ctx.signedWithin} ago: a signed decision is good for ${ctx.signedWithin}; sign it again`;
  if (-age > CLOCK_SKEW_MS)
    return `this decision is signed for ${claim.at}, later than now (${new Date(ctx.now).toISOString()}): check the signing machine's clock and sign again`;
  if (ctx.used.includes(claimKey(claim)))
    return `this signed decision was already used on ${release}: a signature counts once; sign a new one`;
  return whoMayNot(claim, ctx.deciders);
}

function whoMayNot(claim: DecisionClaim, d: Deciders): string | undefined {
  const who = claim.signer;
  if (claim.action === 'promote') {
    if (!d.operators.some((o) => same(o, who)))
      return `${who} is not an operator of team ${d.team}: promote needs one of ${d.operators.join(', ') || '(none listed; add operators to the team in the policy)'}`;
    return undefined;
  }
  if (claim.action === 'release') return undefined;
  if (same(who, d.owner)) return `${who} owns this model and cannot review their own release`;
  if (same(who, d.author))
    return `${who} wrote this package (the signed release request names them) and cannot review it`;
  if (same(who, d.requestedBy) || same(who, d.requestSigner))
    return `${who} started this release and cannot review it`;
  if (!d.reviewers.some((r) => same(r, who)))
    return `${who} is not a reviewer for team ${d.team} (allowed: ${d.reviewers.join(', ')})`;
  return undefined;
}

/** Pause, resume and abort are open to anyone the model's team lists, and recorded. */
export function controlRefusal(actor: string, d: Deciders | null): string | undefined {
  if (!IDENTITY.test(actor)) return `"${actor}" is not an identity: pass --as <email>`;
  if (!d) return undefined;
  if (![...d.reviewers, ...d.operators].some((x) => same(x, actor)))
    return `${actor} is not listed for team ${d.team}: pause, resume and abort are open to its reviewers and operators`;
  return undefined;
}

/** A quick, offline shape check of an armored signature; the activity proves it. */
export function looksArmored(signature: string | undefined): boolean {
  return signature !== undefined && ARMOR.test(signature.replace(/\r\n/g, '\n'));
}
