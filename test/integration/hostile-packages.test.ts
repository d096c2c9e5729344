import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/adapters/config-loader.js';
import { templateArtifacts } from '../../src/adapters/template-catalog.js';
import { inspectPackage, listTarball } from '../../src/adapters/package-inspector.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { scanPickleArtifact } from '../../src/domain/pickle-scanner.js';
import { assessPackage } from '../../src/domain/validate.js';
import { paved } from '../support/cli.js';
import { writeTarball, type RawEntry } from '../support/tarballs.js';

// Each hostile package is built on the fly, header by header, and goes through the
// same inspector and rules the validate activity uses. Nothing is unpacked or run.
const policy = { ...loadPolicy(), packages: { max_files: 20, max_unpacked_mb: 1, max_artifact_mb: 0.5 } };
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'paved-hostile-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const manifest = (artifact = 'model.skops') =>
  `name: arrests\nowner: alice@example.com\nteam: risk\nartifact: ${artifact}\nrequirements: [scikit-learn==1.9.1]\ninputs: [{name: age, dtype: float32}]\n`;

async function assess(entries: RawEntry[]) {
  return (await inspectAndAssess(entries)).assessment;
}

/**
 * The assessment, what the inspector listed for it, and where a plain walk with the
 * inspector's budget (1 MB + 1 byte, max_files * 2 + 100 entries) stopped.
 */
async function inspectAndAssess(entries: RawEntry[]) {
  const file = path.join(tmp(), 'pkg.tar.gz');
  writeTarball(file, entries);
  const inspection = await inspectPackage(file, policy.packages);
  const walk = await listTarball(file, {
    read: [],
    maxFileBytes: 0,
    stopAfterBytes: policy.packages.max_unpacked_mb * 1024 * 1024 + 1,
    stopAfterEntries: STOP_AFTER_ENTRIES,
  });
  const assessment = assessPackage(inspection, policy, {
    expectedModel: 'arrests',
    scanPickle: scanPickleArtifact,
    templates: templateArtifacts(),
  });
  return { assessment, listed: inspection.entries.map((e) => e.path), walk };
}
const STOP_AFTER_ENTRIES = policy.packages.max_files * 2 + 100;

const base: RawEntry[] = [
  { path: 'paved.yaml', body: manifest() },
  { path: 'model.skops', body: 'skops-bytes' },
];

