import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayAdmin } from '../../src/adapters/gateway-admin.js';
import { createGateway } from '../../src/gateway/server.js';
import { freePort } from '../support/free-port.js';

// The gateway as `paved gateway` runs it, in front of two small HTTP backends on
// loopback that answer like a V2 model and say which version they are.
const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-gateway-'));
const routesFile = path.join(dir, 'routes.json');
const TOKEN = 'test-token-0123456789abcdef';
const backends: Server[] = [];
const seen: Record<string, number> = {};
let gw: FastifyInstance;
let port: number;
let admin: GatewayAdmin;
let v1: string;
let v2: string;
let shadow: string;

async function backend(version: string): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen[version] = (seen[version] ?? 0) + 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ model_name: 'arrests', model_version: version, echo: body }));
    });
  });
  const p = await freePort();
  await new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
  backends.push(server);
  return `http://127.0.0.1:${p}`;
}

async function infer(headers: Record<string, string> = {}, body = '{"inputs":[]}') {
  const res = await request(`http://127.0.0.1:${port}/v2/models/arrests/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const json = (await res.body.json()) as { model_version?: string; error?: string; echo?: string };
  if (json.echo !== undefined) expect(json.echo).toBe(body); // the backend got the bytes as sent
  return { status: res.statusCode, version: json.model_version, error: json.error };
}

beforeAll(async () => {
  [v1, v2, shadow] = [await backend('v1'), await backend('v2'), await backend('shadow')];
  port = await freePort();
  gw = await createGateway({ host: '127.0.0.1', port, token: TOKEN, routesFile });
  admin = new GatewayAdmin(`http://127.0.0.1:${port}`, TOKEN);
});

