import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkArtifactContent, skopsTypes, sniffArtifact } from '../../src/domain/artifact-content.js';
import { projectPath } from '../../src/adapters/project.js';
import { readArtifactContent } from '../../src/adapters/artifact-reader.js';

const example = (name: string, file: string) => readFileSync(projectPath('examples', name, file));

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
    expect(sniffArtifact(Buffer.from('hello world'))).toBe('unknown');
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
