import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root: templates, policy, scripts and the default PAVED_HOME live here. */
export const PROJECT_ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
