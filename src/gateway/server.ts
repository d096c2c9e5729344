import { timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import replyFrom from '@fastify/reply-from';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import client from 'prom-client';
import { request as undiciRequest } from 'undici';
import { pickBackend, stickyKey, type Role } from './pick.js';
import { RouteStore } from './route-store.js';
import { ModelRouteSchema, type Backend, type ModelRoute, type RouteTable } from './routes.js';
import { TrafficCapture } from './capture.js';
import { WindowedStats } from './window-stats.js';

export interface GatewayOptions {
  host: string;
  port: number;
  /** Bearer token for /admin; compared in constant time. */
  token: string;
  routesFile: string;
  /** Request sampling for replay (the shadow stage); off when absent or rate 0. */
  capture?: { dir: string; rate: number; maxBytes: number };
  /** Identifies the code this gateway runs; `paved stack up` restarts one whose build is stale. */
  build?: string;
}

/** Answers up to this size are read whole before they are sent on (see sendAnswer). */
const BUFFER_ANSWERS_UP_TO = 64 * 1024;

interface Target {
  model: string;
  version: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    pavedTarget?: Target;
  }
}

function v2Error(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify({ error: message }));
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The serving gateway: V2 requests for a model go to its stable or canary version
 * by weight (sticky by key), optionally copied to a shadow; every answer is
 * counted per version for /metrics and for the rollout's window stats.
 */
