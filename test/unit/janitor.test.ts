import { describe, expect, it } from 'vitest';
import {
  findStrays,
  keeperRunning,
  keeperWorkflowIds,
  parseKeeper,
  servingWorkflowModel,
  type ManagedContainer,
  type Stray,
} from '../../src/domain/janitor.js';
import type { ModelRoute } from '../../src/domain/route.js';

const HOST = 'unix:///var/run/docker.sock';

function container(name: string, over: Partial<ManagedContainer> = {}): ManagedContainer {
  return {
    name,
    model: 'arrests',
    version: 'v1',
    role: 'serving',
    keeper: null,
    host: HOST,
    running: true,
    endpoint: `unix:/run/${name}/model.sock`,
    ...over,
  };
}

function route(version: string, endpoints: string[]): ModelRoute {
  return { stable: { version, endpoints }, canary: null, shadow: null, faults: {}, stickyInput: null };
}

const names = (xs: Array<{ name: string }>) => xs.map((x) => x.name);

describe('keeper labels', () => {
  it('splits a shadow keeper at its @ into workflow id and task queue; a serving keeper has no queue', () => {
    expect(parseKeeper('release/arrests/v1@paved')).toEqual({
      workflowId: 'release/arrests/v1',
      taskQueue: 'paved',
    });
    expect(parseKeeper('release/arrests/v1@team@b')).toEqual({
      workflowId: 'release/arrests/v1',
      taskQueue: 'team@b',
    });
    expect(parseKeeper('serving/arrests')).toEqual({ workflowId: 'serving/arrests', taskQueue: null });
  });

  it('an empty, missing or malformed label is no keeper', () => {
    for (const label of [null, undefined, '', '@paved', 'release/arrests/v1@'])
      expect(parseKeeper(label)).toBeNull();
  });

  it('a keeper naming a queue runs only when its workflow runs on that queue', () => {
    const running = new Map([['release/arrests/v1', 'paved']]);
    expect(keeperRunning(parseKeeper('release/arrests/v1@paved')!, running)).toBe(true);
    expect(keeperRunning(parseKeeper('release/arrests/v1@team-b')!, running)).toBe(false);
    expect(keeperRunning(parseKeeper('release/arrests/v2@paved')!, running)).toBe(false);
    expect(keeperRunning(parseKeeper('release/arrests/v1')!, running)).toBe(true);
  });

  it('names the model of a serving workflow on the default queue and on another one', () => {
    expect(servingWorkflowModel('serving/arrests')).toBe('arrests');
    expect(servingWorkflowModel('serving/it-q-1/arrests')).toBe('arrests');
    expect(servingWorkflowModel('release/arrests/v1')).toBeNull();
  });

  it('asks about each keeper workflow once, and never about containers without one', () => {
    const ids = keeperWorkflowIds([
      container('a', { keeper: 'release/arrests/v1@paved' }),
      container('b', { keeper: 'release/arrests/v1@paved' }),
      container('c', { keeper: 'serving/arrests' }),
      container('d'),
      container('e', { keeper: '@paved' }),
    ]);
    expect(ids).toEqual(['release/arrests/v1', 'serving/arrests']);
  });
});

