import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  cpSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import * as tar from 'tar';
import { modelDockerfile, runtimeDockerfile, type Template } from '../domain/template.js';
import { projectPath } from './project.js';
import { readTemplate } from './template-catalog.js';
import { runLogged } from './stack/exec.js';

export interface LoadedTemplate {
  dir: string;
  spec: Template;
  /** Content key of everything the runtime image is built from. */
  key: string;
}

function hashTree(hash: ReturnType<typeof createHash>, dir: string, rel = ''): void {
  for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    if (d.name === '__pycache__') continue;
    const r = path.join(rel, d.name);
    if (d.isDirectory()) hashTree(hash, dir, r);
    else hash.update(`\0${r}\0`).update(readFileSync(path.join(dir, r)));
  }
}

export function loadTemplate(name: string, baseImage: string): LoadedTemplate {
  const { dir, file, spec } = readTemplate(name);
  // The generated Dockerfiles are part of the recipe: changing them must not reuse old images.
  const hash = createHash('sha256')
    .update(readFileSync(file))
    .update(baseImage)
    .update(runtimeDockerfile(spec, baseImage))
    .update(modelDockerfile('', {}));
  for (const src of spec.source) hashTree(hash.update(`\0${src}\0`), path.join(dir, src));
  if (spec.constraints) hash.update(readFileSync(projectPath(spec.constraints)));
  return { dir, spec, key: hash.digest('hex').slice(0, 12) };
}

/**
 * Downloads the template's wheels once, for the image's platform and Python, into
 * a content-keyed cache, so builds need no network. The platform tags matter: an
 * older tag alone silently resolves an older scikit-learn (training/serving skew).
 */
export async function ensureWheelhouse(
  t: LoadedTemplate,
  cacheDir: string,
  pip: string,
  logFile: string,
  signal?: AbortSignal,
): Promise<string> {
  const reqs = [...t.spec.requirements, ...t.spec.optional_requirements];
  const constraints = t.spec.constraints ? projectPath(t.spec.constraints) : undefined;
  const key = createHash('sha256')
    .update(reqs.join('\n'))
    .update(constraints ? readFileSync(constraints) : '')
    .update(t.spec.wheel_platforms.join(','))
    .update(t.spec.python)
    .digest('hex')
    .slice(0, 12);
  return downloadWheels(
    path.join(cacheDir, 'wheelhouse', key),
    pip,
    [
      ...t.spec.wheel_platforms.flatMap((p) => ['--platform', p]),
      '--python-version',
      t.spec.python,
      ...(constraints ? ['-c', constraints] : []),
      ...reqs,
    ],
    logFile,
    `${reqs.join('\n')}\n`,
    signal,
  );
}

/**
 * `pip download` of binary wheels into `dir`, once: `dir/.complete` marks a finished
 * download. Two builds may both find the cache cold: each downloads into its own
 * directory, and the first to finish publishes it.
 */
export async function downloadWheels(
  dir: string,
  python: string,
  pipArgs: string[],
  logFile: string,
  requirementsText: string,
  signal?: AbortSignal,
): Promise<string> {
  if (existsSync(path.join(dir, '.complete'))) return dir;
  mkdirSync(path.dirname(dir), { recursive: true });
  const partial = mkdtempSync(`${dir}.partial-`);
  await runLogged(
    python,
    [
      '-m',
      'pip',
      'download',
      '--quiet',
      '--disable-pip-version-check',
      '--only-binary=:all:',
      '-d',
      partial,
      ...pipArgs,
    ],
    logFile,
    { signal },
  ).catch((err: unknown) => {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  });
  writeFileSync(path.join(partial, 'requirements.txt'), requirementsText);
  writeFileSync(path.join(partial, '.complete'), new Date().toISOString());
  if (existsSync(path.join(dir, '.complete'))) {
    rmSync(partial, { recursive: true, force: true });
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(partial, dir);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(path.join(dir, '.complete'))) throw err;
  }
  return dir;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  aux?: { ID?: string };
}

/** docker build of a context directory, network none; returns the image id. */
export async function buildImage(
  docker: Docker,
  contextDir: string,
  tag: string,
  opts: {
    onProgress?: (line: string) => void;
    signal?: AbortSignal;
    labels?: Record<string, string>;
    buildargs?: Record<string, string>;
    /** Pack what the context's symbolic links point at, not the links. */
    follow?: boolean;
  } = {},
): Promise<string> {
  const context = tar.c(
    { cwd: contextDir, portable: true, follow: opts.follow ?? false },
    readdirSync(contextDir),
  );
  const stream = await docker.buildImage(
    context as unknown as NodeJS.ReadableStream,
    {
      t: tag,
      networkmode: 'none',
      forcerm: true,
      labels: opts.labels,
      buildargs: opts.buildargs,
      abortSignal: opts.signal,
    } as Docker.ImageBuildOptions,
  );
  const events = await new Promise<BuildEvent[]>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (err: Error | null, out: BuildEvent[]) => (err ? reject(err) : resolve(out)),
      (e: BuildEvent) => {
        const line = e.stream?.trim();
        if (line) opts.onProgress?.(line);
      },
    ),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`docker build ${tag} failed: ${failed.error}`);
  const id = events.map((e) => e.aux?.ID).find(Boolean);
  if (!id) throw new Error(`docker build ${tag} reported no image id`);
  return id;
}

async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/** The template's runtime image (venv + runtime code), built once per template key. */
export async function ensureRuntimeImage(
  docker: Docker,
  t: LoadedTemplate,
  baseImage: string,
  wheelhouse: string,
  onProgress?: (line: string) => void,
): Promise<string> {
  const ref = `paved/runtime-${t.spec.name}:${t.key}`;
  if (await imageExists(docker, ref)) return ref;
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'paved-runtime-'));
  try {
    cpSync(wheelhouse, path.join(ctx, 'wheels'), { recursive: true });
    mkdirSync(path.join(ctx, 'app'));
    for (const src of t.spec.source) {
      cpSync(path.join(t.dir, src), path.join(ctx, 'app', path.basename(src)), {
        recursive: true,
        filter: (s) => !s.includes('__pycache__'),
      });
    }
    writeFileSync(path.join(ctx, 'Dockerfile'), runtimeDockerfile(t.spec, baseImage));
    await buildImage(docker, ctx, ref, { onProgress });
    return ref;
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** The model image: runtime image + the package unpacked from its (validated) tarball. */
export async function buildModelImage(
  docker: Docker,
  runtimeImage: string,
  packageTarball: string,
  tag: string,
  labels: Record<string, string>,
  opts: { onProgress?: (line: string) => void; signal?: AbortSignal },
): Promise<string> {
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'paved-model-'));
  try {
    mkdirSync(path.join(ctx, 'model'));
    // The package passed validation (no links, no escaping paths); strict extraction all the same.
    await tar.x({ file: packageTarball, cwd: path.join(ctx, 'model'), strict: true, preserveOwner: false });
    writeFileSync(path.join(ctx, 'Dockerfile'), modelDockerfile(runtimeImage, labels));
    return await buildImage(docker, ctx, tag, opts);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
