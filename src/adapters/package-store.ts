import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tar from 'tar';
import type { PackageEntry } from '../domain/package-checks.js';
import type { PackageRef } from '../domain/release.js';

/**
 * Where model packages travel from the client to the worker. The worker reads only
 * from here, never from the client's working directory. An object store (S3, GCS)
 * implements the same two calls.
 */
export interface PackageStore {
  put(tarball: Buffer): Promise<PackageRef>;
  /** A local file path to the tarball with this digest (fetched first if remote). */
  fetch(ref: PackageRef): Promise<string>;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Content-addressed files under PAVED_HOME/packages. */
export class LocalPackageStore implements PackageStore {
  constructor(readonly dir: string) {}

  private pathFor(digest: string): string {
    return path.join(this.dir, `${digest.replace(':', '-')}.tar.gz`);
  }

  async put(tarball: Buffer): Promise<PackageRef> {
    const digest = sha256(tarball);
    const file = this.pathFor(digest);
    if (!existsSync(file)) {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.partial`;
      writeFileSync(tmp, tarball);
      renameSync(tmp, file); // atomic: a reader never sees half a package
    }
    return { digest, uri: pathToFileURL(file).href };
  }

  async fetch(ref: PackageRef): Promise<string> {
    // Only the digest decides the path: a uri from workflow input never points the
    // worker at another file.
    if (!/^sha256:[0-9a-f]{64}$/.test(ref.digest))
      throw new Error(`not a package digest: ${JSON.stringify(ref.digest)}`);
    const file = this.pathFor(ref.digest);
    if (!existsSync(file)) throw new Error(`package ${ref.digest} is not in the store (${file})`);
    const actual = sha256(await readFile(file));
    if (actual !== ref.digest)
      throw new Error(`package ${file} is corrupt: digest ${actual}, expected ${ref.digest}`);
    return file;
  }
}

/** Every entry below root, sorted, relative: a stable pack order. Links are not followed. */
function listTree(root: string, rel = ''): string[] {
  const out: string[] = [];
  const entries = readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    if (SKIPPED.has(entry.name)) continue;
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    out.push(r);
    if (entry.isDirectory()) out.push(...listTree(root, r));
  }
  return out;
}

const SKIPPED = new Set(['.git', '__pycache__', '.ipynb_checkpoints', '.DS_Store']);

/** What packing the directory would list, from lstat alone: no file's bytes are read. */
export function directoryEntries(dir: string): PackageEntry[] {
  return listTree(dir).map((rel) => {
    const st = lstatSync(path.join(dir, rel));
    const type = st.isDirectory()
      ? 'Directory'
      : st.isFile()
        ? 'File'
        : st.isSymbolicLink()
          ? 'SymbolicLink'
          : 'Other';
    return { path: rel, type, size: st.isFile() ? st.size : 0 };
  });
}

/**
 * Packs a model directory deterministically (sorted entries, no mtimes or owners),
 * so the same content always gives the same digest and therefore the same version.
 * Symlinks are packed as links: validation refuses them with the file named.
 */
export async function packDirectory(dir: string): Promise<Buffer> {
  const files = listTree(dir);
  const chunks: Buffer[] = [];
  const stream = tar.c(
    { cwd: dir, gzip: { level: 9 }, portable: true, noMtime: true, noDirRecurse: true },
    files,
  );
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Reads one file from a package tarball without unpacking the rest. */
export async function readFileFromPackage(
  tarball: string,
  name: string,
  maxBytes = 1 << 20,
): Promise<Buffer | undefined> {
  let found: Buffer | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({
      filter: (p) => p.replace(/^\.\//, '') === name,
      onReadEntry: (entry) => {
        if (entry.type !== 'File' || (entry.size ?? 0) > maxBytes) {
          entry.resume();
          return;
        }
        const parts: Buffer[] = [];
        entry.on('data', (c: Buffer) => parts.push(c));
        entry.on('end', () => (found = Buffer.concat(parts)));
      },
    });
    parser.on('end', resolve);
    parser.on('error', reject);
    createReadStream(tarball).on('error', reject).pipe(parser);
  });
  return found;
}
