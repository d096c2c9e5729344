import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';

export interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  body?: Buffer | string;
  linkpath?: string;
}

/** Writes a tar.gz exactly as described, header by header: hostile packages on the fly. */
export function writeTarball(file: string, entries: readonly RawEntry[]): void {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const type = e.type ?? 'File';
    const header = new tar.Header({
      path: e.path,
      type,
      size: type === 'File' ? body.length : 0,
      mode: type === 'Directory' ? 0o755 : 0o644,
      linkpath: e.linkpath,
      mtime: new Date(0),
      devmaj: type === 'CharacterDevice' ? 1 : 0,
      devmin: type === 'CharacterDevice' ? 3 : 0,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
}
