import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { venvBin } from '../../src/adapters/stack/python-env.js';

/** A time-skipping environment on the installed test server binary: never a download. */
export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: { type: 'existing-path', path: venvBin(loadConfig().home, 'temporal-test-server') },
    },
  });
}
