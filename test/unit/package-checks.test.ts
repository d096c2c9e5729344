import { describe, expect, it } from 'vitest';
import { artifactFormat, checkArtifact, checkEntries, checkHooks } from '../../src/domain/package-checks.js';

const limits = { maxFiles: 3, maxUnpackedMB: 1, maxArtifactMB: 0.5 };
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
    expect(['m.skops', 'm.onnx', 'm.pkl', 'm.joblib', 'm.pickle', 'm.h5'].map(artifactFormat)).toEqual([
      'skops',
      'onnx',
      'pickle',
      'pickle',
      'pickle',
      undefined,
    ]);
  });
  it('skops is on the golden path', () => {
    expect(checkArtifact('model.skops', [file('model.skops')], limits)).toEqual({
      format: 'skops',
      refusals: [],
      reviewReasons: [],
    });
  });
  it('a pickle is off the golden path, with the reason a reviewer sees', () => {
    const c = checkArtifact('model.pkl', [file('model.pkl')], limits);
    expect(c.reviewReasons[0]!.message).toBe('pickle artifact is off the golden path');
  });
  it('refuses a missing, oversized or unknown artifact', () => {
    expect(checkArtifact('model.skops', [], limits).refusals[0]!.code).toBe('artifact-missing');
    expect(checkArtifact('model.skops', [file('model.skops', 600 * 1024)], limits).refusals[0]!.code).toBe(
      'artifact-too-large',
    );
    expect(checkArtifact('model.h5', [file('model.h5')], limits).refusals[0]).toMatchObject({
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
