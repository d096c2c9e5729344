import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { loadConfig } from '../../adapters/config-loader.js';
import { workflowUiUrl } from '../../adapters/temporal-connection.js';
import { PavedError } from '../../domain/errors.js';
import { workflowIdFor, type ReviewDecision, type ReviewResult } from '../../domain/release.js';
import { auditQuery, PavedStage, reviewUpdate, stateQuery } from '../../workflows/definitions.js';
import { releaseRef, withClient } from '../client.js';
import { resolveIdentity } from '../identity.js';
import { requireSigningKey, signalInput, signDecision } from '../signing.js';
import { renderTable } from '../table.js';

const QUERY_PATIENCE_MS = 3000;

interface PendingRow {
  release: string;
  owner: string;
  reviewers: string[];
  reasons: string[];
  since: string;
  deadline: string;
  url: string;
}

async function pendingReviews(client: Client, config: ReturnType<typeof loadConfig>): Promise<PendingRow[]> {
  const rows: PendingRow[] = [];
  // A rollout that waits for a person (an inconclusive step) keeps PavedStage "rollout": it holds its model's lane.
  const query = `${PavedStage.name} IN ("review", "rollout") AND ExecutionStatus = "Running"`;
  for await (const wf of client.workflow.list({ query })) {
    // A release whose worker is gone never answers: it must not hold up the list.
    const state = await Promise.race([
      client.workflow.getHandle(wf.workflowId).query(stateQuery),
      sleep(QUERY_PATIENCE_MS).then(() => undefined),
    ]).catch(() => undefined);
    if (!state?.pendingReview) continue;
    rows.push({
      release: `${state.model}/${state.version}`,
      owner: state.pendingReview.owner,
      reviewers: state.pendingReview.reviewers,
      reasons: state.pendingReview.reasons.map((r) => r.message),
      since: state.pendingReview.since,
      deadline: state.pendingReview.deadline,
      url: workflowUiUrl(config, wf.workflowId),
    });
  }
  return rows;
}

/** Signs and sends a review; a repeat of a decision already made is answered from the record. */
async function review(
  client: Client,
  ref: string,
  decision: ReviewDecision,
  reviewer: string,
  opts: { comment?: string; key?: string; print?: boolean },
): Promise<ReviewResult | null> {
  const { model, version } = releaseRef(ref);
  const handle = client.workflow.getHandle(workflowIdFor(model, version));
  const now = await handle.query(stateQuery).catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError)
      throw new PavedError(`no release ${model}/${version}. Fix: see \`paved reviews\` for pending ones`);
    throw err;
  });
  // A release may ask more than once; each round is its own decision, signed for that round.
  const round = now.pendingReview?.round ?? now.review?.round ?? 1;
  const signed = await signDecision(
    {
      action: decision,
      model,
      version,
      package: now.digest,
      round,
      signer: reviewer,
      ...(opts.comment ? { comment: opts.comment } : {}),
    },
    requireSigningKey(opts.key),
  );
  if (opts.print) {
    process.stdout.write(`${signalInput(signed)}\n`);
    return null;
  }
  try {
    return await handle.executeUpdate(reviewUpdate, {
      args: [signed],
      // One signed decision, one update: a retry of it is answered with the first result,
      // while a new signature (after a refusal, say of the wrong key) is a new update.
      updateId: `review/${round}/${reviewer}/${decision}/${createHash('sha256').update(signed.signature).digest('hex').slice(0, 16)}`,
    });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new PavedError(`review refused: ${err.cause?.message ?? err.message}`);
    // The release may have ended since (e.g. right after this reviewer's first approve):
    // a repeat of the recorded decision gets that decision back.
    const audit = await handle.query(auditQuery).catch(() => undefined);
    const earlier = audit?.find(
      (e) =>
        e.actor === reviewer && e.action === (decision === 'approve' ? 'review approved' : 'review rejected'),
    );
    if (earlier) return { decision, reviewer, comment: earlier.reason, at: earlier.at };
    const state = await handle.query(stateQuery).catch(() => undefined);
    if (state?.outcome)
      throw new PavedError(
        `review refused: release ${model}/${version} already ended: ${state.outcome.status} (${state.outcome.reason})`,
      );
    throw err;
  }
}

export function registerReviewCommands(program: Command): void {
  program
    .command('reviews')
    .description('releases waiting for a human review, and why')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      await withClient(config, async (client) => {
        const rows = await pendingReviews(client, config);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no reviews pending\n');
          return;
        }
        process.stdout.write(
          `${renderTable(
            ['RELEASE', 'OWNER', 'REVIEWERS', 'DEADLINE', 'WHY'],
            rows.map((r) => [r.release, r.owner, r.reviewers.join(','), r.deadline, r.reasons.join('; ')]),
          )}\n`,
        );
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(decision)
      .description(`${decision} a release waiting for review`)
      .argument('<release>', '<model>/<version>')
      .option(
        '--as <user>',
        "reviewer identity, as in the policy's signers (default: PAVED_USER, then git user.email)",
      )
      .option('-m, --message <text>', 'comment for the audit trail (signed with the decision)')
      .option(
        '--key <file>',
        'SSH key to sign with (default: PAVED_SIGNING_KEY, git user.signingkey, ssh-agent)',
      )
      .option(
        '--print',
        'print the signed decision for the Temporal UI ("Send a Signal": signedDecision) instead of sending it',
      )
      .action(async (ref: string, opts: { as?: string; message?: string; key?: string; print?: boolean }) => {
        const reviewer = resolveIdentity(opts.as);
        if (!reviewer) throw new PavedError('who is reviewing? Fix: pass --as <email> or set PAVED_USER');
        const config = loadConfig();
        await withClient(config, async (client) => {
          const result = await review(client, ref, decision, reviewer, {
            ...(opts.message ? { comment: opts.message } : {}),
            ...(opts.key ? { key: opts.key } : {}),
            ...(opts.print ? { print: true } : {}),
          });
          if (!result) return;
          const signed = result.key ? `, signed with ${result.key}` : '';
          process.stdout.write(
            `${ref}: ${result.decision === 'approve' ? 'approved' : 'rejected'} by ${result.reviewer} at ${result.at}${signed}\n`,
          );
        });
      });
  }
}
