import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_POLICY_PATH } from '../../src/adapters/policy-loader.js';
import { withTestSigners } from './signers.js';

let written: string | undefined;

/**
 * The shipped policy as a document to adjust, with the test identities' keys as its
 * signers (the shipped keys are examples whose private halves nobody has).
 */
export function basePolicyDoc(): Record<string, Record<string, unknown>> {
  const doc = parse(readFileSync(DEFAULT_POLICY_PATH, 'utf8')) as Record<string, Record<string, unknown>>;
  withTestSigners(doc);
  return doc;
}

/**
 * Latency budgets out of reach, for tests whose subject is not latency: on a test
 * machine busy with other tests' containers and traffic, a p99 says more about
 * the neighbours than about the model. The shadow tests keep the real budgets.
 */
export function looseLatency(doc: Record<string, Record<string, unknown>>): void {
  doc.budgets = { ...doc.budgets, p50_ms: 10_000, p99_ms: 10_000 };
  doc.shadow = { ...doc.shadow, max_p99_regression: 100 };
  // A rollout step compares canary and stable p99 over seconds of traffic: one busy
  // neighbour makes a healthy canary look slow and rolls it back. The rollout tests'
  // rollback is driven by injected errors instead.
  doc.rollout_analysis = { ...doc.rollout_analysis, max_p99_ratio: 100 };
}

/**
 * No rollout floor: test packages roll out in one short step (packages.ts), so that
 * tests about other stages do not wait on the rollout.
 */
export function anyRollout(doc: Record<string, unknown>): void {
  doc.rollout_floor = { max_first_step: 100, min_bake: '0s' };
}

/**
 * A short shadow window (4 s measured after 1 s of warm-up) with loose latency
 * budgets, for tests whose subject is not the shadow stage: the stage still runs
 * for real, on less traffic.
 */
export function quickShadow(doc: Record<string, Record<string, unknown>>): void {
  looseLatency(doc);
  // The package's sample, never the capture of these tests' own heavy traffic:
  // replaying live traffic is test/integration/shadow-bias.test.ts's subject.
  doc.shadow = { ...doc.shadow, duration: '4s', warmup: '1s', min_captured: 1_000_000_000 };
}

/**
 * The platform policy, except that a rollout window needs no minimum traffic, the
 * old stable does not drain and the shadow window is short: for tests whose subject is not the rollout, and which
 * send no traffic. The rollout's own tests use the real policy and real traffic.
 */
export function noTrafficPolicy(): string {
  if (written) return written;
  const doc = basePolicyDoc();
  doc.rollout_analysis = { ...doc.rollout_analysis, min_requests: 0, drain: '0s' };
  quickShadow(doc);
  anyRollout(doc);
  written = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
  writeFileSync(written, stringify(doc));
  return written;
}

let loose: string | undefined;

/** The platform policy as shipped, with latency budgets out of reach (see looseLatency). */
export function looseLatencyPolicy(): string {
  if (loose) return loose;
  const doc = basePolicyDoc();
  looseLatency(doc);
  anyRollout(doc);
  loose = path.join(mkdtempSync(path.join(os.tmpdir(), 'paved-policy-')), 'platform.yaml');
  writeFileSync(loose, stringify(doc));
  return loose;
}
