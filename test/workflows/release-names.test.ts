import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { release } from '../../src/workflows/release.js';
import { manifestDoc, releaseInput, validated } from '../support/release-fixtures.js';
import { mocks } from '../support/release-mocks.js';
import { ReleaseHarness } from '../support/release-worker.js';

// A client other than the CLI can start a release under any id. Before the one rule,
// a version the report store refused failed the shadow stage retryably, after three
// full replays; now it stops before any stage runs.
let h: ReleaseHarness;
beforeAll(async () => {
  h = await ReleaseHarness.create();
});
afterAll(async () => {
  await h?.close();
});

describe('a release whose name breaks the rule', () => {
  it('stops at validate with the rule (exit 2) and runs no stage', async () => {
    const m = mocks(() => h.client, validated(manifestDoc()));
    const called: string[] = [];
    for (const [name, fn] of Object.entries(m.activities)) {
      if (name === 'exportAudit' || typeof fn !== 'function') continue;
      (m.activities as Record<string, unknown>)[name] = (...args: unknown[]) => {
        called.push(name);
        return (fn as (...a: unknown[]) => unknown)(...args);
      };
    }
    const input = releaseInput('arrests', `.${randomUUID().slice(0, 8)}`);
    const result = await h.run(m.activities, async (taskQueue) =>
      (
        await h.client.workflow.start<typeof release>('release', {
          taskQueue,
          workflowId: `release-names-${randomUUID()}`,
          args: [input],
        })
      ).result(),
    );
    expect(result).toEqual({
      status: 'stopped',
      exitCode: 2,
      stage: 'validate',
      reason: `version "${input.version}" is not a release version: use letters, digits, dots, dashes or underscores, starting with a letter or digit, at most 64 characters`,
    });
    expect(called).toEqual([]);
  });
});
