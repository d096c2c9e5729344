import {
  allHandlersFinished,
  CancellationScope,
  isCancellation,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities/index.js';
import type { AuditEntry } from '../domain/audit.js';
import {
  outcome,
  releaseNameProblem,
  type PendingReview,
  type ReleaseInput,
  type ReleaseOutcome,
  type StageName,
  type StageOutcome,
} from '../domain/release.js';
import type { Finding } from '../domain/schema-errors.js';
import { rootMessage } from '../domain/errors.js';
import {
  auditQuery,
  PavedModel,
  PavedOutcome,
  PavedStage,
  rolloutControlSignal,
  stateQuery,
  type ReleaseState,
} from './definitions.js';
import { runRollout, type RolloutControl } from './stages/rollout.js';
import { runBind } from './stages/bind.js';
import { runShadow } from './stages/shadow.js';
import { runBias } from './stages/bias.js';
import { runContainerize } from './stages/containerize.js';
import { runValidate } from './stages/validate.js';
import { WORKER_LOSS_NOTICED_AFTER } from './activity-options.js';
import { openDecisionDesk } from './decisions.js';
import { checkReleaseRequest } from './release-request.js';
import { controlRefusal, type Deciders } from '../domain/signed-decision.js';

const { exportAudit } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: { maximumAttempts: 20, nonRetryableErrorTypes: ['AuditAppendOnlyError', 'InvalidReleaseNameError'] },
  summary: 'export the audit trail',
});

/**
 * One release of one model version: the stages of DESIGN.md in order, as far as
 * they are built (today: validate, containerize, bind, shadow, bias, review when a
 * stage asks for it, then the progressive rollout behind the gateway).
 * The workflow holds the release's whole state; activities do all I/O.
 */
