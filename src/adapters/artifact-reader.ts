import yauzl from 'yauzl';
import { skopsTypes, sniffArtifact, type ArtifactContent } from '../domain/artifact-content.js';

/**
 * The largest skops schema read: a 2000-tree forest's is 30 MB. The zip declares the
 * size (and yauzl holds it to that), so a larger one is refused unread.
 */
const MAX_SCHEMA_BYTES = 256 * 1024 * 1024;

/**
 * What an artifact's bytes are, read without loading it: the first bytes say zip,
 * pickle or ONNX; a zip is a skops file when it holds skops' schema.json, whose
 * types are listed for the allow-list check.
 */
export async function readArtifactContent(bytes: Buffer): Promise<ArtifactContent> {
  const kind = sniffArtifact(bytes.subarray(0, 16));
  if (kind !== 'zip') return { kind };
  const schema = await zipEntry(bytes, 'schema.json').catch(() => null);
  if (!schema) return { kind: 'zip' };
  if (schema === 'too large') return { kind: 'skops', types: null };
  try {
    const doc = JSON.parse(schema.toString('utf8')) as Record<string, unknown>;
    if (typeof doc._skops_version !== 'string') return { kind: 'zip' };
    return { kind: 'skops', types: skopsTypes(doc) };
  } catch {
    return { kind: 'zip' };
  }
}

/** One entry of a zip held in memory, or null when it has none of that name. */
function zipEntry(bytes: Buffer, name: string): Promise<Buffer | 'too large' | null> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('not a zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve(null));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== name) return zip.readEntry();
        if (entry.uncompressedSize > MAX_SCHEMA_BYTES) return resolve('too large');
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error(`cannot read ${name}`));
          const parts: Buffer[] = [];
          stream.on('data', (c: Buffer) => parts.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            zip.close();
            resolve(Buffer.concat(parts));
          });
        });
      });
      zip.readEntry();
    });
  });
}