describe('hostile packages are refused, naming the file', () => {
  it.each<[string, RawEntry, string]>([
    [
      'a path escaping the package',
      { path: '../../etc/cron.d/evil', body: '* * * * * root sh' },
      'path-traversal',
    ],
    ['an absolute path', { path: '/etc/ld.so.preload', body: '/tmp/x.so' }, 'path-absolute'],
    ['a symlink', { path: 'data', type: 'SymbolicLink', linkpath: '/etc/shadow' }, 'link'],
    ['a hard link', { path: 'shadow', type: 'Link', linkpath: '/etc/shadow' }, 'link'],
    ['a device file', { path: 'mem', type: 'CharacterDevice' }, 'special-file'],
    ['a FIFO', { path: 'pipe', type: 'FIFO' }, 'special-file'],
  ])('%s', async (_label, hostile, code) => {
    const a = await assess([...base, hostile]);
    const f = a.refusals.find((r) => r.code === code);
    expect(f, JSON.stringify(a.refusals)).toBeDefined();
    expect(f!.field).toBe(hostile.path.replace(/^\.\//, ''));
  });

  it('a second entry with the same path (tar would keep the last, validation read the first)', async () => {
    const a = await assess([...base, { path: 'paved.yaml', body: manifest('model.pkl') }]);
    expect(a.refusals.find((r) => r.code === 'duplicate-entry')?.field).toBe('paved.yaml');
  });

  it('a tar bomb of empty entries stops the walk at the first entry past the budget', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({
      path: `e/${createHash('sha1').update(String(i)).digest('hex')}`,
      body: '',
    }));
    const { assessment: a, listed, walk } = await inspectAndAssess([...base, ...many]);
    expect(a.refusals.map((r) => r.code)).toContain('too-many-files');
    expect(walk.truncatedAt).toBeDefined();
    // in archive order up to and including the first entry past the budget, nothing after
    const archive = [...base, ...many].map((e) => e.path);
    expect(listed).toEqual(archive.slice(0, STOP_AFTER_ENTRIES + 1));
    expect(walk.entries.map((e) => e.path)).toEqual(archive.slice(0, STOP_AFTER_ENTRIES + 1));
  });

  it('a tar bomb: too many files', async () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ path: `junk/${i}.txt`, body: 'x' }));
    expect((await assess([...base, ...many])).refusals.map((r) => r.code)).toContain('too-many-files');
  });

  it('a tar bomb: unpacks past the size limit, and the walk stops early', async () => {
    const zeros = Buffer.alloc(3 * 1024 * 1024);
    const {
      assessment: a,
      listed,
      walk,
    } = await inspectAndAssess([
      ...base,
      { path: 'a.bin', body: zeros },
      { path: 'pad.bin', body: randomBytes(512 * 1024) },
      { path: 'b.bin', body: zeros },
    ]);
    expect(a.refusals.map((r) => r.code)).toContain('package-too-large');
    // a.bin took the declared sizes past 1 MB: the walk stopped there.
    const small = base.reduce((n, e) => n + Buffer.byteLength(e.body ?? ''), 0);
    expect(walk.truncatedAt).toBe(small + zeros.length);
    expect(listed).toEqual(['paved.yaml', 'model.skops', 'a.bin']);
    expect(walk.entries.map((e) => e.path)).toEqual(['paved.yaml', 'model.skops', 'a.bin']);
  });

  it('an artifact over the size limit', async () => {
    const a = await assess([
      { path: 'paved.yaml', body: manifest() },
      { path: 'model.skops', body: Buffer.alloc(600 * 1024) },
    ]);
    expect(a.refusals.find((r) => r.code === 'artifact-too-large')?.message).toContain(
      'model.skops is 0.6 MB',
    );
  });

  it('a pickle named model.skops is refused: the bytes decide the format, not the name', async () => {
    const pickle = readFileSync(projectPath('examples', 'arrests-pickle', 'model.pkl'));
    const a = await assess([
      { path: 'paved.yaml', body: manifest('model.skops') },
      { path: 'model.skops', body: pickle },
    ]);
    expect(a.refusals.find((r) => r.code === 'artifact-content')).toMatchObject({
      field: 'artifact',
      message: 'model.skops is named as a skops file but its bytes are a pickle',
    });
  });

  it('a skops file holding a type off the allowed_types goes to a reviewer, the type named', async () => {
    // A real skops zip whose schema names one more type than scikit-learn's.
    const skops = execFileSync('python3', [
      '-c',
      [
        'import io, json, sys, zipfile',
        `src = zipfile.ZipFile(${JSON.stringify(projectPath('examples', 'arrests', 'model.skops'))})`,
        "schema = json.loads(src.read('schema.json'))",
        "schema['content']['extra'] = {'__class__': 'Backdoor', '__module__': 'mylib.models', '__loader__': 'ObjectNode', 'content': {}}",
        'out = io.BytesIO()',
        "with zipfile.ZipFile(out, 'w') as z:",
        '    for n in src.namelist():',
        "        z.writestr(n, json.dumps(schema) if n == 'schema.json' else src.read(n))",
        'sys.stdout.buffer.write(out.getvalue())',
      ].join('\n'),
    ]);
    const a = await assess([
      { path: 'paved.yaml', body: manifest('model.skops') },
      { path: 'model.skops', body: skops },
    ]);
    expect(a.refusals).toEqual([]);
    expect(a.path).toBe('off-path');
    expect(a.reviewReasons.find((r) => r.code === 'skops-types')?.message).toBe(
      "model.skops holds types outside the platform's allowed_types: mylib.models.Backdoor",
    );
  });

  it('a pickle that would run os.system', async () => {
    const python = path.join(loadConfig().home, 'ml-venv', 'bin', 'python');
    const evil = execFileSync(python, [
      '-c',
      "import os, pickle, sys\nclass E:\n    def __reduce__(self):\n        return (os.system, ('id',))\nsys.stdout.buffer.write(pickle.dumps(E(), protocol=4))",
    ]);
    const a = await assess([
      { path: 'paved.yaml', body: manifest('model.pkl') },
      { path: 'model.pkl', body: evil },
    ]);
    const f = a.refusals.find((r) => r.code === 'pickle-unsafe');
    expect(f?.field).toBe('model.pkl');
    expect(f?.message).toMatch(/would import (posix|os)\.system/);
  });

  it('model.py with a hook the template cannot call', async () => {
    const a = await assess([
      ...base,
      { path: 'model.py', body: 'def preprocess(inputs, secret):\n    return inputs\n' },
    ]);
    expect(a.refusals.find((r) => r.code === 'hook-signature')?.field).toBe('model.py:preprocess');
  });
});

