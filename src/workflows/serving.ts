import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities/index.js';
import { FAILURE, rootMessage } from '../domain/errors.js';
import type { ModelRoute } from '../domain/route.js';
import {
  emptyServing,
  grantNext,
  joinLane,
  leaveLane,
  routeWithEndpoints,
  withVersion,
  type ServingState,
} from '../domain/serving.js';
import {
  servingReplySignal,
  servingRequestSignal,
  servingStateQuery,
  type ServingInput,
  type ServingReply,
  type ServingRequest,
} from './serving-definitions.js';
import { quickCall, WORKER_LOSS_NOTICED_AFTER } from './activity-options.js';

const quick = proxyActivities<ReleaseActivities>(quickCall('serving: route or lane'));
const replicas = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: {
    maximumAttempts: 3,
    initialInterval: '5 seconds',
    nonRetryableErrorTypes: [FAILURE.policyInvalid],
  },
  summary: 'serving: start or stop replicas',
});
// A reconcile that fails is tried again at the next tick, not retried in place:
// the loop must stay free to answer the release that holds the lane.
const reconciler = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: WORKER_LOSS_NOTICED_AFTER,
  retry: { maximumAttempts: 1 },
  summary: 'serving: reconcile replicas',
});

/** Past this many events the run continues as new, well inside Temporal's limits. */
const HISTORY_BUDGET = 2_000;

/**
 * One model's serving: the only writer of which versions serve, their replicas and
 * the route. Releases take the rollout lane one at a time, in the order they asked
 * (signals both ways, no polling); the lane holder's commands are carried out here.
 * Between commands it reconciles on a timer (a dead replica is replaced, a stray one
 * removed) and continues as new to keep its history bounded.
 */
export async function serving(input: ServingInput): Promise<void> {
  const state: ServingState = input.state ?? emptyServing(input.model);
  const model = state.model;
  const inbox: ServingRequest[] = [];
  setHandler(servingRequestSignal, (req) => void inbox.push(req));
  setHandler(servingStateQuery, () => state);

  const describe = () => {
    const serving = state.versions.map((v) => `${v.version} ×${v.replicas}`).join(', ') || 'nothing';
    const lane = state.lane.holder
      ? `; rolling out: ${state.lane.holder.release.replace(/^release\//, '')}${state.lane.queue.length ? `, ${state.lane.queue.length} waiting` : ''}`
      : '';
    setCurrentDetails(`serving ${serving}${lane}`);
  };

  const reply = async (to: string, answer: ServingReply): Promise<void> => {
    try {
      await getExternalWorkflowHandle(to).signal(servingReplySignal, answer);
    } catch {
      // The release is gone (terminated): it cannot use the lane any more.
      state.lane = leaveLane(state.lane, to);
    }
  };

  /** Hands a free lane to the next release in line, with the route as it is now. */
  const grant = async (): Promise<void> => {
    for (;;) {
      const next = grantNext(state.lane);
      if (!next.granted) return;
      state.lane = next.lane;
      // Operators change faults and shadows on the route directly: read it fresh.
      state.route = await quick.currentRoute({ model });
      await reply(next.granted.release, { id: next.granted.request, error: null, route: state.route });
      if (state.lane.holder) return;
    }
  };

  const carryOut = async (req: ServingRequest): Promise<ServingReply> => {
    const { command } = req;
    if (command.kind === 'start') {
      const spec = command.spec;
      const started = await replicas.startServing({ model, ...spec, keeper: workflowInfo().workflowId });
      state.versions = withVersion(state.versions, { ...spec, endpoints: started.endpoints });
      return {
        id: req.id,
        error: null,
        started: { version: spec.version, endpoints: started.endpoints, replicas: started.replicas },
      };
    }
    if (command.kind === 'route') {
      await quick.setRoute({ model, route: command.route });
      state.route = command.route ? (command.route as ModelRoute) : null;
      return { id: req.id, error: null };
    }
    if (command.kind === 'stop') {
      // Forgotten first: a reconcile must not start again what is being stopped.
      state.versions = state.versions.filter((v) => v.version !== command.version);
      await replicas.stopServing({ model, version: command.version });
      return { id: req.id, error: null };
    }
    return { id: req.id, error: `unknown command ${(command as { kind: string }).kind}` };
  };

  const handle = async (req: ServingRequest): Promise<void> => {
    const { command } = req;
    if (command.kind === 'lane') {
      if (command.reconcileEveryMs > 0) state.reconcileEveryMs = command.reconcileEveryMs;
      state.lane = joinLane(state.lane, {
        release: req.from,
        request: req.id,
        since: new Date().toISOString(),
      });
      await grant();
      const waiting = state.lane.queue.findIndex((e) => e.release === req.from);
      if (waiting >= 0 && state.lane.holder)
        await reply(req.from, {
          id: req.id,
          error: null,
          queued: { behind: state.lane.holder.release, ahead: waiting },
        });
      return;
    }
    if (command.kind === 'done') {
      state.lane = leaveLane(state.lane, req.from);
      return grant();
    }
    if (state.lane.holder?.release !== req.from) {
      await reply(req.from, {
        id: req.id,
        error: `${req.from} does not hold the rollout lane of ${model}; ${state.lane.holder?.release ?? 'no release'} does`,
      });
      return;
    }
    let answer: ServingReply;
    try {
      answer = await carryOut(req);
    } catch (err) {
      answer = { id: req.id, error: rootMessage(err) };
    }
    await reply(req.from, answer);
  };

  const reconcile = async (): Promise<void> => {
    const at = new Date().toISOString();
    try {
      // A release that was terminated while holding the lane never gives it back.
      if (state.lane.holder && !(await quick.releaseRunning({ workflowId: state.lane.holder.release }))) {
        state.lane = leaveLane(state.lane, state.lane.holder.release);
        await grant();
      }
      const wanted = state.versions.map(({ endpoints: _, ...spec }) => spec);
      const done = await reconciler.reconcileServing({
        model,
        versions: wanted,
        keeper: workflowInfo().workflowId,
      });
      state.versions = state.versions.map((v) => ({
        ...v,
        endpoints: done.endpoints[v.version] ?? v.endpoints,
      }));
      const route = routeWithEndpoints(state.route, done.endpoints);
      if (route !== state.route) {
        await quick.setRoute({ model, route });
        state.route = route;
      }
      state.last = { at, replaced: done.replaced, removed: done.removed, problem: null };
    } catch (err) {
      state.last = { at, replaced: [], removed: [], problem: rootMessage(err) };
    }
  };

  if (!state.adopted) {
    const found = await quick.adoptServing({ model });
    state.route = found.route;
    state.versions = found.versions;
    state.adopted = true;
  }
  describe();

  let nextReconcile = Date.now() + state.reconcileEveryMs;
  for (;;) {
    await condition(() => inbox.length > 0, Math.max(nextReconcile - Date.now(), 1));
    while (inbox.length > 0) await handle(inbox.shift()!);
    if (Date.now() >= nextReconcile) {
      await reconcile();
      nextReconcile = Date.now() + state.reconcileEveryMs;
    }
    describe();
    const info = workflowInfo();
    if ((info.continueAsNewSuggested || info.historyLength > HISTORY_BUDGET) && inbox.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof serving>({ model, state });
    }
  }
}
