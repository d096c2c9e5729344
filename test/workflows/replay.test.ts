import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/worker.js';

// Histories recorded from real runs (PAVED_WRITE_HISTORIES=1 npx vitest run test/workflows/release.test.ts).
// Replaying them against today's code fails when a change breaks determinism for
// releases already in flight.
const DIR = path.join(import.meta.dirname, 'histories');

describe('release workflow replay', () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();

  it('has the golden-path and review histories on record', () => {
    expect(files).toEqual(expect.arrayContaining(['golden-path.json', 'review-approved.json']));
  });

  it('every recorded history replays deterministically', async () => {
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(DIR, file), 'utf8'))),
    }));
    const results: Array<{ workflowId: string; error?: unknown }> = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories))
      results.push(r);
    expect(results.map((r) => [r.workflowId, r.error])).toEqual(
      files.map((f) => [f.replace(/\.json$/, ''), undefined]),
    );
  });

  it('would catch a non-deterministic change', async () => {
    // The same history against release code that differs the way an unsafe edit would:
    // a timer now comes before the stage's search-attribute upsert, so the first command
    // no longer matches the history. The variant lives outside the repo, where the
    // bundler finds packages only in the repo's node_modules, given by hand.
    const dir = mkdtempSync(path.join(tmpdir(), 'paved-replay-'));
    const variant = path.join(dir, 'workflows.js');
    writeFileSync(
      variant,
      [
        "import { sleep } from '@temporalio/workflow';",
        `import { release as recorded } from ${JSON.stringify(WORKFLOWS_PATH)};`,
        `export * from ${JSON.stringify(WORKFLOWS_PATH)};`,
        'export async function release(...args) {',
        "  await sleep('1 second');",
        '  return recorded(...args);',
        '}',
      ].join('\n'),
    );
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: variant,
      logger: SILENT,
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? []), NODE_MODULES] },
      }),
    }).finally(() => rmSync(dir, { recursive: true, force: true }));
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(DIR, 'review-approved.json'), 'utf8')));
    const err = await Worker.runReplayHistory({ workflowBundle }, history, 'reordered').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeterminismViolationError);
    // The mismatch is where the variant differs: its timer met the recorded upsert.
    expect((err as Error).message).toMatch(/Nondeterminism error: Timer .*UpsertWorkflowSearchAttributes/);
  });
});

const NODE_MODULES = path.resolve(import.meta.dirname, '../../node_modules');
const SILENT = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
