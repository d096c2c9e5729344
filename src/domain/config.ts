import { z } from 'zod';
import { PavedError } from './errors.js';

/**
 * paved's runtime configuration: one schema, fed from environment variables and an
 * optional `paved.config.yaml`. Environment wins over the file so CI can override a
 * checked-in file without editing it. Defaults describe the local single-machine stack.
 */

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const hostPort = z
  .string()
  .regex(HOST_PORT, 'must be host:port')
  .refine((v) => {
    if (!HOST_PORT.test(v)) return true; // already reported by the regex
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be between 1 and 65535');

const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a whole port number')
  .min(1, 'must be a port number between 1 and 65535')
  .max(65535, 'must be a port number between 1 and 65535');

const tlsSchema = z
  .strictObject({
    serverName: z.string().min(1).optional(),
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  })
  .refine((t) => Boolean(t.certFile) === Boolean(t.keyFile), {
    message: 'certFile and keyFile must be given together (mutual TLS needs both)',
    path: ['certFile'],
  });

export const ConfigSchema = z.strictObject({
  /** Absolute directory for all local state: pid files, logs, databases, venv. */
  home: z.string().min(1, 'must be a directory path'),
  /** Content-keyed cache shared between clones (base image tarball, wheelhouse). */
  cacheDir: z.string().min(1, 'must be a directory path'),
  /**
   * Where paved's own Python environments live (Temporal CLI, Feast, Envoy, training).
   * Unset: PAVED_HOME. The platform image bakes them in and points here.
   */
  venvDir: z.string().min(1, 'must be a directory path').optional(),
  temporal: z
    .strictObject({
      address: hostPort.default('127.0.0.1:7233'),
      namespace: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a Temporal namespace name (letters, digits, . _ -)')
        .default('default'),
      uiPort: port.default(8233),
      taskQueue: z.string().min(1, 'must not be empty').default('paved'),
      tls: tlsSchema.optional(),
    })
    .prefault({}),
  docker: z
    .strictObject({
      host: z
        .string()
        .regex(/^(unix:\/\/\/|tcp:\/\/)/, 'must start with unix:/// or tcp://')
        .default('unix:///var/run/docker.sock'),
      /**
       * Where model replicas run: a version's replicas are spread across these daemons.
       * Empty means `host` alone. Builds and the registry stay on `host`.
       */
      hosts: z
        .preprocess(
          (v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((h) => h.trim())
                  .filter(Boolean)
              : v,
          z.array(z.string().regex(/^(unix:\/\/\/|tcp:\/\/)/, 'must start with unix:/// or tcp://')).max(16),
        )
        .default([]),
    })
    .prefault({}),
  /**
   * Where releases' artifacts live (packages, reports, predictions, audit trails).
   * Unset: PAVED_HOME. Workers on several machines share one path here.
   */
  store: z
    .strictObject({
      dir: z.string().startsWith('/', 'must be an absolute directory path').optional(),
    })
    .prefault({}),
  registry: z
    .strictObject({
      address: hostPort.default('127.0.0.1:5000'),
    })
    .prefault({}),
  worker: z
    .strictObject({
      metricsPort: port.default(9464),
    })
    .prefault({}),
  gateway: z
    .strictObject({
      /** The data plane (Envoy) serves models on 127.0.0.1:<port>: V2 routes and /metrics. */
      port: port.default(8090),
      /** paved's control plane: the token-guarded admin API on 127.0.0.1:<adminPort>. */
      adminPort: port.default(8091),
      /** The data plane's own admin interface, on loopback only (it has no authentication). */
      dataPlaneAdminPort: port.default(8092),
      /** Bearer token for /admin; when unset, `PAVED_HOME/gateway/admin-token` (created on first start). */
      token: z.string().min(16, 'must be at least 16 characters').optional(),
      /** Share of requests sampled into PAVED_HOME/gateway/capture/<model>.jsonl for replay. */
      captureRate: z.coerce
        .number()
        .min(0, 'must be from 0 to 1')
        .max(1, 'must be from 0 to 1')
        .default(0.05),
      /** Cap per model file; the previous full file is kept as <model>.1.jsonl. */
      captureMaxMB: z.coerce.number().positive('must be a positive number of MB').default(16),
    })
    .prefault({}),
  featureStore: z
    .strictObject({
      /** `feast serve` listens on 127.0.0.1:<port>; model containers read features there. */
      port: port.default(6566),
    })
    .prefault({}),
  baseImage: z
    .strictObject({
      debianMirror: z
        .url('must be an http(s) URL of a Debian mirror')
        .default('http://deb.debian.org/debian'),
      suite: z.string().min(1).default('bookworm'),
    })
    .prefault({}),
});

export type PavedConfig = z.infer<typeof ConfigSchema>;

/** The directory holding paved's Python environments. */
export function venvRoot(config: Pick<PavedConfig, 'home' | 'venvDir'>): string {
  return config.venvDir ?? config.home;
}

/** Where each configurable value can come from, and how to fix a bad one. */
interface Setting {
  path: readonly string[];
  env: string;
  fix: string;
}

export const SETTINGS: readonly Setting[] = [
  { path: ['home'], env: 'PAVED_HOME', fix: 'set it to a writable directory, e.g. PAVED_HOME=.paved' },
  { path: ['cacheDir'], env: 'PAVED_CACHE_DIR', fix: 'set it to a writable directory, e.g. ~/.cache/paved' },
  {
    path: ['venvDir'],
    env: 'PAVED_VENV_DIR',
    fix: 'set it to a writable directory for Python environments, or unset it to use PAVED_HOME',
  },
  { path: ['temporal', 'address'], env: 'PAVED_TEMPORAL_ADDRESS', fix: 'use host:port, e.g. 127.0.0.1:7233' },
  {
    path: ['temporal', 'namespace'],
    env: 'PAVED_TEMPORAL_NAMESPACE',
    fix: 'use an existing namespace, e.g. default',
  },
  { path: ['temporal', 'uiPort'], env: 'PAVED_TEMPORAL_UI_PORT', fix: 'use a free port, e.g. 8233' },
  { path: ['temporal', 'taskQueue'], env: 'PAVED_TASK_QUEUE', fix: 'use a task queue name, e.g. paved' },
  {
    path: ['temporal', 'tls', 'serverName'],
    env: 'PAVED_TEMPORAL_TLS_SERVER_NAME',
    fix: "use the server certificate's host name",
  },
  { path: ['temporal', 'tls', 'caFile'], env: 'PAVED_TEMPORAL_TLS_CA', fix: 'point it at a PEM CA bundle' },
  {
    path: ['temporal', 'tls', 'certFile'],
    env: 'PAVED_TEMPORAL_TLS_CERT',
    fix: 'set both PAVED_TEMPORAL_TLS_CERT and PAVED_TEMPORAL_TLS_KEY, or neither',
  },
  {
    path: ['temporal', 'tls', 'keyFile'],
    env: 'PAVED_TEMPORAL_TLS_KEY',
    fix: 'set both PAVED_TEMPORAL_TLS_CERT and PAVED_TEMPORAL_TLS_KEY, or neither',
  },
  {
    path: ['docker', 'host'],
    env: 'DOCKER_HOST',
    fix: 'use unix:///var/run/docker.sock or tcp://127.0.0.1:2375',
  },
  {
    path: ['docker', 'hosts'],
    env: 'PAVED_DOCKER_HOSTS',
    fix: 'list Docker host URLs separated by commas, e.g. unix:///var/run/docker.sock,unix:///run/paved-docker-2.sock',
  },
  {
    path: ['store', 'dir'],
    env: 'PAVED_STORE_DIR',
    fix: 'use an absolute directory every worker and the CLI can read and write, e.g. /srv/paved/store',
  },
  { path: ['registry', 'address'], env: 'PAVED_REGISTRY', fix: 'use host:port, e.g. 127.0.0.1:5000' },
  { path: ['worker', 'metricsPort'], env: 'PAVED_METRICS_PORT', fix: 'use a free port, e.g. 9464' },
  { path: ['gateway', 'port'], env: 'PAVED_GATEWAY_PORT', fix: 'use a free port, e.g. 8090' },
  { path: ['gateway', 'adminPort'], env: 'PAVED_GATEWAY_ADMIN_PORT', fix: 'use a free port, e.g. 8091' },
  {
    path: ['gateway', 'dataPlaneAdminPort'],
    env: 'PAVED_DATA_PLANE_ADMIN_PORT',
    fix: 'use a free port, e.g. 8092',
  },
  {
    path: ['gateway', 'token'],
    env: 'PAVED_GATEWAY_TOKEN',
    fix: 'use a random string of 16 or more characters, or unset it to use PAVED_HOME/gateway/admin-token',
  },
  { path: ['gateway', 'captureRate'], env: 'PAVED_CAPTURE_RATE', fix: 'use a share from 0 to 1, e.g. 0.05' },
  { path: ['gateway', 'captureMaxMB'], env: 'PAVED_CAPTURE_MAX_MB', fix: 'use a size in MB, e.g. 16' },
  {
    path: ['featureStore', 'port'],
    env: 'PAVED_FEATURE_STORE_PORT',
    fix: 'use a free port, e.g. 6566',
  },
  {
    path: ['baseImage', 'debianMirror'],
    env: 'PAVED_DEBIAN_MIRROR',
    fix: 'use the mirror apt uses, e.g. http://deb.debian.org/debian',
  },
  { path: ['baseImage', 'suite'], env: 'PAVED_DEBIAN_SUITE', fix: 'use a Debian suite name, e.g. bookworm' },
];

export class ConfigError extends PavedError {
  constructor(readonly problems: readonly string[]) {
    super(`paved configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ConfigSources {
  env: Readonly<Record<string, string | undefined>>;
  /** Parsed YAML of the config file, if there is one. */
  file?: { path: string; data: unknown };
  /** PAVED_HOME when nothing sets it: `.paved/` in the project root. */
  defaultHome: string;
  /** The cache directory when nothing sets it, e.g. ~/.cache/paved. */
  defaultCacheDir: string;
  /** Resolves a possibly relative path against a base directory. */
  resolvePath: (base: string, p: string) => string;
  cwd: string;
  fileDir?: string;
}

type Origin = { kind: 'env'; name: string } | { kind: 'file'; path: string };

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function keyOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Merges file and environment into one raw object and records where each value came from. */
function mergeSources(src: ConfigSources): { raw: Record<string, unknown>; origins: Map<string, Origin> } {
  const origins = new Map<string, Origin>();
  const fileData = src.file?.data ?? {};
  if (typeof fileData !== 'object' || fileData === null || Array.isArray(fileData)) {
    throw new ConfigError([
      `${src.file?.path}: must be a YAML mapping of settings (e.g. "temporal: {address: ...}")`,
    ]);
  }
  const raw = structuredClone(fileData) as Record<string, unknown>;
  if (src.file) {
    const filePath = src.file.path;
    const walk = (node: unknown, prefix: string[]): void => {
      if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
        for (const [k, v] of Object.entries(node)) walk(v, [...prefix, k]);
      } else origins.set(keyOf(prefix), { kind: 'file', path: filePath });
    };
    walk(raw, []);
    for (const key of ['home', 'cacheDir', 'venvDir']) {
      if (typeof raw[key] === 'string' && src.fileDir) raw[key] = src.resolvePath(src.fileDir, raw[key]);
    }
  }
  for (const s of SETTINGS) {
    const value = src.env[s.env];
    if (value === undefined || value === '') continue;
    const isDir = s.path[0] === 'home' || s.path[0] === 'cacheDir' || s.path[0] === 'venvDir';
    setIn(raw, s.path, isDir ? src.resolvePath(src.cwd, value) : value);
    origins.set(keyOf(s.path), { kind: 'env', name: s.env });
  }
  raw.home ??= src.defaultHome;
  raw.cacheDir ??= src.defaultCacheDir;
  return { raw, origins };
}

function describe(issue: z.core.$ZodIssue, origins: Map<string, Origin>, raw: unknown): string {
  const key = keyOf(issue.path);
  const setting = SETTINGS.find((s) => keyOf(s.path) === key);
  const origin = origins.get(key);
  let value: unknown = raw;
  for (const k of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[k];
  if (issue.code === 'unrecognized_keys') {
    const where = origin?.kind === 'file' ? origin.path : 'paved.config.yaml';
    const parent = key ? `${key}.` : '';
    const known = SETTINGS.filter((s) => keyOf(s.path.slice(0, issue.path.length)) === key)
      .map((s) => s.path[issue.path.length])
      .filter((v, i, all) => all.indexOf(v) === i);
    return `${where}: unknown setting ${issue.keys.map((k) => `"${parent}${k}"`).join(', ')}. Fix: remove it or use one of: ${known.join(', ')}`;
  }
  const source =
    origin?.kind === 'env'
      ? `${origin.name}=${JSON.stringify(value)}`
      : origin?.kind === 'file'
        ? `${origin.path}: ${key}=${JSON.stringify(value)}`
        : `${key}${setting ? ` (${setting.env})` : ''}`;
  const fix = setting ? ` Fix: ${setting.fix}.` : '';
  return `${source}: ${issue.message}.${fix}`;
}

/** Pure: turns environment + parsed file into a validated config, or a ConfigError naming each bad setting. */
export function resolveConfig(src: ConfigSources): PavedConfig {
  const { raw, origins } = mergeSources(src);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => describe(i, origins, raw)));
  return parsed.data;
}

/** Splits a validated host:port into its parts. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
