import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkArtifactContent,
  checkModelInputs,
  lightgbmSignature,
  skopsTypes,
  sniffArtifact,
} from '../../src/domain/artifact-content.js';
import { projectPath } from '../../src/adapters/project.js';
import { readArtifactContent } from '../../src/adapters/artifact-reader.js';

const example = (name: string, file: string) => readFileSync(projectPath('examples', name, file));
const treeModel = (file: string) => readFileSync(projectPath('test', 'fixtures', 'tree-models', file));

describe('sniffArtifact: the bytes, not the name', () => {
  it('knows the examples by their first bytes', () => {
    expect(sniffArtifact(example('arrests', 'model.skops'))).toBe('zip');
    expect(sniffArtifact(example('arrests-pickle', 'model.pkl'))).toBe('pickle');
  });

  it('reads an ONNX ModelProto: ir_version first, then a ModelProto field', () => {
    // ir_version 10, producer_name "skl2onnx"
    expect(sniffArtifact(Uint8Array.from([0x08, 0x0a, 0x12, 0x08, ...Buffer.from('skl2onnx')]))).toBe('onnx');
    expect(sniffArtifact(Uint8Array.from([0x08, 0x0a, 0x99]))).toBe('unknown');
    expect(sniffArtifact(Uint8Array.from([0x08, 0x00, 0x12]))).toBe('unknown');
  });

  it('reads every pickle protocol and nothing else as a pickle', () => {
    for (const proto of [2, 3, 4, 5])
      expect(sniffArtifact(Uint8Array.from([0x80, proto, 0x95]))).toBe('pickle');
    expect(sniffArtifact(Buffer.from('(dp0\nS"a"\n'))).toBe('pickle'); // protocol 0
    expect(sniffArtifact(Buffer.from('}q\x00('))).toBe('pickle'); // protocol 1
    expect(sniffArtifact(Buffer.from('hello world'))).toBe('text');
    expect(sniffArtifact(Uint8Array.from([0xff, 0xd8, 0xff]))).toBe('unknown'); // a JPEG
    expect(sniffArtifact(new Uint8Array())).toBe('unknown');
  });
});

describe('readArtifactContent', () => {
  it('reads each example as what it is, the 2000-tree forest (a 30 MB schema) included', async () => {
    for (const name of ['arrests', 'arrests-slow', 'arrests-biased']) {
      const content = await readArtifactContent(example(name, 'model.skops'));
      expect(content.kind, name).toBe('skops');
      expect(content.kind === 'skops' && content.types, name).toContain('numpy.ndarray');
    }
    const forest = await readArtifactContent(example('arrests-slow', 'model.skops'));
    expect(forest.kind === 'skops' && forest.types).toContain(
      'sklearn.ensemble._forest.RandomForestClassifier',
    );
    expect(await readArtifactContent(example('arrests-pickle', 'model.pkl'))).toEqual({ kind: 'pickle' });
  });
});