describe('findStrays', () => {
  it('a container whose keeper does not run is stray, with one sentence naming the keeper and its queue', () => {
    const { strays, unkept } = findStrays({
      containers: [
        container('paved_shadow.arrests.v2', { role: 'shadow', keeper: 'release/arrests/v2@paved' }),
      ],
      routes: {},
      running: new Map(),
    });
    expect(unkept).toEqual([]);
    expect(strays).toEqual([
      {
        kind: 'container',
        name: 'paved_shadow.arrests.v2',
        model: 'arrests',
        host: HOST,
        reason:
          'its keeper release/arrests/v2 on task queue paved does not run (ended, terminated or unknown to this Temporal namespace), so nothing would ever stop it',
      },
    ]);
  });

  it('a container whose keeper runs is left alone and not reported; one whose keeper runs on another queue is stray', () => {
    const { strays, unkept } = findStrays({
      containers: [
        container('measuring', { role: 'shadow', keeper: 'release/arrests/v3@paved' }),
        container('paved-arrests.v1', { keeper: 'serving/arrests' }),
        container('other-queue', { role: 'shadow', keeper: 'release/arrests/v3@team-b' }),
      ],
      routes: { arrests: route('v1', ['unix:/run/paved-arrests.v1/model.sock']) },
      running: new Map([
        ['release/arrests/v3', 'paved'],
        ['serving/arrests', 'paved'],
      ]),
    });
    expect(names(strays)).toEqual(['other-queue']);
    expect(unkept).toEqual([]);
  });

  it('a serving replica whose serving workflow was terminated is stray, and so is the route it served', () => {
    const { strays } = findStrays({
      containers: [container('paved-arrests.v1', { keeper: 'serving/arrests' })],
      routes: { arrests: route('v1', ['unix:/run/paved-arrests.v1/model.sock']) },
      running: new Map(),
    });
    expect(strays.map((s) => [s.kind, s.name])).toEqual([
      ['container', 'paved-arrests.v1'],
      ['route', 'arrests'],
    ]);
    expect(strays[1]!.reason).toBe(
      'no serving workflow runs for arrests and none of its serving replicas is left, so the route (v1) sends traffic to nothing that will be kept',
    );
  });

  it('a route is kept while its model has a serving workflow, even with no replica yet', () => {
    const { strays } = findStrays({
      containers: [],
      routes: { arrests: route('v1', ['unix:/run/x/model.sock']) },
      running: new Map([['serving/it-q/arrests', 'it-q']]),
    });
    expect(strays).toEqual([]);
  });

  it('a route for a model with neither a serving workflow nor replicas is stray; a running shadow of the model does not keep it', () => {
    const { strays } = findStrays({
      containers: [container('shadow', { role: 'shadow', keeper: 'release/arrests/v2@paved' })],
      routes: { arrests: route('v1', ['unix:/run/gone/model.sock']) },
      running: new Map([['release/arrests/v2', 'paved']]),
    });
    expect(strays.map((s) => [s.kind, s.name])).toEqual([['route', 'arrests']]);
  });

  describe('containers without a keeper (from before keepers)', () => {
    const judged = (
      containers: ManagedContainer[],
      routes: Record<string, ModelRoute>,
      serving: string[],
    ) => {
      const found = findStrays({ containers, routes, running: new Map(serving.map((id) => [id, 'paved'])) });
      const said = (xs: Stray[]) => xs.map((x) => [x.name, x.reason]);
      return { strays: said(found.strays), unkept: said(found.unkept) };
    };

    it('are reported and left alone while their model has a running serving workflow', () => {
      expect(judged([container('paved-arrests.v0')], {}, ['serving/arrests'])).toEqual({
        strays: [],
        unkept: [
          [
            'paved-arrests.v0',
            "it has no keeper, but arrests's serving workflow runs and may have adopted it; its reconcile decides",
          ],
        ],
      });
    });

    it('are reported and left alone, with their route, while a route sends traffic to them', () => {
      const c = container('paved-arrests.v0');
      expect(judged([c], { arrests: route('v0', [c.endpoint]) }, [])).toEqual({
        strays: [],
        unkept: [
          [
            'paved-arrests.v0',
            "it has no keeper and arrests has no serving workflow, but the gateway's route sends traffic to it; the next release of arrests makes a serving workflow adopt it",
          ],
        ],
      });
    });

    it('are stray when their model has no running serving workflow and no route sends to them', () => {
      const c = container('paved-try-arrests.v0', { role: 'try', running: false });
      expect(judged([c], {}, ['serving/other'])).toEqual({
        strays: [
          [
            'paved-try-arrests.v0',
            'it has no keeper, arrests has no running serving workflow and no route sends traffic to it',
          ],
        ],
        unkept: [],
      });
    });

    it('without a model label they are only reported, never stray', () => {
      const found = judged([container('probe', { model: null, version: null, role: null })], {}, []);
      expect(found.strays).toEqual([]);
      expect(found.unkept).toEqual([
        [
          'probe',
          'it has no keeper and no paved.release label, so no model or workflow vouches for it; remove it by hand if nothing uses it',
        ],
      ]);
    });
  });
});
