import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import ora, { type Ora } from 'ora';
import { outcome, type ReleaseOutcome } from '../domain/release.js';
import { stateQuery, type ReleaseState, type StageSummary } from '../workflows/definitions.js';
import type { release } from '../workflows/release.js';

export type ReleaseEvent =
  | { event: 'stage'; stage: string; verdict: string; summary: string }
  | { event: 'review-pending'; reviewers: string[]; reasons: string[]; deadline: string }
  | { event: 'done'; outcome: ReleaseOutcome };

function symbolFor(e: ReleaseEvent): string {
  if (e.event === 'review-pending') return '…';
  if (e.event !== 'stage') return '✔';
  return e.verdict === 'fail' ? '✖' : e.verdict === 'needs-review' ? '!' : '✔';
}

/**
 * Follows a release until it ends: stage lines as they complete, a spinner on a TTY
 * (nothing on a pipe), NDJSON events with --json. Returns the outcome; a workflow
 * that failed outright maps to status "failed" (exit 1).
 */
export async function waitForRelease(
  handle: WorkflowHandle<typeof release>,
  opts: { json: boolean; pollMs?: number },
): Promise<ReleaseOutcome> {
  const tty = !opts.json && process.stderr.isTTY;
  const spinner: Ora | undefined = tty
    ? ora({ stream: process.stderr }).start('waiting for a worker')
    : undefined;
  const emit = (e: ReleaseEvent, human: string) => {
    if (opts.json) process.stdout.write(`${JSON.stringify(e)}\n`);
    else if (spinner) spinner.stopAndPersist({ symbol: symbolFor(e), text: human }).start();
    else process.stderr.write(`${human}\n`);
  };
  let shown = 0;
  let reviewShown = false;
  const report = (state: ReleaseState) => {
    for (const s of state.stages.slice(shown) as StageSummary[]) {
      emit({ event: 'stage', ...s }, `${s.stage}: ${s.summary}`);
    }
    shown = state.stages.length;
    if (state.pendingReview && !reviewShown) {
      reviewShown = true;
      const p = state.pendingReview;
      emit(
        {
          event: 'review-pending',
          reviewers: p.reviewers,
          reasons: p.reasons.map((r) => r.message),
          deadline: p.deadline,
        },
        `review: waiting for ${p.reviewers.join(' or ')} (within ${p.deadline}): ${p.reasons.map((r) => r.message).join('; ')}`,
      );
    }
    if (spinner) spinner.text = state.details;
  };

  let settled = false;
  const result = handle.result().finally(() => (settled = true));
  result.catch(() => {}); // observed below; keeps Node from flagging it while we poll
  while (!settled) {
    const state = await handle.query(stateQuery).catch(() => undefined);
    if (state) report(state);
    await Promise.race([result.catch(() => undefined), sleep(opts.pollMs ?? 1000)]);
  }
  let final: ReleaseOutcome;
  try {
    final = await result;
  } catch (err) {
    // The useful text is at the bottom of the chain: WorkflowFailed → ActivityFailure → ApplicationFailure.
    let deepest = err as Error | undefined;
    while (deepest?.cause instanceof Error) deepest = deepest.cause;
    const cause =
      err instanceof WorkflowFailedError ? (deepest?.message ?? err.message) : (err as Error).message;
    final =
      err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure
        ? outcome('cancelled', 'done', 'the release was cancelled by an operator')
        : outcome('failed', 'done', `the release workflow failed: ${cause}`);
  }
  const state = await handle.query(stateQuery).catch(() => undefined);
  if (state) report(state);
  spinner?.stop();
  if (opts.json)
    process.stdout.write(`${JSON.stringify({ event: 'done', outcome: final } satisfies ReleaseEvent)}\n`);
  return final;
}
