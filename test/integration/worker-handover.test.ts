import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { offPathPackage } from '../support/packages.js';
import { gatewayToken } from '../../src/adapters/router/paved-gateway/client.js';

// A release handed from one worker to another (another machine, its own PAVED_HOME).
// Workers killed in every stage: test/faults/worker-kills.test.ts.
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
