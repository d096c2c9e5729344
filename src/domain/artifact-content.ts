import type { ArtifactFormat } from './package-checks.js';
import type { Finding } from './schema-errors.js';

/** What the artifact's bytes are, whatever its name says. */
export type ArtifactContent =
  /** types: null when its schema is too large to read. */
  | { kind: 'skops'; types: string[] | null }
  | { kind: 'zip' }
  | { kind: 'onnx' }
  | { kind: 'pickle' }
  | { kind: 'unknown' };

/** The first bytes are enough to tell a zip, a pickle and an ONNX model apart. */
export function sniffArtifact(head: Uint8Array): 'zip' | 'pickle' | 'onnx' | 'unknown' {
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05)) return 'zip';
  // Protocol 2 and later open with PROTO; 0 and 1 with one of the opcodes a
  // top-level object starts with (joblib and pickle both write one of these).
  if (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5) return 'pickle';
  if (head[0] !== undefined && PROTOCOL_0_1_STARTS.has(head[0])) return 'pickle';
  if (looksLikeOnnx(head)) return 'onnx';
  return 'unknown';
}

// ( MARK, ] EMPTY_LIST, } EMPTY_DICT, ) EMPTY_TUPLE, c GLOBAL, N NONE
const PROTOCOL_0_1_STARTS = new Set([0x28, 0x5d, 0x7d, 0x29, 0x63, 0x4e]);

/**
 * An ONNX ModelProto as onnx serializes it: fields in number order, so ir_version
 * (field 1, a varint between 1 and 30) comes first, then another ModelProto field.
 */
function looksLikeOnnx(head: Uint8Array): boolean {
  if (head[0] !== 0x08) return false;
  let i = 1;
  let value = 0;
  for (let shift = 0; i < head.length && i < 6; shift += 7) {
    const b = head[i++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
  }
  if (value < 1 || value > 30) return false;
  // producer_name, producer_version, domain (strings), model_version (varint),
  // doc_string, graph, opset_import, metadata_props
  return head[i] === undefined || [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72].includes(head[i]!);
}

/** skops' own containers and scalars: it loads these without being told to trust them. */
const SKOPS_PRIMITIVES = new Set([
  'builtins.dict',
  'builtins.list',
  'builtins.tuple',
  'builtins.str',
  'builtins.int',
  'builtins.float',
  'builtins.bool',
  'builtins.bytes',
  'builtins.bytearray',
  'builtins.complex',
  'builtins.NoneType',
  'builtins.set',
  'builtins.frozenset',
  'builtins.slice',
]);

/** Every `module.class` a skops schema.json names, in first-seen order. */
export function skopsTypes(schema: unknown): string[] {
  const seen = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.__module__ === 'string' && typeof o.__class__ === 'string')
        seen.add(`${o.__module__}.${o.__class__}`);
      Object.values(o).forEach(walk);
    }
  };
  walk(schema);
  return [...seen];
}

const SAVE_AS: Record<ArtifactFormat, string> = {
  skops: 'save it with skops.io.dump',
  onnx: 'export it with skl2onnx or torch.onnx',
  pickle: 'save it with joblib.dump',
};

const IS: Record<ArtifactContent['kind'], string> = {
  skops: 'a skops file',
  zip: 'a zip archive without a skops schema',
  onnx: 'an ONNX model',
  pickle: 'a pickle',
  unknown: 'no format paved knows',
};

/**
 * The artifact's bytes against its name: a name that says one format over bytes of
 * another is refused; a skops file holding types off the platform's list goes to a
 * reviewer with each type named.
 */
export function checkArtifactContent(
  artifact: string,
  named: ArtifactFormat,
  content: ArtifactContent,
  allowedTypes: readonly string[],
): { refusals: Finding[]; reviewReasons: Finding[] } {
  if (content.kind !== named) {
    return {
      refusals: [
        {
          code: 'artifact-content',
          field: 'artifact',
          message: `${artifact} is named as ${IS[named]} but its bytes are ${IS[content.kind]}`,
          fix: `${SAVE_AS[named]}, or name the file after what it is (.skops, .onnx, .joblib)`,
        },
      ],
      reviewReasons: [],
    };
  }
  if (content.kind !== 'skops') return { refusals: [], reviewReasons: [] };
  if (content.types === null) {
    return {
      refusals: [
        {
          code: 'artifact-content',
          field: 'artifact',
          message: `${artifact}'s skops schema is over the 256 MB paved reads to check its types`,
          fix: 'ship a smaller model (fewer or shallower trees), or export it to ONNX',
        },
      ],
      reviewReasons: [],
    };
  }
  const allowed = new Set(allowedTypes);
  const untrusted = content.types.filter((t) => !SKOPS_PRIMITIVES.has(t) && !allowed.has(t));
  if (untrusted.length === 0) return { refusals: [], reviewReasons: [] };
  return {
    refusals: [],
    reviewReasons: [
      {
        code: 'skops-types',
        field: 'artifact',
        message: `${artifact} holds types outside the platform's allowed_types: ${untrusted.join(', ')}`,
        fix: 'a reviewer decides; or build the model from the estimators policy/platform.yaml lists',
      },
    ],
  };
}
