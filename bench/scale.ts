// Replicas against capacity: the examples/arrests image at 1, 2 and 3 replicas
// behind a private Envoy + control plane (test/support/local-gateway.ts), each
// replica with the policy's limits (1 CPU), unpinned. Constant load (open loop,
// latency from the intended send time) stepped up on loopback; at each replica count
// the highest rate whose p99 stays within the policy's p99 budget with no errors,
// and its ratio to one replica. The generator is the shadow stage's replay harness,
// in its own process pinned like the shadow stage pins it (cpuPlan).
// Env: BENCH_SECONDS per step (default 6), BENCH_RATES (comma list, default 20..1280).
// Run with the stack up: npx tsx bench/scale.ts
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { loadPolicy } from '../src/adapters/policy-loader.js';
import { projectPath } from '../src/adapters/project.js';
import { localModelRuntime } from '../src/adapters/runtime/local.js';
import { cpuPlan, replayInProcess } from '../src/adapters/shadow/replay-process.js';
import { loadConfig } from '../src/adapters/config-loader.js';
import { buildModelImage } from '../test/support/build-image.js';
import { startLocalGateway } from '../test/support/local-gateway.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const RATES = (process.env.BENCH_RATES ?? '20,40,80,160,240,320,400,480,560,640,800,960,1120,1280')
  .split(',')
  .map(Number);
const MODEL = 'bench-scale';
const VERSION = 's1';

const config = loadConfig();
const policy = loadPolicy();
const runtime = localModelRuntime(config);
const budgetMs = policy.budgets.p99_ms;

interface Step {
  rate: number;
  achieved: number;
  p99: number;
  errors: number;
}

async function main(): Promise<void> {
  const { image } = await buildModelImage(projectPath('examples', 'arrests'), MODEL, VERSION);
  const replicas = [];
  for (let index = 0; index < 3; index++)
    replicas.push(
      await runtime.start({
        model: MODEL,
        version: VERSION,
        role: 'serving',
        image,
        binding: null,
        allowPickle: false,
        limits: policy.model_limits,
        index,
      }),
    );
  const gw = await startLocalGateway({ captureRate: 0 });
  const body = JSON.parse(
    readFileSync(projectPath('examples', 'arrests', 'sample-request.json'), 'utf8'),
  ) as unknown;
  const results: Array<{ n: number; best: Step | null; steps: Step[] }> = [];
  try {
    for (const n of [1, 2, 3]) {
      await gw.router.setRoute(MODEL, {
        stable: { version: VERSION, endpoints: replicas.slice(0, n).map((r) => r.endpoint) },
      });
      const steps: Step[] = [];
      let best: Step | null = null;
      for (const rate of RATES) {
        const r = await replayInProcess(
          {
            model: MODEL,
            targets: [{ name: 'gateway', url: gw.url }],
            bodies: [body],
            rate,
            durationMs: SECONDS * 1000,
            warmupMs: 1000,
            timeoutMs: 5000,
          },
          { cpus: cpuPlan().generator },
        );
        const t = r.targets[0]!;
        const step = { rate, achieved: r.achievedRate, p99: t.latency.p99, errors: t.errors };
        steps.push(step);
        process.stderr.write(
          `${n} replica(s) at ${rate}/s: p99 ${t.latency.p99.toFixed(1)} ms, ${t.errors} errors\n`,
        );
        // The generator itself falling behind is not the replicas' limit either.
        if (t.errors > 0 || t.latency.p99 > budgetMs || r.achievedRate < rate * 0.9) break;
        best = step;
      }
      results.push({ n, best, steps });
    }
  } finally {
    await gw.close();
    for (const r of replicas) await runtime.stop(r.id);
  }
  const one = results[0]!.best?.rate ?? null;
  console.log(
    `\nexamples/arrests behind Envoy, replicas of ${policy.model_limits.cpus} CPU each, ${os.availableParallelism()} CPUs on this machine (the generator pinned to ${cpuPlan().generator ?? 'any'}); p99 budget ${budgetMs} ms; ${SECONDS} s per step\n`,
  );
  console.log('replicas  highest rate within budget  p99 there  ratio to 1 replica');
  for (const r of results)
    console.log(
      `${String(r.n).padStart(8)}  ${r.best ? `${r.best.rate} req/s`.padStart(26) : 'none'.padStart(26)}  ${r.best ? `${r.best.p99.toFixed(1)} ms`.padStart(9) : ''.padStart(9)}  ${r.best && one ? (r.best.rate / one).toFixed(2).padStart(18) : ''}`,
    );
}

await main();