describe('tree models: what their own files say', () => {
  const arrestsInputs = ['age', 'employed', 'citizen', 'checks', 'year'].map((name) => ({ name }));

  it('reads XGBoost UBJSON and JSON alike: feature count, names and objective', async () => {
    for (const [file, kind] of [
      ['named-binary.ubj', 'xgboost-ubj'],
      ['named-binary.json', 'xgboost-json'],
    ] as const) {
      expect(await readArtifactContent(treeModel(file)), file).toEqual({
        kind,
        signature: { features: 3, names: ['a', 'b', 'c'], objective: 'binary:logistic' },
      });
    }
    expect(await readArtifactContent(treeModel('unnamed-regression.ubj'))).toEqual({
      kind: 'xgboost-ubj',
      signature: { features: 3, names: null, objective: 'reg:squarederror' },
    });
  });

  it('reads the LightGBM text model of examples/arrests-gbt', async () => {
    expect(await readArtifactContent(example('arrests-gbt', 'model.txt'))).toEqual({
      kind: 'lightgbm-text',
      signature: { features: 5, names: arrestsInputs.map((i) => i.name), objective: 'binary' },
    });
    expect(lightgbmSignature('tree\nversion=v4\nmax_feature_idx=1\nfeature_names=Column_0 Column_1\n')).toEqual({
      features: 2,
      names: null,
      objective: 'unknown',
    });
  });

  it('knows JSON, UBJSON and text that are not models, and cut-short models', async () => {
    expect(await readArtifactContent(Buffer.from('{"weights": [1, 2]}'))).toEqual({ kind: 'json' });
    expect(await readArtifactContent(Buffer.from('tree\nnot a header'))).toEqual({ kind: 'text' });
    expect(await readArtifactContent(Buffer.from('a csv,file\n1,2\n'))).toEqual({ kind: 'text' });
    const ubj = treeModel('named-binary.ubj');
    expect(await readArtifactContent(ubj.subarray(0, ubj.length / 2))).toEqual({ kind: 'ubjson' });
    const json = treeModel('named-binary.json');
    expect(await readArtifactContent(json.subarray(0, 100))).toEqual({ kind: 'json' });
  });

  it('refuses a pickle renamed to .ubj or .txt, naming what it is', async () => {
    const pickle = await readArtifactContent(example('arrests-pickle', 'model.pkl'));
    expect(checkArtifactContent('model.ubj', 'xgboost-ubj', pickle, []).refusals).toEqual([
      {
        code: 'artifact-content',
        field: 'artifact',
        message: 'model.ubj is named as an XGBoost UBJSON model but its bytes are a pickle',
        fix: 'save it with booster.save_model("model.ubj"), or name the file after what it is (.pkl or .joblib)',
      },
    ]);
    expect(checkArtifactContent('model.txt', 'lightgbm-text', pickle, []).refusals[0]!.message).toBe(
      'model.txt is named as a LightGBM text model but its bytes are a pickle',
    );
    const ubj = await readArtifactContent(treeModel('named-binary.ubj'));
    expect(checkArtifactContent('model.txt', 'lightgbm-text', ubj, []).refusals[0]!.fix).toBe(
      'save it with booster.save_model("model.txt"), or name the file after what it is (.ubj)',
    );
    expect(checkArtifactContent('model.ubj', 'xgboost-ubj', ubj, [])).toEqual({ refusals: [], reviewReasons: [] });
  });

  it("checks the model's inputs against paved.yaml's, offline", () => {
    const signature = { features: 5, names: arrestsInputs.map((i) => i.name), objective: 'binary' };
    expect(checkModelInputs('model.txt', signature, arrestsInputs)).toEqual([]);
    expect(checkModelInputs('model.txt', signature, arrestsInputs.slice(0, 4))).toEqual([
      {
        code: 'model-inputs',
        field: 'inputs',
        message:
          'model.txt was trained on 5 features (age, employed, citizen, checks, year) but inputs lists 4 (age, employed, citizen, checks)',
        fix: "list the model's features in inputs, in the order it was trained on",
      },
    ]);
    const swapped = [arrestsInputs[1]!, arrestsInputs[0]!, ...arrestsInputs.slice(2)];
    expect(checkModelInputs('model.txt', signature, swapped)[0]!.message).toBe(
      'model.txt was trained on age, employed, citizen, checks, year but inputs lists employed, age, citizen, checks, year',
    );
    // A model fitted without names can be checked only for its width.
    expect(checkModelInputs('m.ubj', { ...signature, names: null }, swapped)).toEqual([]);
  });
});

describe('skopsTypes', () => {
  it('lists each module.class of a schema once, nested or not', () => {
    const schema = {
      __class__: 'Pipeline',
      __module__: 'sklearn.pipeline',
      content: {
        steps: [
          { __class__: 'StandardScaler', __module__: 'sklearn.preprocessing._data' },
          { __class__: 'Pipeline', __module__: 'sklearn.pipeline' },
        ],
      },
    };
    expect(skopsTypes(schema)).toEqual([
      'sklearn.pipeline.Pipeline',
      'sklearn.preprocessing._data.StandardScaler',
    ]);
  });
});

describe('checkArtifactContent', () => {
  const allowed = ['sklearn.pipeline.Pipeline'];

  it('refuses a name that says one format over bytes of another, saying both', () => {
    const r = checkArtifactContent('model.skops', 'skops', { kind: 'pickle' }, allowed);
    expect(r.refusals).toEqual([
      expect.objectContaining({
        code: 'artifact-content',
        field: 'artifact',
        message: 'model.skops is named as a skops file but its bytes are a pickle',
      }),
    ]);
    expect(checkArtifactContent('model.onnx', 'onnx', { kind: 'zip' }, allowed).refusals[0]!.message).toBe(
      'model.onnx is named as an ONNX model but its bytes are a zip archive without a skops schema',
    );
    expect(
      checkArtifactContent('model.joblib', 'pickle', { kind: 'unknown' }, allowed).refusals,
    ).toHaveLength(1);
  });

  it('sends a skops file with types off the list to a reviewer, naming each; primitives pass', () => {
    const r = checkArtifactContent(
      'model.skops',
      'skops',
      { kind: 'skops', types: ['sklearn.pipeline.Pipeline', 'builtins.dict', 'mylib.Custom', 'os.system'] },
      allowed,
    );
    expect(r.refusals).toEqual([]);
    expect(r.reviewReasons).toEqual([
      expect.objectContaining({
        code: 'skops-types',
        message: "model.skops holds types outside the platform's allowed_types: mylib.Custom, os.system",
      }),
    ]);
  });

  it('refuses a skops file whose schema is too large to read, saying so', () => {
    const r = checkArtifactContent('model.skops', 'skops', { kind: 'skops', types: null }, allowed);
    expect(r.refusals[0]!.message).toBe(
      "model.skops's skops schema is over the 256 MB paved reads to check its types",
    );
  });

  it('passes matching bytes with every type allowed', () => {
    const r = checkArtifactContent('model.skops', 'skops', { kind: 'skops', types: allowed }, allowed);
    expect(r).toEqual({ refusals: [], reviewReasons: [] });
    expect(checkArtifactContent('model.onnx', 'onnx', { kind: 'onnx' }, allowed)).toEqual({
      refusals: [],
      reviewReasons: [],
    });
  });
});
