import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createBindActivities } from '../../src/activities/bind.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { FeatureServerClient } from '../../src/adapters/feature-store/feature-server.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { endpointClient } from '../../src/adapters/runtime/endpoint-client.js';
import { localModelRuntime } from '../../src/adapters/runtime/local.js';
import { featureServerUrl, localFeast } from '../../src/adapters/stack/feature-store.js';
import { envoyLayout } from '../../src/gateway/envoy/layout.js';
import type { Manifest } from '../../src/domain/manifest.js';
import { buildModelImage } from '../support/build-image.js';

// A package whose model.py, at import and on every request, knocks on every door a
// model must not have: the platform's own services on loopback, a name lookup, an
// outside address, other sockets on the host, and the feature door with questions
// outside its binding. Each attempt prints one JSON line into the container's log.
const config = loadConfig();
const docker = dockerClient(config);
const runtime = localModelRuntime(config);
const dir = mkdtempSync(path.join(os.tmpdir(), 'paved-sealed-'));
const started: string[] = [];

afterAll(async () => {
  for (const id of started) await runtime.stop(id).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function hostileModelPy(ports: number[], sockets: string[]): string {
  return `
import http.client
import json
import socket

PORTS = ${JSON.stringify(ports)}
SOCKETS = ${JSON.stringify(sockets)}


def _try(what, fn):
    try:
        fn()
        result = "REACHED"
    except Exception as exc:  # every way of failing counts as refused
        result = f"refused: {type(exc).__name__}: {str(exc)[:80]}"
    print(json.dumps({"hostile": what, "result": result}), flush=True)


def _tcp(host, port):
    def go():
        socket.create_connection((host, port), timeout=1).close()
    return go


def _unix(path):
    def go():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(1)
        s.connect(path)
        s.close()
    return go


class _Door(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(3)
        self.sock.connect("/run/paved/features.sock")


def _door(body):
    def go():
        conn = _Door("localhost", timeout=3)
        conn.request("POST", "/get-online-features", body=json.dumps(body), headers={"content-type": "application/json"})
        answer = conn.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise PermissionError(f"HTTP {answer.status} {data[:100]!r}")
    return go


def probe(when):
    for port in PORTS:
        _try(f"{when}: tcp 127.0.0.1:{port}", _tcp("127.0.0.1", port))
    _try(f"{when}: name lookup", lambda: socket.getaddrinfo("example.com", 80))
    # TEST-NET-1: with no network interface, no packet can leave for it.
    _try(f"{when}: outside 192.0.2.1:80", _tcp("192.0.2.1", 80))
    for path in SOCKETS:
        _try(f"{when}: socket {path}", _unix(path))
    _try(f"{when}: door, another service", _door({"feature_service": "arrests_sensitive", "entities": {"person_id": [1]}}))
    _try(f"{when}: door, a feature outside the binding", _door({"features": ["person_profile:sex"], "entities": {"person_id": [1]}}))
    _try(f"{when}: door, another entity", _door({"feature_service": "arrests_model", "entities": {"driver_id": [1]}}))
    _try(f"{when}: door, not a feature read", _door_get)
    _try(f"{when}: door, the bound features", _door({"feature_service": "arrests_model", "entities": {"person_id": [1]}}))


def _door_get():
    conn = _Door("localhost", timeout=3)
    conn.request("GET", "/list-feature-services")
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        raise PermissionError(f"HTTP {answer.status}")


probe("import")


def preprocess(inputs):
    probe("request")
    return inputs
`;
}

describe('a sealed model container', () => {
  it('a hostile model reaches nothing but its feature door, and the door only its binding; it still predicts', async () => {
    const pkgDir = path.join(dir, 'pkg');
    cpSync(projectPath('examples', 'arrests'), pkgDir, { recursive: true });
    const ports = [
      7233,
      5000,
      config.featureStore.port,
      config.gateway.port,
      config.gateway.adminPort,
      config.gateway.dataPlaneAdminPort,
    ];
    // A neighbour: another model's replica on this host, whose socket must stay out of reach.
    const { image: neighbourImage } = await buildModelImage(
      projectPath('examples', 'arrests'),
      'arrests',
      'it-neighbour',
    );
    const neighbour = await runtime.start({
      model: 'arrests',
      version: 'it-neighbour',
      role: 'try',
      image: neighbourImage,
      binding: null,
      allowPickle: false,
      limits: loadPolicy().model_limits,
    });
    started.push(neighbour.id);
    const neighbourSocket = neighbour.endpoint.slice('unix:'.length);
    writeFileSync(
      path.join(pkgDir, 'model.py'),
      hostileModelPy(ports, ['/var/run/docker.sock', envoyLayout(config).captureLog, neighbourSocket]),
    );
    const { image, packageDigest } = await buildModelImage(pkgDir, 'arrests', 'it-hostile');
    const manifest = parseYaml(readFileSync(path.join(pkgDir, 'paved.yaml'), 'utf8')) as Manifest;
    const bound = await createBindActivities({
      feast: localFeast(config),
      server: new FeatureServerClient(featureServerUrl(config)),
      policy: () => loadPolicy(),
    }).bindFeatures({ model: 'arrests', version: 'it-hostile', packageDigest, manifest });
    const binding = bound.output.report!.binding;

    const replica = await runtime.start({
      model: 'arrests',
      version: 'it-hostile',
      role: 'try',
      image,
      binding,
      allowPickle: false,
      limits: loadPolicy().model_limits,
    });
    started.push(replica.id);
    const info = await docker.getContainer(replica.id).inspect();
    expect(info.HostConfig.NetworkMode).toBe('none');

    const client = endpointClient(replica.endpoint);
    for (let i = 0; i < 2; i++) {
      const res = await client.request({
        path: '/v2/models/arrests/infer',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: readFileSync(projectPath('examples', 'arrests', 'sample-request-entities.json'), 'utf8'),
      });
      const answer = (await res.body.json()) as { outputs?: Array<{ name: string; data: number[] }> };
      expect(res.statusCode, JSON.stringify(answer)).toBe(200);
      expect(answer.outputs!.map((o) => o.name)).toEqual(['label', 'probability']);
    }
    await client.close();

    const attempts = (await runtime.logs(replica.id, 400)).split('\n').flatMap((l) => {
      const at = l.indexOf('{"hostile"');
      return at >= 0 ? [JSON.parse(l.slice(at)) as { hostile: string; result: string }] : [];
    });
    console.log(
      `what the hostile model tried, from its own log:\n${attempts.map((a) => `  ${a.hostile.padEnd(60)} ${a.result}`).join('\n')}`,
    );
    const reached = attempts.filter((a) => a.result === 'REACHED').map((a) => a.hostile);
    expect(reached.sort()).toEqual([
      'import: door, the bound features',
      'request: door, the bound features',
      'request: door, the bound features',
    ]);
    expect(attempts.filter((a) => a.hostile.startsWith('import:')).length).toBeGreaterThan(10);
    expect(attempts.filter((a) => a.hostile.startsWith('request:')).length).toBeGreaterThan(20);

    await new Promise((r) => setTimeout(r, 1500)); // Envoy flushes its access logs each second
    const refusals = readFileSync(envoyLayout(config).featureProxyLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { owner: string; refused: string })
      .filter((r) => r.owner === 'arrests/it-hostile (try)');
    console.log(
      `the feature proxy's log:\n${[...new Set(refusals.map((r) => `  ${r.refused}`))].join('\n')}`,
    );
    expect(refusals.map((r) => r.refused)).toEqual(
      expect.arrayContaining([
        'feature service arrests_sensitive is not the one bound (arrests_model)',
        'feature person_profile:sex is not in the binding',
        'entities: only person_id may be read',
        'GET /list-feature-services is not an online feature read',
      ]),
    );
  }, 600_000);
});
