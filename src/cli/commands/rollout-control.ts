import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { PavedError } from '../../domain/errors.js';
import { workflowIdFor } from '../../domain/release.js';
import { rolloutControlSignal, stateQuery, type RolloutAction } from '../../workflows/definitions.js';
import { releaseRef, withClient } from '../client.js';
import { resolveIdentity } from '../identity.js';

const WHAT: Record<RolloutAction, string> = {
  pause: 'hold the canary at its current weight',
  resume: 'continue a paused rollout (the step bakes again)',
  abort: 'roll the canary back now, or end the release before its rollout (exit 4)',
  promote: 'skip the remaining steps: the canary becomes stable',
};

export function registerRolloutControlCommands(program: Command): void {
  for (const action of Object.keys(WHAT) as RolloutAction[]) {
    program
      .command(action)
      .description(`${WHAT[action]}`)
      .argument('<release>', '<model>/<version>')
      .option('--as <user>', 'operator identity (default: PAVED_USER, then git user.email)')
      .option('-m, --message <text>', 'reason, for the audit trail')
      .action(async (ref: string, opts: { as?: string; message?: string }) => {
        const actor = resolveIdentity(opts.as);
        if (!actor) throw new PavedError('who is steering? Fix: pass --as <email> or set PAVED_USER');
        const { model, version } = releaseRef(ref);
        await withClient(loadConfig(), async (client) => {
          const handle = client.workflow.getHandle(workflowIdFor(model, version));
          const state = await handle.query(stateQuery).catch(() => {
            throw new PavedError(
              `no release ${ref} is running. Fix: check it with \`paved status ${model}\``,
            );
          });
          if (state.outcome)
            throw new PavedError(
              `${ref} already ended (${state.outcome.status}); there is no rollout to ${action}`,
            );
          if (action === 'promote' && state.stage !== 'rollout')
            throw new PavedError(
              `${ref} is in ${state.stage}: promote applies to a rollout in progress. Fix: promote once \`paved status ${ref}\` shows the rollout`,
            );
          await handle.signal(rolloutControlSignal, {
            action,
            actor,
            ...(opts.message ? { reason: opts.message } : {}),
          });
          const where = state.rollout
            ? `at ${state.rollout.weight} %`
            : action === 'abort'
              ? `in stage ${state.stage}; the release ends when the stage does, before any traffic moves`
              : `in stage ${state.stage}; applies when the rollout runs`;
          process.stdout.write(`${ref}: ${action} sent by ${actor} (${where})\n`);
        });
      });
  }
}
