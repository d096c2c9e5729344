import { venvRoot } from '../../src/domain/config.js';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { venvBin } from '../../src/adapters/stack/python-env.js';
import { PavedModel, PavedOutcome, PavedStage } from '../../src/workflows/definitions.js';

/**
 * A time-skipping environment on the installed test server binary: never a download.
 * The release's search attributes are registered, as the stack's dev server has them.
 */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: { type: 'existing-path', path: venvBin(venvRoot(loadConfig()), 'temporal-test-server') },
    },
  });
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      [PavedModel, PavedStage, PavedOutcome].map((k) => [k.name, keyword]),
    ),
  });
  return env;
}
