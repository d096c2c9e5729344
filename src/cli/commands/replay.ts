import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { replay, type ReplayTarget } from '../../adapters/shadow/replayer.js';
import { durationMs } from '../../domain/duration.js';
import { PavedError } from '../../domain/errors.js';
import { parseTraffic, TrafficFormatError } from '../../domain/traffic.js';
import { renderTable } from '../table.js';

function target(value: string, previous: ReplayTarget[] = []): ReplayTarget[] {
  const m = /^([A-Za-z0-9._-]+)=(http:\/\/(127\.0\.0\.1|localhost)(:\d+)?|unix:\/[^\0]+\.sock)\/?$/.exec(
    value,
  );
  if (!m)
    throw new InvalidArgumentError(
      'give name=http://127.0.0.1:PORT (loopback only) or name=unix:/path/model.sock, e.g. candidate=http://127.0.0.1:8081',
    );
  return [...previous, { name: m[1]!, url: m[2]! }];
}

function duration(value: string): number {
  try {
    return durationMs(value);
  } catch {
    throw new InvalidArgumentError('give a duration like 20s or 2m');
  }
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('give a number of requests per second above 0');
  return n;
}

/**
 * `paved replay`: the shadow stage's load generator as a command, so it can run in
 * its own process pinned to its own core (the stage does that) and so a person can
 * replay a sample against any local model.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay a traffic sample (JSONL, docs/traffic-format.md) open-loop against local V2 models')
    .argument('<sample>', 'traffic sample file')
    .requiredOption('--model <name>', 'model name in the V2 path /v2/models/<name>/infer')
    .requiredOption('--target <name=url>', 'a model to send to (repeat to interleave several)', target)
    .option('--rate <n>', 'requests per second per target', positive, 20)
    .option('--duration <d>', 'measured window', duration, 20_000)
    .option('--warmup <d>', 'sent first, not measured', duration, 3_000)
    .option('--timeout <d>', 'per request', duration, 5_000)
    .option('--json <file>', 'write the full result (latencies, statuses, answers) as JSON')
    .action(
      async (
        sample: string,
        opts: {
          model: string;
          target: ReplayTarget[];
          rate: number;
          duration: number;
          warmup: number;
          timeout: number;
          json?: string;
        },
      ) => {
        let text: string;
        try {
          text = readFileSync(sample, 'utf8');
        } catch (err) {
          throw new PavedError(`cannot read ${sample}: ${(err as Error).message}`);
        }
        let lines;
        try {
          ({ lines } = parseTraffic(text, sample));
        } catch (err) {
          if (err instanceof TrafficFormatError) throw new PavedError(err.message);
          throw err;
        }
        const result = await replay({
          model: opts.model,
          targets: opts.target,
          bodies: lines.map((l) => l.request),
          rate: opts.rate,
          durationMs: opts.duration,
          warmupMs: opts.warmup,
          timeoutMs: opts.timeout,
        });
        if (opts.json) writeFileSync(opts.json, JSON.stringify(result));
        else {
          const f = (v: number) => v.toFixed(2);
          process.stdout.write(
            `${renderTable(
              ['target', 'sent', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
              result.targets.map((t) => [
                t.name,
                String(t.sent),
                String(t.errors),
                f(t.latency.p50),
                f(t.latency.p90),
                f(t.latency.p99),
                f(t.latency.max),
              ]),
            )}\nrequested ${result.requestedRate}/s per target, achieved ${result.achievedRate.toFixed(1)}/s; generator lag p99 ${f(result.sendLagP99Ms)} ms\n`,
          );
        }
      },
    );
}
