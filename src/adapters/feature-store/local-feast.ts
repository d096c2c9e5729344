import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FeastSnapshotSchema, type FeastSnapshot } from '../../domain/feature-binding.js';
import { projectPath } from '../project.js';
import { run, runLogged } from '../stack/exec.js';

export const FEATURE_REPO = projectPath('featurestore', 'feature_repo');
const PIPELINE = projectPath('featurestore', 'pipeline.py');
const INSPECT = projectPath('scripts', 'python', 'feast_inspect.py');

const PipelineState = z.object({ asOf: z.string(), rows: z.number(), views: z.array(z.string()) });
export type PipelineState = z.infer<typeof PipelineState>;

/** Thrown when the feature store answers with a problem the user must fix (unknown service, ...). */
export class FeatureStoreError extends Error {}

/**
 * The local Feast store: the repo in featurestore/, its state (registry, SQLite
 * online store, parquet sources) in `home`, driven by the Python of the Feast venv.
 */
export class LocalFeast {
  constructor(
    readonly python: string,
    readonly home: string,
  ) {}

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, PAVED_FEAST_HOME: this.home, PYTHONDONTWRITEBYTECODE: '1' };
  }

  /** Builds the source tables, applies the definitions and materializes, as of `asOf` (default now). */
  async runPipeline(logFile: string, asOf?: Date): Promise<PipelineState> {
    const args = [PIPELINE, ...(asOf ? ['--as-of', asOf.toISOString()] : [])];
    await runLogged(this.python, args, logFile, { env: this.env() });
    const state = this.state();
    if (!state) throw new Error(`the feature pipeline ran but wrote no ${this.statePath()}`);
    return state;
  }

  statePath(): string {
    return path.join(this.home, 'pipeline.json');
  }

  state(): PipelineState | undefined {
    if (!existsSync(this.statePath())) return undefined;
    const parsed = PipelineState.safeParse(JSON.parse(readFileSync(this.statePath(), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  }

  /** Registry facts for a feature service and its offline point-in-time values for a sample of entities. */
  async inspect(opts: {
    service: string;
    sampleSize: number;
    seed: number;
    at?: Date;
  }): Promise<FeastSnapshot> {
    const args = [
      INSPECT,
      '--repo',
      FEATURE_REPO,
      '--service',
      opts.service,
      '--sample',
      String(opts.sampleSize),
      '--seed',
      String(opts.seed),
      ...(opts.at ? ['--at', opts.at.toISOString()] : []),
    ];
    let stdout: string;
    try {
      stdout = await run(this.python, args, { env: this.env(), timeoutMs: 120_000 });
    } catch (err) {
      const reported = /paved-feast-error: (.*)/.exec((err as Error).message);
      if (reported) throw new FeatureStoreError(reported[1]!);
      throw err;
    }
    const parsed = FeastSnapshotSchema.safeParse(JSON.parse(stdout));
    if (!parsed.success)
      throw new Error(`feast_inspect.py printed an unexpected snapshot: ${parsed.error.message}`);
    return parsed.data;
  }
}
