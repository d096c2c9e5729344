import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PavedConfig } from '../../domain/config.js';
import { dockerClient } from '../docker-client.js';
import { projectPath } from '../project.js';
import { ensureDebianPackages, MissingPrerequisiteError } from './debian.js';
import { isRoot, runLogged } from './exec.js';
import { logPath } from './processes.js';
import type { PartStatus, StackPart } from './part.js';

export const BASE_IMAGE_REPOSITORY = 'paved/python-base';
const RECIPE = projectPath('scripts', 'base-image', 'build-rootfs.sh');

/** The content key of the base image: recipe text and suite. Same recipe, same tag. */
export function baseImageKey(config: PavedConfig): string {
  return createHash('sha256')
    .update(readFileSync(RECIPE))
    .update(`\0${config.baseImage.suite}`)
    .digest('hex')
    .slice(0, 12);
}

export function baseImageRef(config: PavedConfig): string {
  return `${BASE_IMAGE_REPOSITORY}:${baseImageKey(config)}`;
}

async function inspect(config: PavedConfig): Promise<{ id: string; size: number } | null> {
  try {
    const info = await dockerClient(config).getImage(baseImageRef(config)).inspect();
    return { id: info.Id, size: info.Size };
  } catch {
    return null;
  }
}

async function importTarball(config: PavedConfig, tarball: string): Promise<void> {
  const docker = dockerClient(config);
  const [repo, tag] = baseImageRef(config).split(':') as [string, string];
  const stream = await docker.importImage(createReadStream(tarball), {
    repo,
    tag,
    changes: ['ENV LANG=C.UTF-8', 'ENV PYTHONDONTWRITEBYTECODE=1', 'CMD ["python3"]'],
  } as unknown as object);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = out?.find((o) => o.error);
      if (err || failed) reject(err ?? new Error(`docker import failed: ${failed?.error}`));
      else resolve();
    }),
  );
}

/**
 * paved/python-base:<key>, built offline: debootstrap (minbase + python3) from the
 * Debian mirror, then `docker import`. The root filesystem tarball is cached outside
 * the clone, keyed the same way, so a fresh clone on a warm machine only imports it.
 */
export const baseImage: StackPart = {
  name: 'base-image',

  async status(config) {
    const found = await inspect(config);
    return {
      part: 'base-image',
      address: baseImageRef(config),
      version: found ? `debian ${config.baseImage.suite}, ${Math.round(found.size / 1e6)} MB` : null,
      healthy: found !== null,
      // An image is data, not a process: `down` keeps it for the next `up`.
      managed: false,
      detail: found ? found.id.slice(0, 19) : 'not built',
    } satisfies PartStatus;
  },

  async up(config) {
    const current = await this.status(config);
    if (current.healthy) return current;
    const tarball = path.join(config.cacheDir, 'base-image', `python-base-${baseImageKey(config)}.tar`);
    if (!existsSync(tarball)) {
      if (!isRoot()) {
        throw new MissingPrerequisiteError(
          `the base image ${baseImageRef(config)} is missing and debootstrap needs root to build it`,
          'run `npx paved stack up` as root once',
        );
      }
      await ensureDebianPackages(
        [{ pkg: 'debootstrap', provides: '/usr/sbin/debootstrap' }],
        'the offline base image',
      );
      mkdirSync(path.dirname(tarball), { recursive: true });
      process.stderr.write(
        `paved: building ${baseImageRef(config)} with debootstrap (about a minute, once; log: ${logPath(config.home, 'base-image')})\n`,
      );
      await runLogged(
        'bash',
        [RECIPE, tarball, config.baseImage.suite, config.baseImage.debianMirror],
        logPath(config.home, 'base-image'),
      );
    }
    await importTarball(config, tarball);
    return this.status(config);
  },

  async down() {
    return 'image kept for the next start';
  },
};
