import type { ArtifactFormat } from './package-checks.js';
import type { Finding } from './schema-errors.js';

/** What a tree model's own file says about the inputs it was trained on. */
export interface ModelSignature {
  features: number;
  /** null when the model was trained without column names (f0…, Column_0…). */
  names: string[] | null;
  /** The training objective as the library writes it (binary:logistic, regression, …). */
  objective: string;
}

/** What the artifact's bytes are, whatever its name says. */
export type ArtifactContent =
  /** types: null when its schema is too large to read. */
  | { kind: 'skops'; types: string[] | null }
  | { kind: 'zip' }
  | { kind: 'onnx' }
  | { kind: 'pickle' }
  | { kind: 'xgboost-json' | 'xgboost-ubj' | 'lightgbm-text'; signature: ModelSignature }
  /** JSON, UBJSON or text that is not a model the template can load (or is cut short). */
  | { kind: 'json' | 'ubjson' | 'text' }
  | { kind: 'unknown' };

export type SniffedKind = 'zip' | 'pickle' | 'onnx' | 'json' | 'ubjson' | 'text' | 'unknown';

/** UBJSON's value markers that may follow an object's `{` (a key's length type, or an optimized container). */
const UBJSON_AFTER_BRACE = new Set([...'iUIlL$#}'].map((c) => c.charCodeAt(0)));

/** The first bytes tell a zip, a pickle, an ONNX model, JSON, UBJSON and plain text apart. */
export function sniffArtifact(head: Uint8Array): SniffedKind {
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05)) return 'zip';
  // Protocol 2 and later open with PROTO; 0 and 1 with one of the opcodes a
  // top-level object starts with (joblib and pickle both write one of these).
  if (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5) return 'pickle';
  if (head[0] !== undefined && PROTOCOL_0_1_STARTS.has(head[0])) return 'pickle';
  if (looksLikeOnnx(head)) return 'onnx';
  if (head[0] === 0x7b && head[1] !== undefined && UBJSON_AFTER_BRACE.has(head[1])) return 'ubjson';
  const text = [...head].every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  if (text && head.length > 0) return /^\s*\{/.test(String.fromCharCode(...head)) ? 'json' : 'text';
  return 'unknown';
}

/** Library defaults for unnamed columns: a model with these knows only how many inputs it has. */
const UNNAMED = /^(f|Column_)\d+$/;

function named(names: string[]): string[] | null {
  return names.length === 0 || names.every((n) => UNNAMED.test(n)) ? null : names;
}

/**
 * An XGBoost model document (JSON or UBJSON, the same tree): learner.learner_model_param
 * holds the feature count as a string, learner.feature_names the names it was fitted on.
 */
export function xgboostSignature(doc: unknown): ModelSignature | null {
  const learner = (doc as { learner?: Record<string, unknown> } | null)?.learner;
  if (!learner || typeof learner !== 'object') return null;
  const param = learner.learner_model_param as Record<string, unknown> | undefined;
  const features = Number(param?.num_feature);
  if (!Number.isInteger(features) || features < 0) return null;
  const names = Array.isArray(learner.feature_names)
    ? learner.feature_names.filter((n): n is string => typeof n === 'string')
    : [];
  const objective = (learner.objective as { name?: unknown } | undefined)?.name;
  return { features, names: named(names), objective: typeof objective === 'string' ? objective : 'unknown' };
}

/**
 * A LightGBM text model: `tree`, then key=value header lines; the features are
 * max_feature_idx + 1, named by feature_names (space-separated).
 */
export function lightgbmSignature(text: string): ModelSignature | null {
  const lines = text.split('\n', 64).map((l) => l.trimEnd());
  if (lines[0] !== 'tree') return null;
  const header = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === '' || line.startsWith('Tree=')) break;
    const eq = line.indexOf('=');
    if (eq > 0) header.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const maxIdx = Number(header.get('max_feature_idx'));
  if (!header.has('version') || !Number.isInteger(maxIdx) || maxIdx < 0) return null;
  const names = (header.get('feature_names') ?? '').split(' ').filter(Boolean);
  return {
    features: maxIdx + 1,
    names: named(names),
    objective: (header.get('objective') ?? 'unknown').split(' ')[0]!,
  };
}

/**
 * A tree model's own record of its inputs against paved.yaml's: checked here, offline,
 * so a package whose columns drifted from its model is refused before an image is built.
 */
export function checkModelInputs(
  artifact: string,
  signature: ModelSignature,
  inputs: readonly { name: string }[],
): Finding[] {
  const declared = inputs.map((i) => i.name);
  const theirs = signature.names ? ` (${signature.names.join(', ')})` : '';
  if (signature.features !== declared.length) {
    return [
      {
        code: 'model-inputs',
        field: 'inputs',
        message: `${artifact} was trained on ${signature.features} features${theirs} but inputs lists ${declared.length} (${declared.join(', ')})`,
        fix: "list the model's features in inputs, in the order it was trained on",
      },
    ];
  }
  if (signature.names && signature.names.some((n, i) => n !== declared[i])) {
    return [
      {
        code: 'model-inputs',
        field: 'inputs',
        message: `${artifact} was trained on ${signature.names.join(', ')} but inputs lists ${declared.join(', ')}`,
        fix: "list inputs with the model's names in the model's order, or retrain on columns named as inputs",
      },
    ];
  }
  return [];
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
  'xgboost-json': 'save it with booster.save_model("model.json")',
  'xgboost-ubj': 'save it with booster.save_model("model.ubj")',
  'lightgbm-text': 'save it with booster.save_model("model.txt")',
};

const IS: Record<ArtifactContent['kind'], string> = {
  skops: 'a skops file',
  zip: 'a zip archive without a skops schema',
  onnx: 'an ONNX model',
  pickle: 'a pickle',
  'xgboost-json': 'an XGBoost JSON model',
  'xgboost-ubj': 'an XGBoost UBJSON model',
  'lightgbm-text': 'a LightGBM text model',
  json: 'JSON that is not an XGBoost model',
  ubjson: 'UBJSON that is not an XGBoost model',
  text: 'text that is not a LightGBM model',
  unknown: 'no format paved knows',
};

/** The names a file of that content goes by, for "name the file after what it is". */
const SUFFIXES: Partial<Record<ArtifactContent['kind'], string>> = {
  skops: '.skops',
  onnx: '.onnx',
  pickle: '.pkl or .joblib',
  'xgboost-json': '.json',
  'xgboost-ubj': '.ubj',
  'lightgbm-text': '.txt',
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
          fix: SUFFIXES[content.kind]
            ? `${SAVE_AS[named]}, or name the file after what it is (${SUFFIXES[content.kind]})`
            : SAVE_AS[named],
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
