import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { examplePackage, offPathPackage } from '../support/packages.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { gatewayToken } from '../../src/adapters/router/paved-gateway/client.js';
import { connectClient } from '../../src/adapters/temporal-connection.js';
import protoPackage from '@temporalio/proto';

const STARTED = protoPackage.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

// A worker dies (SIGKILL, no goodbye) while a release waits for review; a new worker
// picks it up from Temporal's history and the release completes with no stage run twice.
const env = { PAVED_TASK_QUEUE: `it-crash-${randomUUID()}`, PAVED_USER: 'ci@example.com' };
const workers: SpawnedWorker[] = [];
// Every test owns the task queue alone: a worker left from the previous test would
// pick up the activity this test means to interrupt.
afterEach(async () => {
  for (const w of workers.splice(0)) await w.kill();
});

async function pendingInReviews(ref: string): Promise<boolean> {
  const res = await paved(['reviews', '--json'], env);
  return (JSON.parse(res.stdout) as Array<{ release: string }>).some((r) => r.release === ref);
}

describe('worker crash while a release waits for review', () => {
  it('a new worker finishes the release with one audit entry per stage', async () => {
    const v = `crash-${randomUUID().slice(0, 8)}`;
    const ref = `arrests/${v}`;
    const first = await spawnWorker(env);
    workers.push(first);
    const ci = pavedBackground(['release', offPathPackage(), '--wait', '--json', '--version', v], env);
    for (let i = 0; i < 60 && !(await pendingInReviews(ref)); i++) await sleep(500);

    expect(await first.kill('SIGKILL')).toBeNull(); // killed by the signal, no exit code

    const second = await spawnWorker(env);
    workers.push(second);
    const ok = await paved(['approve', ref, '--as', 'carol@example.com'], env);
    expect(ok.code, ok.stderr).toBe(0);

    const result = await ci.done;
    expect(result.code).toBe(0);
    const audit = JSON.parse((await paved(['audit', ref, '--json'], env)).stdout) as Array<{
      action: string;
      seq: number;
    }>;
    expect(audit.map((e) => e.action)).toEqual([
      'release requested',
      'stage validate',
      'stage containerize',
      'stage bind',
      'review requested',
      'review approved',
      'stage shadow',
      'stage bias',
      'rollout step 100 %',
      'stage rollout',
      'release released',
    ]);
    expect(audit.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('two workers with different PAVED_HOMEs, one store', () => {
  it('a release started on one worker is finished by the other: shadow, bias and the report from the shared store', async () => {
    const config = loadConfig();
    const v = `two-homes-${randomUUID().slice(0, 8)}`;
    const ref = `arrests/${v}`;
    const first = await spawnWorker(env);
    workers.push(first);
    const ci = pavedBackground(['release', offPathPackage(), '--wait', '--json', '--version', v], env);
    for (let i = 0; i < 60 && !(await pendingInReviews(ref)); i++) await sleep(500);
    // validate, containerize and bind ran on the first worker; it goes before the review is answered.
    await first.kill();
    // Another machine's worker: its own PAVED_HOME (replica sockets, logs, pids),
    // the shared store and the same gateway.
    const otherHome = mkdtempSync(path.join(os.tmpdir(), 'paved-home-b-'));
    const second = await spawnWorker({
      ...env,
      PAVED_HOME: otherHome,
      PAVED_STORE_DIR: config.home,
      PAVED_GATEWAY_TOKEN: gatewayToken(config),
    });
    workers.push(second);
    const ok = await paved(['approve', ref, '--as', 'carol@example.com'], env);
    expect(ok.code, ok.stderr).toBe(0);
    const result = await ci.done;
    expect(result.code, result.stderr).toBe(0);
    // The second worker started the shadow replicas (under its own home) and wrote the
    // report, predictions and bias section into the shared store, none into its home.
    expect(existsSync(path.join(otherHome, 'replicas'))).toBe(true);
    expect(existsSync(path.join(otherHome, 'reports'))).toBe(false);
    const report = readFileSync(path.join(config.home, 'reports', 'arrests', v, 'report.md'), 'utf8');
    expect(report).toContain('## Shadow evaluation');
    expect(report).toMatch(/## Bias/);
    expect(existsSync(path.join(config.home, 'reports', 'arrests', v, 'predictions.jsonl'))).toBe(true);
    const audit = JSON.parse((await paved(['audit', ref, '--json'], env)).stdout) as Array<{
      action: string;
    }>;
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['stage shadow', 'stage bias', 'stage rollout', 'release released']),
    );
  });
});

describe('worker crash during the build', () => {
  it('the retried activity produces one image and one digest', async () => {
    const client = await connectClient(loadConfig());
    try {
      const v = `crash-build-${randomUUID().slice(0, 8)}`;
      // Unique content: a real build, not a cache hit.
      const dir = examplePackage((doc) => {
        doc.description = `crash test ${v}`;
      });
      const first = await spawnWorker(env);
      workers.push(first);
      const ci = pavedBackground(['release', dir, '--wait', '--json', '--version', v], env);
      const handle = client.workflow.getHandle(`release/arrests/${v}`);
      let killed = false;
      for (let i = 0; i < 600 && !killed; i++) {
        const pending = await handle.describe().then(
          (d) => d.raw.pendingActivities ?? [],
          () => [],
        );
        if (pending.some((a) => a.activityType?.name === 'containerizePackage' && a.state === STARTED)) {
          await first.kill('SIGKILL');
          killed = true;
        } else await sleep(50);
      }
      expect(killed).toBe(true);
      const second = await spawnWorker(env);
      workers.push(second);
      const result = await ci.done;
      expect(result.code, result.stderr).toBe(0);

      const history = await handle.fetchHistory();
      const starts = (history.events ?? []).filter(
        (e) =>
          e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
      );
      expect(starts.length).toBeGreaterThanOrEqual(1); // the kill really hit a running attempt

      const audit = JSON.parse((await paved(['audit', `arrests/${v}`, '--json'], env)).stdout) as Array<{
        action: string;
        outputs?: { image: string; digest: string };
      }>;
      const stage = audit.filter((e) => e.action === 'stage containerize');
      expect(stage).toHaveLength(1);
      const { image, digest } = stage[0]!.outputs!;
      const tag = image.split(':').at(-1)!;
      const registry = new RegistryClient(loadConfig().registry.address);
      expect(await registry.manifestDigest('paved/arrests', tag)).toBe(digest);
      const pkgTags = (await registry.tags('paved/arrests')).filter((t) =>
        t.startsWith(tag.split('-t-')[0]!),
      );
      expect(pkgTags).toEqual([tag]);
    } finally {
      await client.connection.close();
    }
  });
});