export async function release(input: ReleaseInput): Promise<ReleaseOutcome> {
  const state: ReleaseState = {
    model: input.model,
    version: input.version,
    digest: input.package.digest,
    owner: null,
    stage: 'queued',
    stages: [],
    pendingReview: null,
    review: null,
    outcome: null,
    details: 'queued',
    rollout: null,
  };
  const control: RolloutControl = { paused: false, abort: null, promote: null };
  const audit: AuditEntry[] = [];
  const record = (entry: Omit<AuditEntry, 'seq' | 'at'>) =>
    audit.push({ seq: audit.length + 1, at: new Date().toISOString(), ...entry });

  const show = (details: string) => {
    state.details = details;
    setCurrentDetails(details);
  };
  const enter = (stage: StageName) => {
    state.stage = stage;
    upsertSearchAttributes([
      { key: PavedModel, value: input.model },
      { key: PavedStage, value: stage },
    ]);
    show(`${stage}: running`);
  };

  setHandler(stateQuery, () => state);
  setHandler(auditQuery, () => audit);
  let deciders: (Deciders & { signedWithin: string }) | null = null;
  openDecisionDesk({
    input,
    state,
    record,
    deciders: () => deciders,
    promote: (actor, reason) => {
      control.promote ??= { actor, ...(reason ? { reason } : {}) };
    },
  });

  setHandler(rolloutControlSignal, ({ action, actor, reason }) => {
    // Promote skips every remaining judgement: only a signed decision does that.
    if ((action as string) === 'promote') {
      record({
        actor,
        action: 'rollout promote refused',
        stage: 'rollout',
        reason: 'promote must be signed by an operator of the team: use `paved promote`',
      });
      return;
    }
    const refusal = controlRefusal(actor, deciders);
    if (refusal) {
      record({ actor, action: `rollout ${action} refused`, stage: 'rollout', reason: refusal });
      return;
    }
    // An abort before the rollout ends the release at the next stage boundary (the
    // pipeline checks it); pause/resume only matter during the rollout.
    if (action === 'pause') control.paused = true;
    if (action === 'resume') control.paused = false;
    if (action === 'abort') control.abort ??= { actor, ...(reason ? { reason } : {}) };
    if (state.rollout) state.rollout.paused = control.paused;
    record({ actor, action: `rollout ${action}`, stage: 'rollout', ...(reason ? { reason } : {}) });
  });

  record({ actor: input.requestedBy, action: 'release requested', inputsDigest: input.package.digest });

  const finish = async (result: ReleaseOutcome): Promise<ReleaseOutcome> => {
    state.outcome = result;
    state.stage = 'done';
    state.pendingReview = null;
    upsertSearchAttributes([
      { key: PavedStage, value: result.status },
      { key: PavedOutcome, value: result.status },
    ]);
    show(`${result.status}: ${result.reason}`);
    record({
      actor: 'paved',
      action: `release ${result.status}`,
      verdict: result.exitCode === 0 ? 'pass' : 'fail',
      reason: result.reason,
    });
    try {
      await exportAudit({
        model: input.model,
        version: input.version,
        runId: workflowInfo().runId,
        entries: audit,
      });
    } catch (err) {
      // The decision stands: the trail is still in this run's history and audit query.
      show(`${result.status}: ${result.reason} (audit export failed: ${rootMessage(err)})`);
    }
    // Let an in-flight review update reply before the run closes.
    await condition(allHandlersFinished);
    return result;
  };

  const stageDone = (o: StageOutcome) => {
    state.stages.push({ stage: o.stage, verdict: o.verdict.kind, summary: o.summary });
    record({
      actor: 'paved',
      action: `stage ${o.stage}`,
      stage: o.stage,
      inputsDigest: input.package.digest,
      outputs: o.output,
      verdict: o.verdict.kind,
      reason:
        o.verdict.kind === 'fail'
          ? o.verdict.reason
          : o.verdict.kind === 'needs-review'
            ? o.verdict.reasons.map((r) => r.message).join('; ')
            : undefined,
    });
    show(`${o.stage}: ${o.summary}`);
  };

  let reviewRounds = 0;
  /**
   * The review stage: waits for a reviewer's decision; an outcome when the release
   * ends there. `during` names the stage that asks when it keeps its place (the
   * rollout holds its model's lane while a person decides).
   */
  const askReview = async (
    reviewReasons: Finding[],
    who: { reviewers: string[]; owner: string; deadline: string },
    during?: 'rollout',
    /** An operator's abort (in the rollout, also a promote) ends the wait: the caller acts on it. */
    overtaken: () => boolean = () => false,
  ): Promise<ReleaseOutcome | null> => {
    if (!during) enter('review');
    // A new round: the earlier decision stays in the audit and stage summaries.
    state.review = null;
    reviewRounds += 1;
    const deadline = who.deadline;
    const pending: PendingReview = {
      reasons: reviewReasons,
      reviewers: who.reviewers,
      owner: who.owner,
      requestedBy: input.requestedBy,
      since: new Date().toISOString(),
      deadline,
      round: reviewRounds,
    };
    state.pendingReview = pending;
    show(
      `review: waiting for ${pending.reviewers.join(' or ')} (${reviewReasons.map((r) => r.message).join('; ')})`,
    );
    record({
      actor: 'paved',
      action: 'review requested',
      stage: during ?? 'review',
      reason: reviewReasons.map((r) => r.message).join('; '),
    });
    const answered = await condition(() => state.review !== null || overtaken(), deadline);
    if (state.review === null && overtaken()) {
      state.pendingReview = null;
      record({
        actor: 'paved',
        action: 'review withdrawn',
        stage: during ?? 'review',
        reason: during ? 'an operator aborted or promoted the rollout' : 'an operator aborted the release',
      });
      return null;
    }
    if (!answered && state.review === null) {
      state.pendingReview = null;
      return outcome(
        'expired',
        during ?? 'review',
        `no reviewer answered within ${deadline}; release again under a new --version when a reviewer is available`,
      );
    }
    const review = state.review!;
    state.stages.push({
      stage: 'review',
      verdict: review.decision === 'approve' ? 'pass' : 'fail',
      summary: `${review.decision === 'approve' ? 'approved' : 'rejected'} by ${review.reviewer}`,
    });
    if (review.decision === 'reject') {
      return outcome(
        'rejected',
        during ?? 'review',
        `rejected by ${review.reviewer}${review.comment ? `: ${review.comment}` : ''}`,
      );
    }
    return null;
  };

  /** An operator's abort before the rollout: the release ends where it stands, no traffic moved. */
  const abortedEarly = (): ReleaseOutcome | null => {
    if (!control.abort) return null;
    const { actor, reason } = control.abort;
    const where = state.stage === 'queued' || state.stage === 'done' ? 'validate' : state.stage;
    return outcome(
      'rolled-back',
      where,
      `aborted by ${actor} during ${where}, before the rollout${reason ? ` (${reason})` : ''}; no traffic moved`,
    );
  };

  /** The stages in order; returns how the release ended. finish() records and exports it. */
  const pipeline = async (): Promise<ReleaseOutcome> => {
    const reviewReasons: Finding[] = [];

    // validate
    enter('validate');
    // A client other than the CLI may start one under any id: every store and container
    // name is built from these, so they follow the one rule before anything runs.
    const misnamed = releaseNameProblem(input.model, input.version);
    if (misnamed) return outcome('stopped', 'validate', misnamed);
    const validated = await runValidate({ input });
    stageDone(validated);
    if (validated.verdict.kind === 'fail') return outcome('stopped', 'validate', validated.verdict.reason);
    if (validated.verdict.kind === 'needs-review') reviewReasons.push(...validated.verdict.reasons);
    const manifest = validated.output.manifest!;
    state.owner = manifest.owner;
    const team: Deciders = {
      team: manifest.team,
      reviewers: validated.output.reviewers,
      operators: validated.output.operators,
      owner: manifest.owner,
      requestedBy: input.requestedBy,
    };
    const signedWithin = validated.output.signedWithin ?? '15m';
    // A signed request proves who asked (and, from CI, whose commit it is): neither may review it.
    const request = await checkReleaseRequest(input, team, signedWithin, record);
    if ('refused' in request) return outcome('stopped', 'validate', request.refused);
    deciders = { ...request.deciders, signedWithin };
    const reviewWho = {
      reviewers: validated.output.reviewers,
      owner: manifest.owner,
      deadline: validated.output.reviewDeadline ?? '72h',
    };

    // containerize: the image is built and pushed even off the path; nothing in it runs
    // before a reviewer approves.
    let aborted = abortedEarly();
    if (aborted) return aborted;
    enter('containerize');
    const built = await runContainerize({ input }, manifest.template);
    stageDone(built);

    // bind: the feature service the model reads, checked against its signature and
    // for freshness and skew; the binding is what its containers will be given.
    aborted = abortedEarly();
    if (aborted) return aborted;
    enter('bind');
    const bound = await runBind({ input }, manifest);
    stageDone(bound);
    if (bound.verdict.kind === 'fail') return outcome('stopped', 'bind', bound.verdict.reason);

    // Off the path, a reviewer approves before anything in the image runs (shadow
    // starts it); on the path, review comes after the gates, with their report.
    let approvedOffPath = false;
    if (reviewReasons.length > 0) {
      const ended = await askReview(reviewReasons, reviewWho, undefined, () => control.abort !== null);
      if (ended) return ended;
      approvedOffPath = true;
    }
    aborted = abortedEarly();
    if (aborted) return aborted;

    // shadow: candidate and stable measured on replayed traffic.
    enter('shadow');
    const shadow = await runShadow(
      { input },
      {
        manifest,
        image: built.output.image,
        binding: bound.output.report?.binding ?? null,
        allowPickle: approvedOffPath,
      },
    );
    stageDone(shadow);
    if (shadow.verdict.kind === 'fail') return outcome('stopped', 'shadow', shadow.verdict.reason);
    const lateReasons: Finding[] = shadow.verdict.kind === 'needs-review' ? [...shadow.verdict.reasons] : [];

    // bias: per-group rates of the shadow predictions, against policy and stable.
    aborted = abortedEarly();
    if (aborted) return aborted;
    enter('bias');
    const bias = await runBias(
      { input },
      { manifest, shadow: shadow.output, entityKey: bound.output.report?.binding.entityKey ?? null },
    );
    stageDone(bias);
    if (bias.verdict.kind === 'fail') return outcome('stopped', 'bias', bias.verdict.reason);
    if (bias.verdict.kind === 'needs-review') lateReasons.push(...bias.verdict.reasons);

    // review after the gates, when one asked for it and no reviewer has decided yet
    if (lateReasons.length > 0 && state.review === null) {
      const ended = await askReview(lateReasons, reviewWho, undefined, () => control.abort !== null);
      if (ended) return ended;
    }

    aborted = abortedEarly();
    if (aborted) return aborted;
    // rollout: the candidate takes traffic behind the gateway, step by step.
    enter('rollout');
    const rolled = await runRollout(
      { input },
      {
        manifest,
        image: built.output.image,
        binding: bound.output.report?.binding ?? null,
        allowPickle: approvedOffPath,
        replicas: shadow.output.sizing?.replicas ?? 1,
        control,
        record,
        show,
        progress: (p) => {
          state.rollout = { ...p, paused: control.paused };
        },
        askReview: async (reasons) => {
          const ended = await askReview(
            reasons,
            reviewWho,
            'rollout',
            () => control.abort !== null || control.promote !== null,
          );
          if (!ended && state.review) show('rollout: approved; going on');
          return ended;
        },
        approvedBy: () => (state.review?.decision === 'approve' ? state.review.reviewer : null),
      },
    );
    stageDone({
      stage: 'rollout',
      verdict: rolled.kind === 'released' ? { kind: 'pass' } : { kind: 'fail', reason: rolled.reason },
      output: null,
      summary: rolled.reason,
    });
    if (rolled.kind !== 'released') return outcome(rolled.kind, 'rollout', rolled.reason);

    const passed = state.stages.map((s) => s.stage).join(', ');
    const unjudged = rolled.judged ? '' : '; first release, not judged on live traffic';
    const sized = shadow.output.sizing ? `; serves on ${shadow.output.sizing.line}` : '';
    return outcome('released', 'done', `passed ${passed}${unjudged}${sized}`);
  };

  let result: ReleaseOutcome;
  try {
    result = await pipeline();
  } catch (err) {
    // A cancelled or crashed release still gets its last audit entry and export,
    // even while the workflow is being cancelled; then the error ends the run.
    const stage = state.stage === 'queued' || state.stage === 'done' ? 'done' : state.stage;
    const ended = isCancellation(err)
      ? outcome('cancelled', stage, `cancelled by an operator during ${stage}`)
      : outcome('failed', stage, `${stage} failed: ${rootMessage(err)}`);
    await CancellationScope.nonCancellable(() => finish(ended));
    throw err;
  }
  return finish(result);
}
