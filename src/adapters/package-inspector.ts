import { createReadStream } from 'node:fs';
import * as tar from 'tar';
import { parse as parseYaml } from 'yaml';
import { artifactFormat, normalizeEntryPath, type PackageEntry } from '../domain/package-checks.js';
import type { PackageInspection } from '../domain/validate.js';

export interface TarListing {
  entries: PackageEntry[];
  /** Contents of the requested regular files (by package-relative path) that were within maxFileBytes. */
  files: Map<string, Buffer>;
  /** Set when the walk stopped early because the package exceeded the byte budget (a tar bomb). */
  truncatedAt?: number;
}

/**
 * Lists a package tarball and reads a few named files from it, without writing
 * anything to disk. The walk stops once the declared sizes pass stopAfterBytes,
 * so a gzip or tar bomb costs a bounded amount of work.
 */
export async function listTarball(
  file: string,
  opts: { read: readonly string[]; maxFileBytes: number; stopAfterBytes: number; stopAfterEntries: number },
): Promise<TarListing> {
  const entries: PackageEntry[] = [];
  const files = new Map<string, Buffer>();
  let total = 0;
  let truncatedAt: number | undefined;
  const source = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({
      strict: true,
      onReadEntry: (entry) => {
        const path = normalizeEntryPath(entry.path);
        const size = entry.size ?? 0;
        entries.push({ path, type: entry.type, size, linkpath: entry.linkpath || undefined });
        total += size;
        // Millions of empty headers compress to almost nothing: count them too.
        if (
          (total > opts.stopAfterBytes || entries.length > opts.stopAfterEntries) &&
          truncatedAt === undefined
        ) {
          truncatedAt = total;
          entry.resume();
          source.destroy();
          resolve();
          return;
        }
        if (entry.type === 'File' && opts.read.includes(path) && size <= opts.maxFileBytes) {
          const parts: Buffer[] = [];
          entry.on('data', (c: Buffer) => parts.push(c));
          entry.on('end', () => files.set(path, Buffer.concat(parts)));
        } else {
          entry.resume();
        }
      },
    });
    parser.on('end', () => resolve());
    parser.on('error', reject);
    source.on('error', reject);
    source.pipe(parser);
  });
  return { entries, files, truncatedAt };
}

/**
 * Reads what validation needs from a package tarball: the listing, paved.yaml,
 * model.py and, when the manifest names a pickle, the artifact's bytes (a second
 * pass, since the manifest may come after the artifact in the archive).
 */
export async function inspectPackage(
  file: string,
  limits: { maxFiles: number; maxUnpackedMB: number; maxArtifactMB: number },
): Promise<PackageInspection> {
  const stopAfterBytes = limits.maxUnpackedMB * 1024 * 1024 + 1;
  const stopAfterEntries = limits.maxFiles * 2 + 100;
  const first = await listTarball(file, {
    read: ['paved.yaml', 'model.py'],
    maxFileBytes: 1 << 20,
    stopAfterBytes,
    stopAfterEntries,
  });
  const manifestText = first.files.get('paved.yaml')?.toString('utf8');
  const modelPy = first.files.get('model.py')?.toString('utf8');
  let artifactBytes: Uint8Array | undefined;
  const artifact = manifestText ? artifactNameOf(manifestText) : undefined;
  if (artifact && artifactFormat(artifact) === 'pickle' && first.truncatedAt === undefined) {
    const second = await listTarball(file, {
      read: [artifact],
      maxFileBytes: limits.maxArtifactMB * 1024 * 1024,
      stopAfterBytes,
      stopAfterEntries,
    });
    artifactBytes = second.files.get(artifact);
  }
  return { entries: first.entries, manifestText, modelPy, artifactBytes };
}

function artifactNameOf(manifestText: string): string | undefined {
  try {
    const doc = parseYaml(manifestText) as { artifact?: unknown } | null;
    return typeof doc?.artifact === 'string' ? normalizeEntryPath(doc.artifact) : undefined;
  } catch {
    return undefined;
  }
}
