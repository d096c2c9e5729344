import { describe, expect, it } from 'vitest';
import { artifactFormat, checkArtifact, checkEntries, checkHooks } from '../../src/domain/package-checks.js';

const limits = { max_files: 3, max_unpacked_mb: 1, max_artifact_mb: 0.5 };
const templates = {
  'python-sklearn': { on_path: ['.skops', '.onnx'], off_path: ['.pkl', '.pickle', '.joblib'] },
  'python-boosting': { on_path: ['.ubj', '.json', '.txt'], off_path: [] },
};
const sklearnArtifact = (name: string, entries: ReturnType<typeof file>[]) =>
  checkArtifact(name, 'python-sklearn', entries, limits, templates);
const file = (path: string, size = 10) => ({ path, type: 'File', size });

describe('package entries', () => {
  it('accepts regular files and directories', () => {
    expect(
      checkEntries(
        [{ path: 'src', type: 'Directory', size: 0 }, file('paved.yaml'), file('src/model.py')],
        limits,
      ),
    ).toEqual([]);
  });
  it.each([
    [{ path: '../escape.py', type: 'File', size: 1 }, 'path-traversal', '../escape.py'],
    [{ path: 'a/../../escape.py', type: 'File', size: 1 }, 'path-traversal', 'a/../../escape.py'],
    [{ path: '/etc/cron.d/x', type: 'File', size: 1 }, 'path-absolute', '/etc/cron.d/x'],
    [{ path: 'passwd', type: 'SymbolicLink', size: 0, linkpath: '/etc/passwd' }, 'link', 'passwd'],
    [{ path: 'hard', type: 'Link', size: 0, linkpath: 'paved.yaml' }, 'link', 'hard'],
    [{ path: 'null', type: 'CharacterDevice', size: 0 }, 'special-file', 'null'],
    [{ path: 'pipe', type: 'FIFO', size: 0 }, 'special-file', 'pipe'],
    [{ path: 'model.pkl', type: 'ContiguousFile', size: 10 }, 'special-file', 'model.pkl'],
  ])('refuses %o naming the file', (entry, code, field) => {
    const [f] = checkEntries([entry], limits);
    expect(f).toMatchObject({ code, field });
    expect(f!.message).toContain(field);
  });
  it('refuses too many files and too many bytes (tar bomb)', () => {
    const codes = checkEntries([file('a'), file('b'), file('c'), file('d', 2 * 1024 * 1024)], limits).map(
      (f) => f.code,
    );
    expect(codes).toEqual(['too-many-files', 'package-too-large']);
  });
});

describe('artifact', () => {
  it('knows the served formats', () => {
    expect(
      ['m.skops', 'm.onnx', 'm.pkl', 'm.joblib', 'm.pickle', 'm.UBJ', 'm.json', 'm.txt', 'm.h5'].map(
        artifactFormat,
      ),
    ).toEqual([
      'skops',
      'onnx',
      'pickle',
      'pickle',
      'pickle',
      'xgboost-ubj',
      'xgboost-json',
      'lightgbm-text',
      undefined,
    ]);
  });
  it('a tree model is on the golden path of the template that serves it', () => {
    expect(checkArtifact('model.txt', 'python-boosting', [file('model.txt')], limits, templates)).toEqual({
      format: 'lightgbm-text',
      refusals: [],
      reviewReasons: [],
    });
  });
  it('a format the template does not serve is refused, naming the template that does', () => {
    expect(sklearnArtifact('model.ubj', [file('model.ubj')]).refusals[0]).toEqual({
      code: 'artifact-format',
      field: 'artifact',
      message:
        'model.ubj is not a format template python-sklearn serves (it serves .skops, .onnx; .pkl, .pickle, .joblib after a review)',
      fix: 'use template: python-boosting, which serves .ubj files, or save the model as .skops or .onnx',
    });
    const pickle = checkArtifact('model.pkl', 'python-boosting', [file('model.pkl')], limits, templates);
    expect(pickle.refusals[0]!.fix).toBe(
      'use template: python-sklearn, which serves .pkl files, or save the model as .ubj or .json or .txt',
    );
    expect(pickle.reviewReasons).toEqual([]);
  });
  it('skops is on the golden path', () => {
    expect(sklearnArtifact('model.skops', [file('model.skops')])).toEqual({
      format: 'skops',
      refusals: [],
      reviewReasons: [],
    });
  });
  it('a pickle is off the golden path, with the reason a reviewer sees', () => {
    const c = sklearnArtifact('model.pkl', [file('model.pkl')]);
    expect(c.reviewReasons[0]!.message).toBe('pickle artifact is off the golden path');
  });
  it('refuses a missing, oversized or unknown artifact', () => {
    expect(sklearnArtifact('model.skops', []).refusals[0]!.code).toBe('artifact-missing');
    expect(sklearnArtifact('model.skops', [file('model.skops', 600 * 1024)]).refusals[0]!.code).toBe(
      'artifact-too-large',
    );
    expect(sklearnArtifact('model.h5', [file('model.h5')]).refusals[0]).toMatchObject({
      code: 'artifact-format',
      fix: expect.stringContaining('skops'),
    });
  });
});

describe('model.py hooks, read without running', () => {
  it('accepts the documented signatures, with annotations and defaults', () => {
    const src = [
      'import numpy as np',
      'def preprocess(inputs: dict[str, list]) -> dict[str, list]:',
      '    return inputs',
      '',
      'def postprocess(',
      '    outputs: dict,',
      '    scale: float = 1.0,',
      ') -> dict:',
      '    return outputs',
      'def helper(a, b):',
      '    return a',
    ].join('\n');
    expect(checkHooks(src)).toEqual([]);
  });
  it('refuses a hook with the wrong arity or async, naming it', () => {
    const f = checkHooks(
      'def preprocess(inputs, features):\n    pass\nasync def postprocess(outputs):\n    pass\ndef preprocess():\n    pass\n',
    );
    expect(f.map((x) => [x.code, x.field])).toEqual([
      ['hook-signature', 'model.py:preprocess'],
      ['hook-async', 'model.py:postprocess'],
      ['hook-signature', 'model.py:preprocess'],
    ]);
    expect(f[0]!.message).toBe('preprocess takes (inputs, features), the template calls preprocess(inputs)');
  });
  it('ignores nested functions and methods of the same name', () => {
    expect(checkHooks('class A:\n    def preprocess(self, a, b):\n        pass\n')).toEqual([]);
  });
});
