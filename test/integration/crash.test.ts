import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { paved, pavedBackground, spawnWorker, type SpawnedWorker } from '../support/cli.js';
import { offPathPackage } from '../support/packages.js';

// A worker dies (SIGKILL, no goodbye) while a release waits for review; a new worker
// picks it up from Temporal's history and the release completes with no stage run twice.
const env = { PAVED_TASK_QUEUE: `it-crash-${randomUUID()}`, PAVED_USER: 'ci@example.com' };
const workers: SpawnedWorker[] = [];
afterAll(async () => {
  for (const w of workers) await w.kill();
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
      'review requested',
      'review approved',
      'release released',
    ]);
    expect(audit.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
