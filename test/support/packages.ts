import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { projectPath } from '../../src/adapters/project.js';

/** A copy of examples/arrests with paved.yaml changed, in a temp dir (the example stays untouched). */
export function examplePackage(
  edit: (doc: Record<string, unknown>) => void = () => {},
  example = 'arrests',
): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-pkg-'));
  cpSync(projectPath('examples', example), dir, { recursive: true });
  const file = path.join(dir, 'paved.yaml');
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // One short window at 100 %: tests about other stages should not wait on the rollout.
  doc.rollout = { steps: [100], bake: '1s' };
  // The platform policy's budgets decide, so a test's policy can loosen them (rollout-policy.ts).
  delete doc.budgets;
  edit(doc);
  writeFileSync(file, stringify(doc));
  return dir;
}

/** Off the golden path: an unapproved library, so the release waits for review. */
export function offPathPackage(): string {
  return examplePackage((doc) => {
    doc.requirements = [...(doc.requirements as string[]), 'torch==2.4.0'];
  });
}

/** The audit trail of an off-path release approved once and rolled out in one step, in order. */
export const APPROVED_ONE_STEP_TRAIL = [
  'release requested',
  'stage validate',
  'stage containerize',
  'stage bind',
  'review requested',
  'review approved',
  'stage shadow',
  'stage bias',
  'rollout step 100 %',
  'stage rollout',
  'release released',
];
