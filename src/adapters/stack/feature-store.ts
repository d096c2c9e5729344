import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { venvRoot, type PavedConfig } from '../../domain/config.js';
import { FeatureServerClient } from '../feature-store/feature-server.js';
import { FEATURE_REPO, LocalFeast } from '../feature-store/local-feast.js';
import { projectPath } from '../project.js';
import type { PartStatus, StackPart } from './part.js';
import { findPortOwner, isListening, PortTakenError } from './ports.js';
import { logPath, logTail, managedPid, startDaemon, stopDaemon, waitUntil } from './processes.js';
import { ensureFeastEnv, FEAST_REQUIREMENTS, feastVenvBin } from './python-env.js';

/** The daemon's name: its pid file and log under PAVED_HOME. */
export const FEATURE_SERVER = 'feature-server';
const HOST = '127.0.0.1';
/** The pipeline is a daily job; `stack up` reruns it when its data is half a TTL (1 day) old. */
const REFRESH_MS = 12 * 3_600_000;

export function featureStoreHome(config: PavedConfig): string {
  return path.join(config.home, 'featurestore');
}

export function featureServerUrl(config: PavedConfig): string {
  return `http://${HOST}:${config.featureStore.port}`;
}

export function localFeast(config: PavedConfig): LocalFeast {
  return new LocalFeast(feastVenvBin(venvRoot(config), 'python'), featureStoreHome(config));
}

// Registry refreshed every 10 s. Feast's gunicorn recycles its worker every 1000
// requests by default, refusing connections meanwhile: under serving traffic that
// is a failed prediction, so recycling is off.
const SERVE_OPTIONS = ['--no-access-log', '-r', '10', '--max-requests', '0'];

/** Changes when the definitions, the pipeline or the Feast pins change: then apply again. */
function repoKey(): string {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(FEATURE_REPO)
      .filter((f) => f.endsWith('.py') || f.endsWith('.yaml'))
      .sort()
      .map((f) => path.join(FEATURE_REPO, f)),
    projectPath('featurestore', 'pipeline.py'),
    FEAST_REQUIREMENTS,
  ];
  for (const file of files) hash.update(path.basename(file)).update(readFileSync(file));
  hash.update(SERVE_OPTIONS.join(' '));
  return hash.digest('hex');
}

function keyPath(config: PavedConfig): string {
  return path.join(featureStoreHome(config), '.paved-repo-key');
}

function feastVersion(): string {
  return /^feast==(\S+)/m.exec(readFileSync(FEAST_REQUIREMENTS, 'utf8'))?.[1] ?? 'unknown';
}

/** Why the store's data must be rebuilt, or null when it is current. */
function staleReason(config: PavedConfig): string | null {
  const state = localFeast(config).state();
  if (!state) return 'no data yet';
  const key = existsSync(keyPath(config)) ? readFileSync(keyPath(config), 'utf8').trim() : '';
  if (key !== repoKey()) return 'feature definitions changed';
  if (Date.now() - Date.parse(state.asOf) > REFRESH_MS)
    return `data as of ${state.asOf} is over 12 hours old`;
  return null;
}

/**
 * Starts `feast serve` for `feast`'s store on 127.0.0.1:`port` as a daemon of `home`
 * (pid file and log there), and waits until it answers.
 */
export async function startFeatureServer(opts: {
  home: string;
  feast: LocalFeast;
  port: number;
  feastBin: string;
}): Promise<void> {
  const pid = startDaemon(opts.home, {
    name: FEATURE_SERVER,
    command: opts.feastBin,
    args: ['--chdir', FEATURE_REPO, 'serve', '-h', HOST, '-p', String(opts.port), ...SERVE_OPTIONS],
    env: { ...process.env, PAVED_FEAST_HOME: opts.feast.home, PYTHONDONTWRITEBYTECODE: '1' },
    cwd: opts.feast.home,
  });
  const client = new FeatureServerClient(`http://${HOST}:${opts.port}`);
  await waitUntil('feature server', () => client.healthy(500), {
    timeoutMs: 60_000,
    pid,
    onDeath: () =>
      new Error(
        `feast serve exited while starting (log: ${logPath(opts.home, FEATURE_SERVER)}):\n${logTail(opts.home, FEATURE_SERVER)}`,
      ),
  });
}

/**
 * Feast: the pipeline (source tables, `feast apply`, materialize) when the data is
 * missing, old or built from other definitions, then `feast serve` on 127.0.0.1.
 */
export const featureStore: StackPart = {
  name: 'feature-store',
  daemon: FEATURE_SERVER,

  async status(config) {
    const url = featureServerUrl(config);
    const answering = await new FeatureServerClient(url).healthy();
    const stale = staleReason(config);
    const state = localFeast(config).state();
    const detail = !answering
      ? 'not answering'
      : stale
        ? `needs the pipeline: ${stale}`
        : `data as of ${state!.asOf}, views ${state!.views.join(', ')}`;
    return {
      part: 'feature-store',
      address: url,
      version: answering ? `feast ${feastVersion()}` : null,
      healthy: answering && stale === null,
      managed: managedPid(config.home, FEATURE_SERVER) !== undefined,
      detail,
    } satisfies PartStatus;
  },

  async up(config) {
    const feast = localFeast(config);
    const client = new FeatureServerClient(featureServerUrl(config));
    const port = config.featureStore.port;
    if (!(await client.healthy()) && (await isListening(HOST, port))) {
      throw new PortTakenError(
        'feature server',
        port,
        findPortOwner(port),
        'set PAVED_FEATURE_STORE_PORT=<free port>',
      );
    }
    await ensureFeastEnv(venvRoot(config));
    mkdirSync(feast.home, { recursive: true });
    const stale = staleReason(config);
    if (stale) {
      process.stderr.write(`paved: running the feature pipeline (${stale})\n`);
      const definitionsChanged = stale === 'feature definitions changed';
      await feast.runPipeline(logPath(config.home, 'feature-pipeline'));
      writeFileSync(keyPath(config), repoKey());
      // A running server caches the old registry; restart it so it serves the new definitions.
      if (definitionsChanged) await stopDaemon(config.home, FEATURE_SERVER);
    }
    if (await client.healthy()) return this.status(config);
    await startFeatureServer({
      home: config.home,
      feast,
      port,
      feastBin: feastVenvBin(venvRoot(config), 'feast'),
    });
    return this.status(config);
  },

  async down(config) {
    return (await stopDaemon(config.home, FEATURE_SERVER))
      ? 'stopped feast serve'
      : 'not started by paved; left alone';
  },
};
