import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../adapters/config-loader.js';
import { workflowUiUrl } from '../../adapters/temporal-connection.js';
import type { PavedConfig } from '../../domain/config.js';
import { PavedError } from '../../domain/errors.js';
import { MODEL_NAME } from '../../domain/manifest.js';
import { parseReleaseRef, workflowIdFor } from '../../domain/release.js';
import { PavedOutcome, PavedStage, stateQuery, type ReleaseState } from '../../workflows/definitions.js';
import { renderTable } from '../table.js';
import type { ServingState } from '../../domain/serving.js';
import { servingStateQuery, servingWorkflowId } from '../../workflows/serving-definitions.js';
import { withClient } from '../client.js';

async function releaseState(client: Client, model: string, version: string): Promise<ReleaseState> {
  try {
    return await client.workflow.getHandle(workflowIdFor(model, version)).query(stateQuery);
  } catch (err) {
    throw new PavedError(
      `no release ${model}/${version} answers (${(err as Error).message}). Fix: check the name with \`paved status ${model}\`; a worker must be running.`,
    );
  }
}

const ROLLOUT_PHASE: Record<NonNullable<ReleaseState['rollout']>['phase'], string> = {
  judging: 'judged on live traffic',
  inconclusive: 'inconclusive, too little traffic',
  review: 'waiting for a reviewer',
  unjudged: 'first release, not judged',
};

function describeState(config: PavedConfig, s: ReleaseState): string {
  const lines = [
    `${s.model}/${s.version}  owner ${s.owner ?? '?'}  stage ${s.stage}${s.outcome ? `  outcome ${s.outcome.status} (exit ${s.outcome.exitCode})` : ''}`,
    ...s.stages.map((st) => `  ${st.stage.padEnd(12)} ${st.verdict.padEnd(12)} ${st.summary}`),
  ];
  if (s.pendingReview)
    lines.push(
      `  review pending: ${s.pendingReview.reviewers.join(' or ')}, deadline ${s.pendingReview.deadline}`,
    );
  if (s.rollout && !s.outcome)
    lines.push(
      `  rollout: ${s.rollout.weight} % to ${s.version}${s.rollout.paused ? ' (paused)' : ''}; ${ROLLOUT_PHASE[s.rollout.phase]}: ${s.rollout.note}`,
    );
  lines.push(`  ${s.details}`, `  ${workflowUiUrl(config, workflowIdFor(s.model, s.version))}`);
  return lines.join('\n');
}

/** What the model's serving workflow keeps: versions, replicas, route weights and the lane's queue. */
async function servingSummary(client: Client, config: PavedConfig, model: string): Promise<string> {
  const id = servingWorkflowId(model, config.temporal.taskQueue);
  let s: ServingState;
  try {
    s = await client.workflow.getHandle(id).query(servingStateQuery);
  } catch (err) {
    const why =
      (err as Error).name === 'WorkflowNotFoundError'
        ? 'none yet (started by the first rollout)'
        : `its serving workflow does not answer (${(err as Error).message}); a worker must be running (\`paved worker\`)`;
    return `serving ${model}: ${why}`;
  }
  const share = (version: string) => {
    const r = s.route;
    if (!r) return 'not routed';
    if (r.canary?.version === version) return `canary, ${r.canary.weight} %`;
    if (r.stable?.version === version) return `stable, ${100 - (r.canary?.weight ?? 0)} %`;
    return 'not routed';
  };
  const name = (release: string) => release.replace(/^release\//, '');
  const lines = [
    `serving ${model}: ${s.versions.map((v) => `${v.version} ×${v.replicas} (${share(v.version)})`).join(', ') || 'nothing'}`,
    `  rollout lane: ${s.lane.holder ? `${name(s.lane.holder.release)} since ${s.lane.holder.since}` : 'free'}${s.lane.queue.length ? `; waiting: ${s.lane.queue.map((e) => name(e.release)).join(', ')}` : ''}`,
  ];
  if (s.last)
    lines.push(
      `  last reconcile ${s.last.at}: ${s.last.problem ? `failed (${s.last.problem})` : `${s.last.replaced.length ? `replaced ${s.last.replaced.join(', ')}` : 'nothing replaced'}${s.last.removed.length ? `, removed ${s.last.removed.join(', ')}` : ''}`}`,
    );
  lines.push(`  ${workflowUiUrl(config, id)}`);
  return lines.join('\n');
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('where a release stands, or a model: what serves, its rollout lane, its releases')
    .argument('<ref>', '<model> or <model>/<version>')
    .option('--watch', 'refresh every 2 s until the release ends')
    .option('--json', 'print as JSON')
    .action(async (ref: string, opts: { watch?: boolean; json?: boolean }) => {
      const config = loadConfig();
      await withClient(config, async (client) => {
        const one = parseReleaseRef(ref);
        if (one) {
          for (;;) {
            const s = await releaseState(client, one.model, one.version);
            process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : `${describeState(config, s)}\n`);
            if (!opts.watch || s.outcome) return;
            await sleep(2000);
          }
        }
        if (!MODEL_NAME.test(ref))
          throw new PavedError(`"${ref}" is not a model name. Fix: use <model> or <model>/<version>`);
        const rows: Array<Record<string, string>> = [];
        for await (const wf of client.workflow.list({ query: `PavedModel = "${ref}"` })) {
          const stage = wf.typedSearchAttributes.get(PavedStage);
          rows.push({
            release: wf.workflowId.replace(/^release\//, ''),
            status: wf.status.name,
            outcome: wf.typedSearchAttributes.get(PavedOutcome) ?? '',
            stage: stage ?? '',
            started: wf.startTime.toISOString(),
          });
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
        else
          process.stdout.write(
            `${await servingSummary(client, config, ref)}\n\n${renderTable(
              ['RELEASE', 'STATUS', 'OUTCOME', 'STAGE', 'STARTED'],
              rows.map((r) => [r.release!, r.status!, r.outcome!, r.stage!, r.started!]),
            )}\n`,
          );
      });
    });
}
