import { venvRoot } from '../../src/domain/config.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { ensurePythonEnv } from '../../src/adapters/stack/python-env.js';

/** Workflow tests use the time-skipping test server installed into the project venv. */
export default async function setup(): Promise<void> {
  await ensurePythonEnv(venvRoot(loadConfig()));
}
