import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { z } from 'zod';
import {
  DOOR_NAME_PATTERN,
  FeatureDoorSchema,
  ModelRouteSchema,
  MODEL_NAME_PATTERN,
  routedVersions,
  type RouteTable,
} from '../domain/route.js';
import { TrafficCapture } from './capture.js';
import type { DataPlane } from './data-plane.js';
import { RouteStore } from './route-store.js';
import { WindowedStats } from './window-stats.js';

export interface ControlPlaneOptions {
  /** The admin API listens on 127.0.0.1:<adminPort>. */
  adminPort: number;
  /** Bearer token for /admin; compared in constant time. */
  token: string;
  routesFile: string;
  dataPlane: DataPlane;
  /** Where sampled requests are kept per model for the shadow stage. */
  capture: { dir: string; rate: number; maxBytes: number };
  /** Identifies the code this control plane runs; `paved stack up` restarts one whose build is stale. */
  build?: string;
  /** How often the data plane's counters and sampled requests are read. */
  pollMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

function error(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify({ error: message }));
}

/** A JSON body as a value of the schema, or the sentence for a 400 naming the field. */
function parseBody<T>(body: unknown, schema: z.ZodType<T>, what: string): { value: T } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(String(body ?? ''));
  } catch {
    return { error: `body: must be a JSON ${what}` };
  }
  const parsed = schema.safeParse(doc);
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { error: `${issue.path.join('.') || what}: ${issue.message}` };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * paved's control plane: it owns the route table (on disk first, then pushed to the
 * data plane), answers the rollout's window stats from the data plane's counters, and
 * files the requests the data plane samples into per-model capture files. No request
 * to a model passes through it.
 */
export async function createControlPlane(opts: ControlPlaneOptions): Promise<FastifyInstance> {
  const store = new RouteStore(opts.routesFile);
  let table: RouteTable = store.load();
  const plane = opts.dataPlane;
  const stats = new WindowedStats(plane.latencyEdgesMs);
  const capture = new TrafficCapture(opts.capture.dir, opts.capture.rate, opts.capture.maxBytes);

  // Whatever the data plane had, it gets the acknowledged table; a data plane that is
  // down reads it from disk when it starts.
  await plane
    .apply(table)
    .catch((err: Error) => opts.log?.warn({ err: err.message }, 'routes not pushed yet'));

  let reading: Promise<void> | null = null;
  const readNow = async () => {
    try {
      stats.add(await plane.counters(table));
      for (const c of await plane.takeCaptured()) capture.record(c.model, c.key, c.body, c.at);
    } catch (err) {
      opts.log?.warn({ err: (err as Error).message }, 'data plane not read');
    }
  };
  /** One read at a time; a caller that comes during one waits for it. */
  const poll = () => (reading ??= readNow().finally(() => (reading = null)));
  await poll();
  const timer = setInterval(() => void poll(), opts.pollMs ?? 1000);

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/healthz', async () => ({
    live: true,
    build: opts.build ?? null,
    dataPlane: await plane.health(),
  }));

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req, reply) => {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameToken(auth.slice(7), opts.token)) {
        return error(
          reply,
          401,
          'admin API: send Authorization: Bearer <token> (PAVED_HOME/gateway/admin-token)',
        );
      }
    });
    admin.addHook('preHandler', async (req, reply) => {
      const { model, door } = req.params as { model?: string; door?: string };
      if (model !== undefined && !MODEL_NAME_PATTERN.test(model))
        return error(reply, 400, `model: '${model}' is not a model name (a-z, 0-9, -)`);
      if (door !== undefined && !DOOR_NAME_PATTERN.test(door))
        return error(reply, 400, `door: '${door}' is not a door name (a-z, 0-9, . _ -)`);
    });

    admin.get('/admin/routes', async () => table);

    const change = async (reply: FastifyReply, next: RouteTable, answer: unknown) => {
      store.save(next); // on disk first: a restart serves what was acknowledged
      table = next;
      try {
        await plane.apply(next);
      } catch (err) {
        return error(reply, 503, `route saved, not yet served: ${(err as Error).message}`);
      }
      return answer;
    };

    admin.put<{ Params: { model: string } }>('/admin/routes/:model', async (req, reply) => {
      const route = parseBody(req.body, ModelRouteSchema, 'route');
      if ('error' in route) return error(reply, 400, route.error);
      return change(
        reply,
        { ...table, models: { ...table.models, [req.params.model]: route.value } },
        route.value,
      );
    });

    admin.delete<{ Params: { model: string } }>('/admin/routes/:model', async (req, reply) => {
      const rest = { ...table.models };
      delete rest[req.params.model];
      return change(reply, { ...table, models: rest }, { removed: req.params.model });
    });

    admin.put<{ Params: { door: string } }>('/admin/feature-doors/:door', async (req, reply) => {
      const door = parseBody(req.body, FeatureDoorSchema, 'feature door');
      if ('error' in door) return error(reply, 400, door.error);
      const doors = { ...table.featureDoors, [req.params.door]: door.value };
      return change(reply, { ...table, featureDoors: doors }, door.value);
    });

    admin.delete<{ Params: { door: string } }>('/admin/feature-doors/:door', async (req, reply) => {
      const doors = { ...table.featureDoors };
      delete doors[req.params.door];
      return change(reply, { ...table, featureDoors: doors }, { removed: req.params.door });
    });

    admin.get<{ Params: { model: string }; Querystring: { windowMs?: string } }>(
      '/admin/stats/:model',
      async (req) => {
        const windowMs = Math.max(1000, Number(req.query.windowMs ?? 30_000) || 30_000);
        const route = table.models[req.params.model];
        const versions = route ? routedVersions(route).map((b) => b.version) : [];
        await poll(); // the newest second counts too
        return {
          model: req.params.model,
          windowMs,
          versions: Object.fromEntries(
            versions.map((v) => [v, stats.window(`${req.params.model}/${v}`, windowMs)]),
          ),
        };
      },
    );

    admin.get<{ Params: { model: string } }>('/admin/capture/:model', async (req) => {
      await poll();
      return { model: req.params.model, files: capture.files(req.params.model) };
    });
  });

  app.addHook('onClose', async () => {
    clearInterval(timer);
    capture.close();
  });
  await app.listen({ host: '127.0.0.1', port: opts.adminPort });
  return app;
}