export async function createGateway(opts: GatewayOptions): Promise<FastifyInstance> {
  const store = new RouteStore(opts.routesFile);
  let table: RouteTable = store.load();
  const stats = new WindowedStats();
  const capture = opts.capture
    ? new TrafficCapture(opts.capture.dir, opts.capture.rate, opts.capture.maxBytes)
    : null;
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: 'paved_gateway_requests_total',
    help: 'Requests answered, by model, version, role and status code',
    labelNames: ['model', 'version', 'role', 'code'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'paved_gateway_request_duration_seconds',
    help: 'Time from request to response through the gateway',
    labelNames: ['model', 'version', 'role'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5],
    registers: [registry],
  });

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  // Bodies pass through untouched; only a sticky lookup reads them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(replyFrom, { undici: { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 } });

  // prom-client hashes the label object on every call; a request only needs the
  // children of its own version, looked up once per model/version/role/code.
  const children = new Map<
    string,
    { count: ReturnType<typeof requests.labels>; latency: ReturnType<typeof latency.labels> }
  >();
  const metricsFor = (t: Target, code: number) => {
    const id = `${t.model}\0${t.version}\0${t.role}\0${code}`;
    let c = children.get(id);
    if (!c) {
      c = {
        count: requests.labels(t.model, t.version, t.role, String(code)),
        latency: latency.labels(t.model, t.version, t.role),
      };
      children.set(id, c);
    }
    return c;
  };

  // Callback style, not async: a promise per request is measurable at full load.
  app.addHook('onResponse', (req, reply, done) => {
    const t = req.pavedTarget;
    if (t) {
      const ms = reply.elapsedTime;
      stats.record(`${t.model}/${t.version}`, ms, reply.statusCode >= 500);
      const m = metricsFor(t, reply.statusCode);
      m.count.inc();
      m.latency.observe(ms / 1000);
    }
    done();
  });

  const mirror = (shadow: Backend, req: FastifyRequest) => {
    // Fire and forget: the caller never waits for, or sees, the shadow's answer.
    undiciRequest(`${shadow.url}${req.url}`, {
      method: req.method as 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: req.body as Buffer | undefined,
    })
      .then((r) => r.body.dump())
      .catch(() => undefined);
  };

  // A model's answer is small: read whole, it goes out with a content-length in one
  // write, cheaper than piping undici's body stream through the reply. A larger one
  // (or one without a length) still streams.
  // reply-from's types give the upstream answer as a server response; at run time it is
  // undici's { statusCode, headers, stream }.
  const sendAnswer: NonNullable<NonNullable<Parameters<FastifyReply['from']>[1]>['onResponse']> = (
    _req,
    reply,
    raw,
  ) => {
    const res = raw as unknown as {
      stream: Readable & { arrayBuffer(): Promise<ArrayBuffer> };
      headers: Record<string, unknown>;
    };
    const body = res.stream;
    const length = Number(res.headers['content-length']);
    if (!(length >= 0 && length <= BUFFER_ANSWERS_UP_TO)) return void reply.send(body);
    body.arrayBuffer().then(
      (bytes) => void reply.send(Buffer.from(bytes)),
      (err: Error) => {
        // The upstream's headers are already on the reply; its length no longer holds.
        reply.removeHeader('content-length');
        const t = reply.request.pavedTarget;
        v2Error(reply as FastifyReply, 502, `${t?.model}/${t?.version} broke off its answer: ${err.message}`);
      },
    );
  };

  const forward = async (req: FastifyRequest<{ Params: { model: string } }>, reply: FastifyReply) => {
    const model = req.params.model;
    const route = table.models[model];
    if (!route) return v2Error(reply, 404, `model '${model}' has no route; release it first`);
    const key = stickyKey(
      req.headers['x-paved-key'] as string | undefined,
      req.body as Buffer,
      route.stickyInput,
    );
    const picked = pickBackend(model, route, key);
    if (!picked) return v2Error(reply, 503, `model '${model}' has no version serving`);
    const { backend, role } = picked;
    req.pavedTarget = { model, version: backend.version, role };
    if (req.method === 'POST') capture?.offer(model, key, req.body as Buffer | undefined);
    if (route.shadow && req.method === 'POST' && Math.random() * 100 < route.shadow.percent)
      mirror(route.shadow, req);
    const fault = route.faults[backend.version];
    if (fault) {
      if (fault.delayMs > 0) await sleep(fault.delayMs);
      if (Math.random() * 100 < fault.abortPercent)
        return v2Error(reply, fault.abortStatus, `injected fault for ${model}/${backend.version}`);
    }
    // The bytes as they came: reply-from would JSON-encode a Buffer body of a JSON request.
    const raw = req.body as Buffer | undefined;
    const body =
      raw && raw.length > 0
        ? { body: raw, contentType: req.headers['content-type'] ?? 'application/json' }
        : {};
    return reply.from(`${backend.url}${req.url}`, {
      ...body,
      onResponse: sendAnswer,
      onError: (rep, { error }) => {
        v2Error(rep as FastifyReply, 502, `${model}/${backend.version} did not answer: ${error.message}`);
      },
    });
  };

  app.post('/v2/models/:model/infer', forward);
  app.get('/v2/models/:model', forward);
  app.get('/v2/models/:model/ready', forward);
  app.get('/v2/health/live', async () => ({ live: true, build: opts.build ?? null }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req, reply) => {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameToken(auth.slice(7), opts.token)) {
        return v2Error(
          reply,
          401,
          'admin API: send Authorization: Bearer <token> (PAVED_HOME/gateway/admin-token)',
        );
      }
    });
    admin.get('/admin/routes', async () => table);
    admin.put<{ Params: { model: string } }>('/admin/routes/:model', async (req, reply) => {
      let doc: unknown;
      try {
        doc = JSON.parse((req.body as Buffer | undefined)?.toString('utf8') ?? '');
      } catch {
        return v2Error(reply, 400, 'body: must be a JSON route');
      }
      const parsed = ModelRouteSchema.safeParse(doc);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return v2Error(reply, 400, `${issue.path.join('.') || 'route'}: ${issue.message}`);
      }
      const next: RouteTable = { models: { ...table.models, [req.params.model]: parsed.data } };
      store.save(next); // on disk first: a restart serves what was acknowledged
      table = next;
      return parsed.data;
    });
    admin.delete<{ Params: { model: string } }>('/admin/routes/:model', async (req) => {
      const rest = { ...table.models };
      delete rest[req.params.model];
      table = { models: rest };
      store.save(table);
      return { removed: req.params.model };
    });
    admin.get<{ Params: { model: string }; Querystring: { windowMs?: string } }>(
      '/admin/stats/:model',
      async (req) => {
        const windowMs = Math.max(1000, Number(req.query.windowMs ?? 30_000) || 30_000);
        const route: ModelRoute | undefined = table.models[req.params.model];
        const versions = [route?.stable?.version, route?.canary?.version, route?.shadow?.version].filter(
          (v): v is string => Boolean(v),
        );
        return {
          model: req.params.model,
          windowMs,
          versions: Object.fromEntries(
            versions.map((v) => [v, stats.window(`${req.params.model}/${v}`, windowMs)]),
          ),
        };
      },
    );
  });

  app.addHook('onClose', async () => capture?.close());
  await app.listen({ host: opts.host, port: opts.port });
  return app;
}
