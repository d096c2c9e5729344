import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReleaseActivities } from '../../activities/index.js';
import type { ModelRoute } from '../../domain/route.js';
import type { ServedVersionSpec } from '../../domain/serving.js';
import {
  servingReplySignal,
  servingRequestSignal,
  servingWorkflowId,
  type ServingCommand,
  type ServingReply,
} from '../serving-definitions.js';
import { quickCall } from '../activity-options.js';

const { requestServing } = proxyActivities<ReleaseActivities>(
  quickCall('ask the model’s serving workflow for the rollout lane'),
);

/** The lane may take hours (a rollout ahead holds for traffic or a review); a command, minutes. */
const COMMAND_TIMEOUT = '20 minutes';

/**
 * A release's side of its model's serving workflow: it queues for the rollout lane,
 * then asks for replicas and routes while it holds the lane, and gives it back.
 */
export class ServingLane {
  private seq = 0;
  private readonly replies = new Map<number, ServingReply>();
  private behind: { release: string; ahead: number } | null = null;
  private readonly me = workflowInfo();
  private readonly servingId: string;

  constructor(private readonly model: string) {
    this.servingId = servingWorkflowId(model, this.me.taskQueue);
    setHandler(servingReplySignal, (r) => {
      if (r.queued) this.behind = { release: r.queued.behind, ahead: r.queued.ahead };
      else this.replies.set(r.id, r);
    });
  }

  /** Waits for the lane (saying who holds it meanwhile); the route as it was granted. */
  async acquire(reconcileEveryMs: number, show: (details: string) => void): Promise<ModelRoute | null> {
    const id = ++this.seq;
    await requestServing({
      model: this.model,
      taskQueue: this.me.taskQueue,
      request: { from: this.me.workflowId, id, command: { kind: 'lane', reconcileEveryMs } },
    });
    let shown: string | null = null;
    for (;;) {
      await condition(() => this.replies.has(id) || (this.behind?.release ?? null) !== shown);
      if (this.replies.has(id)) break;
      shown = this.behind?.release ?? null;
      if (shown) {
        const more = this.behind!.ahead > 0 ? ` (${this.behind!.ahead} more ahead)` : '';
        show(`rollout: waiting for ${shown.replace(/^release\//, '')} to finish its rollout${more}`);
      }
    }
    return this.take(id).route ?? null;
  }

  async start(
    spec: ServedVersionSpec,
  ): Promise<{ version: string; endpoints: string[]; replicas: string[] }> {
    const r = await this.call({ kind: 'start', spec });
    return r.started!;
  }

  async route(route: Partial<ModelRoute> | null): Promise<void> {
    await this.call({ kind: 'route', route });
  }

  async stop(version: string): Promise<void> {
    await this.call({ kind: 'stop', version });
  }

  /** Gives the lane back, or leaves the queue. */
  async done(): Promise<void> {
    await this.send(++this.seq, { kind: 'done' });
  }

  private async send(id: number, command: ServingCommand): Promise<void> {
    await getExternalWorkflowHandle(this.servingId).signal(servingRequestSignal, {
      from: this.me.workflowId,
      id,
      command,
    });
  }

  private async call(command: ServingCommand): Promise<ServingReply> {
    const id = ++this.seq;
    await this.send(id, command);
    if (!(await condition(() => this.replies.has(id), COMMAND_TIMEOUT)))
      throw ApplicationFailure.nonRetryable(
        `the serving workflow of ${this.model} did not answer "${command.kind}" within ${COMMAND_TIMEOUT}`,
        'ServingFailed',
      );
    const reply = this.take(id);
    if (reply.error) throw ApplicationFailure.nonRetryable(reply.error, 'ServingFailed');
    return reply;
  }

  private take(id: number): ServingReply {
    const r = this.replies.get(id)!;
    this.replies.delete(id);
    return r;
  }
}
