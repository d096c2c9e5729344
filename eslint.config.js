// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.paved/', 'coverage/', 'templates/', 'featurestore/', 'examples/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Temporal code must never drop a promise: a forgotten await in a workflow or
      // activity silently loses work or breaks determinism.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: it may import only the
    // workflow SDK, types and the pure domain.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto'],
              message: 'Workflow code must stay deterministic: no Node.js I/O modules.',
            },
            {
              allowTypeImports: true,
              group: [
                '**/adapters/*',
                '**/activities/*',
                '**/cli/*',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'dockerode',
                'pino',
              ],
              message: 'Workflow code imports only @temporalio/workflow, types and src/domain.',
            },
          ],
        },
      ],
    },
  },
);
