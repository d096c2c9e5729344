import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
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
    // The review history replayed as if it were a different workflow type must fail:
    // proof that replay really compares commands, not just loads the file.
    const json = JSON.parse(readFileSync(path.join(DIR, 'review-approved.json'), 'utf8'));
    json.events[0].workflowExecutionStartedEventAttributes.workflowType.name = 'stackSmoke';
    await expect(
      Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, historyFromJSON(json), 'tampered'),
    ).rejects.toThrow();
  });
});
