import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PavedError } from '../domain/errors.js';
import { parsePolicy, type Policy } from '../domain/policy.js';
import { formatFinding } from '../domain/schema-errors.js';
import { projectPath } from './project.js';

export const DEFAULT_POLICY_PATH = projectPath('policy', 'platform.yaml');

export class PolicyError extends PavedError {}

/** Reads and validates the platform policy (PAVED_POLICY overrides the path). */
export function loadPolicy(file = process.env.PAVED_POLICY || DEFAULT_POLICY_PATH): Policy {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PolicyError(
      `${file}: cannot be read as YAML (${(err as Error).message.split('\n')[0]}). Fix: correct the file.`,
    );
  }
  const parsed = parsePolicy(data);
  if (!parsed.ok) throw new PolicyError(parsed.findings.map((f) => formatFinding(file, f)).join('\n'));
  return parsed.policy;
}