afterAll(async () => {
  await gw?.close();
  for (const s of backends) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway admin API', () => {
  it('refuses a request without the bearer token, and says where the token is', async () => {
    const res = await request(`http://127.0.0.1:${port}/admin/routes`);
    expect(res.statusCode).toBe(401);
    expect(((await res.body.json()) as { error: string }).error).toContain('Authorization: Bearer');
  });

  it('refuses a route that names a backend off loopback, naming the field', async () => {
    await expect(
      admin.setRoute('arrests', { stable: { version: 'v1', url: 'http://models.example.com:80' } }),
    ).rejects.toThrow(
      'HTTP 400: {"error":"stable.url: must be http://127.0.0.1:<port> (backends are on loopback)"}',
    );
  });

  it('answers an unknown model with a V2 error', async () => {
    const res = await request(`http://127.0.0.1:${port}/v2/models/nope/infer`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toEqual({ error: "model 'nope' has no route; release it first" });
  });
});

describe('routing', () => {
  it('sends everything to stable at canary weight 0, and the weight share to the canary', async () => {
    await admin.setRoute('arrests', {
      stable: { version: 'v1', url: v1 },
      canary: { version: 'v2', url: v2, weight: 0 },
    });
    for (let i = 0; i < 50; i++) expect((await infer({ 'x-paved-key': `u${i}` })).version).toBe('v1');
    await admin.setRoute('arrests', {
      stable: { version: 'v1', url: v1 },
      canary: { version: 'v2', url: v2, weight: 25 },
    });
    const versions = await Promise.all(
      Array.from({ length: 800 }, (_, i) => infer({ 'x-paved-key': `u${i}` })),
    );
    const share = versions.filter((r) => r.version === 'v2').length / versions.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
  });

  it('keeps a key on its version while the weight grows (header or entity key in the body)', async () => {
    const route = { stable: { version: 'v1', url: v1 }, stickyInput: 'person_id' };
    const body = (id: number) =>
      JSON.stringify({ inputs: [{ name: 'person_id', shape: [1], datatype: 'INT64', data: [id] }] });
    const onCanary = new Set<number>();
    for (const weight of [5, 25, 50, 100]) {
      await admin.setRoute('arrests', { ...route, canary: { version: 'v2', url: v2, weight } });
      for (let id = 0; id < 200; id++) {
        const r = await infer({}, body(id));
        if (onCanary.has(id)) expect(r.version).toBe('v2');
        if (r.version === 'v2') onCanary.add(id);
        // the same key asked twice at one weight gets the same answer
        expect((await infer({}, body(id))).version).toBe(r.version);
      }
    }
    expect(onCanary.size).toBe(200);
  });

  it('changes weights under load without failing a request', async () => {
    await admin.setRoute('arrests', {
      stable: { version: 'v1', url: v1 },
      canary: { version: 'v2', url: v2, weight: 0 },
    });
    let stop = false;
    const results: number[] = [];
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) results.push((await infer()).status);
      }),
    );
    for (const weight of [5, 25, 50, 100, 0, 100]) {
      await admin.setRoute('arrests', {
        stable: { version: 'v1', url: v1 },
        canary: { version: 'v2', url: v2, weight },
      });
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await load;
    expect(results.length).toBeGreaterThan(100);
    expect(results.filter((s) => s !== 200)).toEqual([]);
  });

  it('injects faults per version, and counts them as that version’s errors in the window stats', async () => {
    await admin.setRoute('arrests', {
      stable: { version: 'v1', url: v1 },
      canary: { version: 'v2', url: v2, weight: 50 },
      faults: { v2: { abortPercent: 100, abortStatus: 503, delayMs: 0 } },
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => infer({ 'x-paved-key': `f${i}` })),
    );
    const failed = results.filter((r) => r.status !== 200);
    expect(failed.length).toBeGreaterThan(60);
    expect(failed[0]).toEqual({ status: 503, version: undefined, error: 'injected fault for arrests/v2' });
    expect(results.filter((r) => r.status === 200).every((r) => r.version === 'v1')).toBe(true);
    const stats = await admin.stats('arrests', 60_000);
    expect(stats.v2!.errors).toBe(failed.length);
    expect(stats.v1!.errors).toBe(0);
    expect(stats.v1!.p99Ms).toBeGreaterThan(0);
  });

  it('copies a share of requests to a shadow and never returns its answers', async () => {
    await admin.setRoute('arrests', {
      stable: { version: 'v1', url: v1 },
      shadow: { version: 'shadow', url: shadow, percent: 100 },
    });
    const before = seen.shadow ?? 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => infer()));
    expect(results.every((r) => r.version === 'v1')).toBe(true);
    for (let i = 0; i < 50 && (seen.shadow ?? 0) - before < 50; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((seen.shadow ?? 0) - before).toBe(50);
  });

  it('exports per-version counters and latency histograms on /metrics', async () => {
    const res = await request(`http://127.0.0.1:${port}/metrics`);
    const text = await res.body.text();
    expect(text).toMatch(
      /paved_gateway_requests_total\{model="arrests",version="v1",role="stable",code="200"\} \d+/,
    );
    expect(text).toContain(
      'paved_gateway_request_duration_seconds_bucket{le="0.001",model="arrests",version="v1",role="stable"}',
    );
  });

  it('passes answers on whole: small ones with a length, large or unsized ones streamed', async () => {
    // Answers up to 64 KiB with a content-length are read whole before they go on;
    // anything else streams. Both must arrive byte for byte, with their headers.
    const big = 'x'.repeat(300 * 1024);
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-model-header', 'kept');
        const answer = JSON.stringify({ model_name: 'sized', model_version: 'v1', pad: req.url });
        if (req.url!.includes('chunked')) {
          // No content-length: written in pieces, as a streaming server would.
          res.write('{"model_name":"chunked","pad":"');
          setTimeout(() => res.end(`${big}"}`), 5);
        } else res.end(answer);
      });
    });
    const p = await freePort();
    await new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
    backends.push(server);
    const url = `http://127.0.0.1:${p}`;
    await admin.setRoute('sized', { stable: { version: 'v1', url } });
    await admin.setRoute('chunked', { stable: { version: 'v1', url } });

    const sized = await request(`http://127.0.0.1:${port}/v2/models/sized/infer`, {
      method: 'POST',
      body: '{}',
    });
    expect(sized.statusCode).toBe(200);
    expect(sized.headers['x-model-header']).toBe('kept');
    expect(sized.headers['content-length']).toBeDefined();
    expect(await sized.body.json()).toEqual({
      model_name: 'sized',
      model_version: 'v1',
      pad: '/v2/models/sized/infer',
    });

    const chunked = await request(`http://127.0.0.1:${port}/v2/models/chunked/infer`, {
      method: 'POST',
      body: '{}',
    });
    expect(chunked.statusCode).toBe(200);
    expect(chunked.headers['x-model-header']).toBe('kept');
    expect(await chunked.body.json()).toEqual({ model_name: 'chunked', pad: big });
  });

  it('answers 502, naming the version, when a backend breaks off its answer', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"model_name":');
        setTimeout(() => res.destroy(), 5);
      });
    });
    const p = await freePort();
    await new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
    backends.push(server);
    await admin.setRoute('broken', { stable: { version: 'v7', url: `http://127.0.0.1:${p}` } });
    const res = await request(`http://127.0.0.1:${port}/v2/models/broken/infer`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.statusCode).toBe(502);
    expect(((await res.body.json()) as { error: string }).error).toMatch(
      /^broken\/v7 broke off its answer: /,
    );
  });

  it('captures sampled requests per model as JSONL with relative times and keys, bounded on disk', async () => {
    const capPort = await freePort();
    const capDir = path.join(dir, 'capture');
    const cap = await createGateway({
      host: '127.0.0.1',
      port: capPort,
      token: TOKEN,
      routesFile,
      capture: { dir: capDir, rate: 1, maxBytes: 4000 },
    });
    try {
      const body = (id: number) =>
        JSON.stringify({ inputs: [{ name: 'person_id', shape: [1], datatype: 'INT64', data: [id] }] });
      for (let id = 0; id < 120; id++) {
        const res = await request(`http://127.0.0.1:${capPort}/v2/models/arrests/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-paved-key': `k${id}` },
          body: body(id),
        });
        await res.body.dump();
      }
      await cap.close();
      // The newest file is absent when the last request just filled one.
      const newest = path.join(capDir, 'arrests.jsonl');
      const current = existsSync(newest) ? readFileSync(newest, 'utf8').trim().split('\n') : [''];
      const previous = readFileSync(path.join(capDir, 'arrests.1.jsonl'), 'utf8').trim().split('\n');
      expect(JSON.parse(previous[0]!)).toMatchObject({ paved_capture: 1, model: 'arrests' });
      const lines = [...previous.slice(1), ...current.slice(1)].map(
        (l) => JSON.parse(l) as { t: number; key: string; request: unknown },
      );
      const last = lines.at(-1)!;
      expect(last.key).toBe('k119');
      expect(last.request).toEqual(JSON.parse(body(119)));
      expect(lines.every((l) => l.t >= 0)).toBe(true);
      // bounded: the older rotations are gone, each file stays near the cap
      expect(Buffer.byteLength(previous.join('\n'))).toBeLessThan(4000 + 200);
      expect(lines.length).toBeLessThan(120);
    } finally {
      await cap.close();
    }
  });

  it('a restarted gateway serves the routes it acknowledged', async () => {
    await admin.setRoute('arrests', { stable: { version: 'v2', url: v2 } });
    expect(JSON.parse(readFileSync(routesFile, 'utf8')).models.arrests.stable.version).toBe('v2');
    await gw.close();
    gw = await createGateway({ host: '127.0.0.1', port, token: TOKEN, routesFile });
    expect((await infer()).version).toBe('v2');
  });
});
