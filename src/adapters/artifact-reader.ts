import { decode as decodeUbjson } from '@shelacek/ubjson';
import yauzl from 'yauzl';
import {
  lightgbmSignature,
  skopsTypes,
  sniffArtifact,
  xgboostSignature,
  type ArtifactContent,
} from '../domain/artifact-content.js';

/**
 * The largest skops schema read: a 2000-tree forest's is 30 MB. The zip declares the
 * size (and yauzl holds it to that), so a larger one is refused unread.
 */
const MAX_SCHEMA_BYTES = 256 * 1024 * 1024;

/**
 * What an artifact's bytes are, read without loading it: the first bytes say zip,
 * pickle, ONNX, JSON, UBJSON or text; a zip is a skops file when it holds skops'
 * schema.json, whose types are listed for the allow-list check; JSON and UBJSON
 * are an XGBoost model and text a LightGBM one when they parse as such, and then
 * say what inputs the model was trained on.
 */
export async function readArtifactContent(bytes: Buffer): Promise<ArtifactContent> {
  const kind = sniffArtifact(bytes.subarray(0, 16));
  if (kind === 'json' || kind === 'ubjson') return xgboostContent(bytes, kind);
  if (kind === 'text') {
    const signature = lightgbmSignature(bytes.subarray(0, 64 * 1024).toString('latin1'));
    return signature ? { kind: 'lightgbm-text', signature } : { kind: 'text' };
  }
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

function xgboostContent(bytes: Buffer, kind: 'json' | 'ubjson'): ArtifactContent {
  let doc: unknown;
  try {
    doc =
      kind === 'json'
        ? JSON.parse(bytes.toString('utf8'))
        : decodeUbjson(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, {
            // XGBoost writes lengths and counts as int64; a model's fit well within 2^53.
            int64Handling: ({ view }: { view: DataView }, offset: number) => Number(view.getBigInt64(offset)),
            useTypedArrays: true,
          });
  } catch {
    return { kind }; // cut short or not JSON at all: not a model the loader could read
  }
  const signature = xgboostSignature(doc);
  if (!signature) return { kind };
  return { kind: kind === 'json' ? 'xgboost-json' : 'xgboost-ubj', signature };
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
