import { defineConfig } from 'vitest/config';

// One project per test layer. Forks, not threads: the Temporal worker's native
// bridge and the time-skipping server are process-wide.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'workflows',
          include: ['test/workflows/**/*.test.ts'],
          // Release workflow tests use Workflow Updates and search attributes: they run on
          // the stack's dev server; timer-only tests use the time-skipping server.
          globalSetup: ['test/support/python-env-setup.ts', 'test/support/stack-setup.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/stack-setup.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // Last and one file at a time: these tests kill workers and stop parts of the
          // shared stack, which no other test may see.
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
          // The bad inputs need no stack; the kills run releases on it.
          globalSetup: ['test/support/stack-setup.ts', 'test/faults/table-setup.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          testTimeout: 600_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/stack-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