describe('paved validate', () => {
  it('examples/arrests is on the golden path (exit 0)', async () => {
    const res = await paved(['validate', projectPath('examples', 'arrests'), '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ ok: true, path: 'golden', findings: [] });
  });

  it('examples/arrests-pickle is releasable off the path, and says why (exit 0)', async () => {
    const res = await paved(['validate', projectPath('examples', 'arrests-pickle'), '--json']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as {
      ok: boolean;
      path: string;
      findings: Array<{ code: string; message: string; severity: string }>;
    };
    expect(report).toMatchObject({ ok: true, path: 'off-path' });
    expect(report.findings).toEqual([
      expect.objectContaining({
        code: 'pickle-artifact',
        message: 'pickle artifact is off the golden path',
        severity: 'review',
      }),
    ]);
  });

  it('a package with a symlink and a FIFO is refused (exit 2), each named', async () => {
    const dir = tmp();
    cpSync(projectPath('examples', 'arrests'), dir, { recursive: true });
    symlinkSync('/etc/passwd', path.join(dir, 'passwd'));
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const res = await paved(['validate', dir]);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain('refused  passwd: passwd is a symbolic link to /etc/passwd');
    expect(res.stdout).toContain('refused  pipe: pipe is a FIFO, not a regular file');
  });

  it('a broken manifest names each field and its fix', async () => {
    const dir = tmp();
    cpSync(projectPath('examples', 'arrests'), dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'paved.yaml'),
      'name: Arrests\nowner: alice\nteam: risk\nartifact: model.skops\ninputs: []\n',
    );
    const res = await paved(['validate', dir, '--json']);
    expect(res.code).toBe(2);
    const fields = (
      JSON.parse(res.stdout) as { findings: Array<{ field: string; fix: string }> }
    ).findings.map((f) => f.field);
    expect(fields).toEqual(['name', 'owner', 'inputs']);
  });
});

describe('python-boosting packages at validate, offline', () => {
  const gbt = (edit: (dir: string) => void = () => {}) => {
    const dir = tmp();
    cpSync(projectPath('examples', 'arrests-gbt'), dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const manifest = (dir: string, edit: (doc: Record<string, unknown>) => void) => {
    const file = path.join(dir, 'paved.yaml');
    const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(doc);
    writeFileSync(file, stringify(doc));
  };

  it('examples/arrests-gbt is on the golden path', async () => {
    const res = await paved(['validate', gbt(), '--json']);
    expect(JSON.parse(res.stdout)).toEqual({ ok: true, path: 'golden', findings: [] });
    expect(res.code).toBe(0);
  });

  it("inputs that disagree with the model's own features are refused before any build", async () => {
    const dropped = gbt((dir) =>
      manifest(dir, (doc) => (doc.inputs = (doc.inputs as unknown[]).slice(0, 4))),
    );
    const res = await paved(['validate', dropped]);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain(
      'refused  inputs: model.txt was trained on 5 features (age, employed, citizen, checks, year) but inputs lists 4 (age, employed, citizen, checks)',
    );
    const renamed = gbt((dir) =>
      manifest(dir, (doc) => ((doc.inputs as Array<{ name: string }>)[0]!.name = 'age_years')),
    );
    expect((await paved(['validate', renamed])).stdout).toContain(
      'model.txt was trained on age, employed, citizen, checks, year but inputs lists age_years, employed, citizen, checks, year',
    );
  });

  it('a pickle renamed model.txt is refused by its bytes; a skops file under python-boosting by its format', async () => {
    const disguised = gbt((dir) =>
      copyFileSync(projectPath('examples', 'arrests-pickle', 'model.pkl'), path.join(dir, 'model.txt')),
    );
    const res = await paved(['validate', disguised]);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain('model.txt is named as a LightGBM text model but its bytes are a pickle');
    const skops = gbt((dir) => {
      copyFileSync(projectPath('examples', 'arrests', 'model.skops'), path.join(dir, 'model.skops'));
      manifest(dir, (doc) => (doc.artifact = 'model.skops'));
    });
    expect((await paved(['validate', skops])).stdout).toContain(
      'model.skops is not a format template python-boosting serves (it serves .ubj, .json, .txt)',
    );
  });
});

describe('paved init', () => {
  it('scaffolds a package that passes validation, with hooks the template accepts', async () => {
    const dir = path.join(tmp(), 'churn');
    const res = await paved([
      'init',
      dir,
      '--name',
      'churn-score',
      '--team',
      'growth',
      '--owner',
      'dana@example.com',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('created');
    const report = await paved(['validate', dir, '--json']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toEqual({ ok: true, path: 'golden', findings: [] });
  });

  it('--template python-boosting starts from the LightGBM example and validates', async () => {
    const dir = path.join(tmp(), 'churn-gbt');
    const res = await paved([
      'init',
      dir,
      '--name',
      'churn-gbt',
      '--template',
      'python-boosting',
      '--owner',
      'dana@example.com',
    ]);
    expect(res.code, res.stderr).toBe(0);
    const doc = parse(readFileSync(path.join(dir, 'paved.yaml'), 'utf8')) as Record<string, unknown>;
    expect(doc).toMatchObject({
      template: 'python-boosting',
      artifact: 'model.txt',
      requirements: ['lightgbm==4.7.0'],
    });
    expect(readdirSync(dir).sort()).toEqual([
      'model.py',
      'model.txt',
      'paved.yaml',
      'sample-request.json',
      'train.py',
    ]);
    const report = await paved(['validate', dir, '--json']);
    expect(JSON.parse(report.stdout)).toEqual({ ok: true, path: 'golden', findings: [] });
    const unknown = await paved([
      'init',
      path.join(tmp(), 'x'),
      '--name',
      'x',
      '--template',
      'python-torch',
      '--owner',
      'a@example.com',
    ]);
    expect(unknown.stderr).toContain(
      '--template "python-torch" does not exist. Fix: use one of python-boosting, python-sklearn',
    );
  });

  it('never overwrites a directory that has files, and checks the name', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const busy = await paved(['init', dir, '--name', 'x1', '--owner', 'a@example.com']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('is not empty; paved init never overwrites files');
    const bad = await paved([
      'init',
      path.join(dir, 'new'),
      '--name',
      'Churn Score',
      '--owner',
      'a@example.com',
    ]);
    expect(bad.stderr).toContain('--name "Churn Score": use lowercase letters');
  });
});
