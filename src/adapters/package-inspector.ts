import { createReadStream } from 'node:fs';
import * as tar from 'tar';
import { parse as parseYaml } from 'yaml';
import { artifactFormat, normalizeEntryPath, type PackageEntry } from '../domain/package-checks.js';
import type { PackageInspection } from '../domain/validate.js';
import type { Policy } from '../domain/policy.js';
import type { ArtifactContent } from '../domain/artifact-content.js';
import { readArtifactContent } from './artifact-reader.js';

export interface TarListing {
  entries: PackageEntry[];
  /** Contents of the requested regular files (by package-relative path) that were within maxFileBytes. */
  files: Map<string, Buffer>;
  /** Set when the walk stopped early because the package exceeded the byte budget (a tar bomb). */
  truncatedAt?: number;
}

/**
 * Lists a package tarball and reads a few named files from it, without writing
 * anything to disk. The walk stops at the first entry that takes the declared sizes
 * past stopAfterBytes or the count past stopAfterEntries, so a gzip or tar bomb
 * costs a bounded amount of work and the listing ends at that entry.
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
        // The parser finishes the chunk it holds after the source is destroyed: the
        // entries in it are past the budget and not listed.
        if (truncatedAt !== undefined) {
          entry.resume();
          return;
        }
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
export async function inspectPackage(file: string, limits: Policy['packages']): Promise<PackageInspection> {
  const stopAfterBytes = limits.max_unpacked_mb * 1024 * 1024 + 1;
  const stopAfterEntries = limits.max_files * 2 + 100;
  let first: Awaited<ReturnType<typeof listTarball>>;
  try {
    first = await listTarball(file, {
      read: ['paved.yaml', 'model.py'],
      maxFileBytes: 1 << 20,
      stopAfterBytes,
      stopAfterEntries,
    });
  } catch (err) {
    // Bytes that are not an archive (tar's and zlib's own errors) are the package's
    // fault, not a reason to retry; anything else (the disk, say) stays an error.
    if (!/^(TAR_|Z_)/.test((err as { code?: string }).code ?? '')) throw err;
    const unreadable = (err as Error).message.split('\n')[0] ?? 'unreadable';
    return { entries: [], manifestText: undefined, modelPy: undefined, artifactBytes: undefined, unreadable };
  }
  const manifestText = first.files.get('paved.yaml')?.toString('utf8');
  const modelPy = first.files.get('model.py')?.toString('utf8');
  let artifactBytes: Uint8Array | undefined;
  let sampleText: string | undefined;
  const named = manifestText ? namedFiles(manifestText) : {};
  let artifactContent: ArtifactContent | undefined;
  // Any name the template serves: its bytes decide what it is.
  const artifact = named.artifact && artifactFormat(named.artifact) ? named.artifact : undefined;
  if ((artifact || named.sample) && first.truncatedAt === undefined) {
    // Limits first: the walk stops at the package's budget, and each file is read only
    // up to its own (the artifact to the artifact limit, a sample to the unpacked limit).
    if (artifact) {
      const second = await listTarball(file, {
        read: [artifact],
        maxFileBytes: limits.max_artifact_mb * 1024 * 1024,
        stopAfterBytes,
        stopAfterEntries,
      });
      const bytes = second.files.get(artifact);
      if (bytes) {
        artifactBytes = bytes;
        artifactContent = await readArtifactContent(bytes);
      }
    }
    if (named.sample) {
      const third = await listTarball(file, {
        read: [named.sample],
        maxFileBytes: limits.max_unpacked_mb * 1024 * 1024,
        stopAfterBytes,
        stopAfterEntries,
      });
      sampleText = third.files.get(named.sample)?.toString('utf8');
    }
  }
  return { entries: first.entries, manifestText, modelPy, artifactBytes, artifactContent, sampleText };
}

/** The files paved.yaml names, by their path inside the package; unreadable YAML names none. */
function namedFiles(manifestText: string): { artifact?: string; sample?: string } {
  try {
    const doc = parseYaml(manifestText) as { artifact?: unknown; shadow?: { sample?: unknown } } | null;
    const sample = doc?.shadow?.sample;
    return {
      ...(typeof doc?.artifact === 'string' ? { artifact: normalizeEntryPath(doc.artifact) } : {}),
      ...(typeof sample === 'string' ? { sample: normalizeEntryPath(sample) } : {}),
    };
  } catch {
    return {};
  }
}
