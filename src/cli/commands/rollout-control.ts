import type { Command } from 'commander';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { loadConfig } from '../../adapters/config-loader.js';
import { PavedError } from '../../domain/errors.js';
import { workflowIdFor } from '../../domain/release.js';
import {
  promoteUpdate,
  rolloutControlSignal,
  stateQuery,
  type ReleaseState,
  type RolloutAction,
} from '../../workflows/definitions.js';
import { releaseRef, withClient } from '../client.js';
import { resolveIdentity } from '../identity.js';
import { requireSigningKey, signalInput, signDecision } from '../signing.js';

const WHAT: Record<RolloutAction | 'promote', string> = {
  pause: 'hold the canary at its current weight',
  resume: 'continue a paused rollout (the step bakes again)',
  abort: 'roll the canary back now, or end the release before its rollout (exit 4)',
  promote: 'skip the remaining steps: the canary becomes stable (signed; an operator of the team)',
};

interface ControlOpts {
  as?: string;
  message?: string;
  key?: string;
  print?: boolean;
}

async function runningState(handle: WorkflowHandle, ref: string, action: string): Promise<ReleaseState> {
  const { model } = releaseRef(ref);
  const state = await handle.query(stateQuery).catch(() => {
    throw new PavedError(`no release ${ref} is running. Fix: check it with \`paved status ${model}\``);
  });
  if (state.outcome)
    throw new PavedError(`${ref} already ended (${state.outcome.status}); there is no rollout to ${action}`);
  return state;
}

/** Promote skips every remaining judgement: it goes as a signed decision, answered by the release. */
async function promote(handle: WorkflowHandle, ref: string, actor: string, opts: ControlOpts): Promise<void> {
  const state = await runningState(handle, ref, 'promote');
  if (state.stage !== 'rollout')
    throw new PavedError(
      `${ref} is in ${state.stage}: promote applies to a rollout in progress. Fix: promote once \`paved status ${ref}\` shows the rollout`,
    );
  const { model, version } = releaseRef(ref);
  const signed = await signDecision(
    {
      action: 'promote',
      model,
      version,
      package: state.digest,
      signer: actor,
      ...(opts.message ? { comment: opts.message } : {}),
    },
    requireSigningKey(opts.key),
  );
  if (opts.print) {
    process.stdout.write(`${signalInput(signed)}\n`);
    return;
  }
  try {
    const said = await handle.executeUpdate(promoteUpdate, { args: [signed] });
    process.stdout.write(`${ref}: ${said} (at ${state.rollout?.weight ?? 0} %)\n`);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new PavedError(`promote refused: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

export function registerRolloutControlCommands(program: Command): void {
  for (const action of Object.keys(WHAT) as Array<keyof typeof WHAT>) {
    const command = program
      .command(action)
      .description(`${WHAT[action]}`)
      .argument('<release>', '<model>/<version>')
      .option('--as <user>', 'operator identity (default: PAVED_USER, then git user.email)')
      .option('-m, --message <text>', 'reason, for the audit trail');
    if (action === 'promote')
      command
        .option(
          '--key <file>',
          'SSH key to sign with (default: PAVED_SIGNING_KEY, git user.signingkey, ssh-agent)',
        )
        .option('--print', 'print the signed decision for the Temporal UI ("Send a Signal": signedDecision)');
    command.action(async (ref: string, opts: ControlOpts) => {
      const actor = resolveIdentity(opts.as);
      if (!actor) throw new PavedError('who is steering? Fix: pass --as <email> or set PAVED_USER');
      const { model, version } = releaseRef(ref);
      await withClient(loadConfig(), async (client) => {
        const handle = client.workflow.getHandle(workflowIdFor(model, version));
        if (action === 'promote') return promote(handle, ref, actor, opts);
        const state = await runningState(handle, ref, action);
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
        process.stdout.write(
          `${ref}: ${action} sent by ${actor} (${where}); the release refuses it, in its audit, if ${actor} is not listed for the team\n`,
        );
      });
    });
  }
}
