import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { dockerClient } from '../../src/adapters/docker-client.js';
import { janitorAuditFile, JanitorAuditLog } from '../../src/adapters/janitor-audit.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { PavedGatewayRouter } from '../../src/adapters/router/paved-gateway/client.js';
import type { Replica } from '../../src/adapters/runtime/model-runtime.js';
import { localModelRuntime } from '../../src/adapters/runtime/local.js';
import { connectClient } from '../../src/adapters/temporal-connection.js';
import type { Stray } from '../../src/domain/janitor.js';
import { servingWorkflowId } from '../../src/workflows/serving-definitions.js';
import { buildModelImage } from '../support/build-image.js';
import { paved } from '../support/cli.js';

// Two models of this test only (the janitor is scoped to them with --model, so the
// other suites' containers and routes on the shared stack are never touched). The
// stray one's serving workflow was terminated by hand, leaving its replica and route;
// the kept one's shadow container has a keeper release that runs (on a queue no worker
// polls, so it stays running until the test ends it).
const config = loadConfig();
const docker = dockerClient(config);
const runtime = localModelRuntime(config);
const router = PavedGatewayRouter.fromConfig(config);
const id = randomUUID().slice(0, 6);
const STRAY_MODEL = `janitor-${id}`;
const KEPT_MODEL = `janitor-kept-${id}`;
const TASK_QUEUE = `it-janitor-${randomUUID()}`;
const STRAY_KEEPER = servingWorkflowId(STRAY_MODEL, TASK_QUEUE);
const KEPT_RELEASE = `release/${KEPT_MODEL}/k1`;
const ENV = { PAVED_USER: 'janitor-test@example.com' };
const SCOPE = ['--model', STRAY_MODEL, KEPT_MODEL];

let client: Client;
let stray: Replica;
let kept: Replica;

async function exists(name: string): Promise<boolean> {
  try {
    await docker.getContainer(name).inspect();
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  client = await connectClient(config);
  const { image } = await buildModelImage(projectPath('examples', 'arrests'), 'arrests', 'it-janitor');
  const spec = { image, binding: null, allowPickle: false, limits: loadPolicy().model_limits };

  const serving = await client.workflow.start('serving', {
    workflowId: STRAY_KEEPER,
    taskQueue: TASK_QUEUE,
    args: [{ model: STRAY_MODEL }],
  });
  stray = await runtime.start({
    ...spec,
    model: STRAY_MODEL,
    version: 's1',
    role: 'serving',
    keeper: STRAY_KEEPER,
  });
  await router.setRoute(STRAY_MODEL, { stable: { version: 's1', endpoints: [stray.endpoint] } });
  await serving.terminate('terminated by hand: the janitor test');

  await client.workflow.start('release', { workflowId: KEPT_RELEASE, taskQueue: TASK_QUEUE, args: [] });
  kept = await runtime.start({
    ...spec,
    model: KEPT_MODEL,
    version: 'k1',
    role: 'shadow',
    keeper: `${KEPT_RELEASE}@${TASK_QUEUE}`,
  });
}, 300_000);

afterAll(async () => {
  await client?.workflow
    .getHandle(KEPT_RELEASE)
    .terminate('test over')
    .catch(() => undefined);
  await client?.connection.close();
  for (const r of [stray, kept]) if (r) await runtime.stop(r.id).catch(() => undefined);
  await router.removeRoute(STRAY_MODEL).catch(() => undefined);
});

describe('paved janitor', () => {
  it('a dry run lists the replica of a terminated serving workflow and its route, each with why, and removes nothing', async () => {
    const res = await paved(['janitor', '--json', ...SCOPE], ENV);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { applied: boolean; strays: Stray[]; unkept: Stray[] };
    expect(out.applied).toBe(false);
    expect(out.unkept).toEqual([]);
    expect(out.strays.map((s) => [s.kind, s.name, s.model])).toEqual([
      ['container', stray.id, STRAY_MODEL],
      ['route', STRAY_MODEL, STRAY_MODEL],
    ]);
    expect(out.strays[0]!.reason).toBe(
      `its keeper ${STRAY_KEEPER} does not run (ended, terminated or unknown to this Temporal namespace), so nothing would ever stop it`,
    );
    expect(out.strays[0]!.host).toBe(config.docker.host);
    expect(out.strays[1]!.reason).toContain(`no serving workflow runs for ${STRAY_MODEL}`);

    const text = await paved(['janitor', ...SCOPE], ENV);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(stray.id);
    expect(text.stdout).toContain('2 would be removed; run `paved janitor --apply` to remove them');
    expect(text.stdout).not.toContain(kept.id);

    expect(await exists(stray.id)).toBe(true);
    expect(await router.route(STRAY_MODEL)).not.toBeNull();
  });

  it('paved stack status counts the strays', async () => {
    const res = await paved(['stack', 'status', '--json'], ENV);
    expect(res.code, res.stderr).toBe(0);
    const status = JSON.parse(res.stdout) as { strays: { count: number | null; error?: string } };
    expect(status.strays.error).toBeUndefined();
    expect(status.strays.count).toBeGreaterThanOrEqual(2);
    const table = await paved(['stack', 'status'], ENV);
    expect(table.stdout).toMatch(/\nstrays: \d+ \(`paved janitor` lists them and why\)\n$/);
  });

  it('--apply removes the stray replica and route, writes an audit line for each, and leaves the container whose keeper runs', async () => {
    const res = await paved(['janitor', '--apply', '--json', ...SCOPE], ENV);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { applied: boolean; failed: unknown[]; audit: string };
    expect(out.applied).toBe(true);
    expect(out.failed).toEqual([]);
    expect(out.audit).toBe(janitorAuditFile(config));

    expect(await exists(stray.id)).toBe(false);
    expect(await router.route(STRAY_MODEL)).toBeNull();
    expect((await docker.getContainer(kept.id).inspect()).State.Running).toBe(true);

    const lines = new JanitorAuditLog(out.audit).read().filter((e) => e.model === STRAY_MODEL);
    expect(lines.map((e) => [e.action, e.target, e.result, e.actor, e.via])).toEqual([
      ['remove route', STRAY_MODEL, 'removed', ENV.PAVED_USER, 'paved janitor'],
      ['remove container', stray.id, 'removed', ENV.PAVED_USER, 'paved janitor'],
    ]);
    expect(lines[1]!.reason).toContain(STRAY_KEEPER);
    expect(Date.now() - Date.parse(lines[1]!.at)).toBeLessThan(120_000);

    const again = await paved(['janitor', ...SCOPE], ENV);
    expect(again.stdout).toBe('no strays\n');
  });
});
