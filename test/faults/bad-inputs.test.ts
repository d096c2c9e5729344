import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { templateArtifacts } from '../../src/adapters/template-catalog.js';
import { inspectPackage } from '../../src/adapters/package-inspector.js';
import { loadPolicy } from '../../src/adapters/policy-loader.js';
import { projectPath } from '../../src/adapters/project.js';
import { validateDirectory } from '../../src/cli/commands/validate.js';
import { scanPickleArtifact } from '../../src/domain/pickle-scanner.js';
import type { Finding } from '../../src/domain/schema-errors.js';
import { assessPackage } from '../../src/domain/validate.js';
import { paved } from '../support/cli.js';
import { writeTarball, type RawEntry } from '../support/tarballs.js';
import { faultRow } from './fault-table.js';

// Hundreds of broken inputs, generated: every field of paved.yaml wrong in type, range
// and format, unknown keys, huge and unicode strings; hostile package archives; torn
// and misshapen traffic samples. Each must be a clear refusal (the field and the fix),
// never a crash or a hang. A sample goes through the real CLI for the exit code.
const EXAMPLE = projectPath('examples', 'arrests');
const GOOD = parse(readFileSync(path.join(EXAMPLE, 'paved.yaml'), 'utf8')) as Record<string, unknown>;
const HANG_MS = 10_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'paved-fault-'));
  dirs.push(d);
  return d;
}

interface Case {
  label: string;
  /** A refusal must name this field (a paved.yaml path, or a file of the package). */
  field: string;
  run: () => Promise<Finding[]>;
}

interface Outcome {
  label: string;
  kind: 'refused' | 'accepted' | 'crash' | 'hang' | 'unclear';
  detail: string;
}

const HUGE = 'x'.repeat(200_000);
const VALID_EMPTY: Record<string, unknown[]> = { requirements: [[]], budgets: [{}], fairness: [{}] };
const UNICODE = ['名前', '🙂', 'a\u202eb', 'a\u0000b', 'İ', 'ﬁ'];
const WRONG_TYPES: unknown[] = [42, -1.5, true, null, [], {}, ['a', 1]];

/** Values that break a field: wrong types, plus the field's own bad ranges and formats. */
const BAD_VALUES: Record<string, unknown[]> = {
  name: ['', 'Arrests', '-arrests', 'arrests_model', 'a'.repeat(64), 'ar rests', HUGE, ...UNICODE, 7],
  owner: ['', 'alice', 'alice@', '@example.com', 'a b@example.com', HUGE, '名前@例え.テスト', 42],
  team: ['', 'Risk', 'risk!', 'no-such-team', 'constructor', '__proto__', HUGE, '🙂'],
  template: ['', 'python-pytorch', '../python-sklearn', HUGE, '🙂', 3],
  artifact: ['', '../model.skops', '/etc/passwd', 'missing.skops', 'model.exe', 'a/../../b.skops', HUGE, 9],
  requirements: [
    'scikit-learn==1.9.1',
    ['scikit-learn'],
    ['scikit-learn>=1.0'],
    ['scikit-learn==1.9.1', 'scikit-learn==1.8.0'],
    [''],
    [HUGE],
    ['🙂==1'],
    [42],
  ],
  inputs: [
    [],
    [{ name: 'age' }],
    [{ dtype: 'float32' }],
    [{ name: 'age', dtype: 'float128' }],
    [{ name: '1age', dtype: 'float32' }],
    [{ name: 'age', dtype: 'float32', unit: 'years' }],
    [{ name: HUGE, dtype: 'float32' }],
    [{ name: '年齢', dtype: 'float32' }],
    'age',
  ],
  features: [
    { service: '' },
    { service: 'bad service' },
    { service: 42 },
    { request: 'x' },
    { service: 's', x: 1 },
  ],
  budgets: [
    { p99_ms: -1 },
    { p99_ms: 0 },
    { p99_ms: 'fast' },
    { p99_ms: 10_000 },
    { p50_ms: -5 },
    { error_rate: 2 },
    { error_rate: -0.1 },
    { cost_per_million_usd: 0 },
    { p98_ms: 100 },
  ],
  fairness: [
    { sensitive: 'sex' },
    { sensitive: [42] },
    { sensitive: [''] },
    { sensitive: ['income'] },
    { sensitive: ['sex'], min_dp_ratio: 2 },
    { sensitive: ['sex'], service: 'bad service' },
    { sensitive: ['sex'], colour: 1 },
  ],
  shadow: [
    { sample: '../x.jsonl' },
    { sample: '/etc/passwd' },
    { sample: 42 },
    { sample: 'missing.jsonl' },
    { x: 1 },
    'x',
  ],
  rollout: [
    { steps: [], bake: '10s' },
    { steps: [50], bake: '10s' },
    { steps: [100, 50], bake: '10s' },
    { steps: [0, 100], bake: '10s' },
    { steps: [50, 150], bake: '10s' },
    { steps: ['a', 100], bake: '10s' },
    { steps: [12.5, 100], bake: '10s' },
    { steps: [5, 100], bake: '-1s' },
    { steps: [5, 100], bake: 'forever' },
    { steps: [5, 100] },
    { steps: [5, 100], bake: '10s', speed: 2 },
  ],
  serving: [{ replicas: 0 }, { replicas: 1.5 }, { replicas: 65 }, { replicas: 'two' }, { count: 2 }],
  description: [42, [], {}],
};

function manifestCases(): Case[] {
  const cases: Case[] = [];
  const add = (label: string, field: string, doc: unknown) =>
    cases.push({
      label,
      field,
      run: async () => {
        const dir = tmp();
        cpSync(EXAMPLE, dir, { recursive: true });
        writeFileSync(path.join(dir, 'paved.yaml'), typeof doc === 'string' ? doc : stringify(doc));
        return (await validateDirectory(dir)).findings.filter((f) => f.severity === 'refused');
      },
    });
  for (const [field, values] of Object.entries(BAD_VALUES)) {
    // An empty list or section is valid where the field has a default.
    const valid = VALID_EMPTY[field] ?? [];
    const bad = [
      ...values,
      ...WRONG_TYPES.filter((w) => !values.some((v) => JSON.stringify(v) === JSON.stringify(w))),
    ];
    for (const value of bad.filter((v) => !valid.some((e) => JSON.stringify(e) === JSON.stringify(v)))) {
      // An absent optional section is valid; null stands for "absent" in YAML.
      if (value === null && !['name', 'owner', 'team', 'artifact', 'inputs', 'requirements'].includes(field))
        continue;
      add(`paved.yaml ${field}: ${JSON.stringify(value)?.slice(0, 40)}`, field, { ...GOOD, [field]: value });
    }
  }
  for (const field of ['name', 'owner', 'team', 'artifact', 'inputs']) {
    const rest = { ...GOOD };
    delete rest[field];
    add(`paved.yaml without ${field}`, field, rest);
  }
  for (const key of ['colour', 'Name', 'budget', 'rollouts', '🙂', HUGE.slice(0, 5000), '__proto__'])
    add(`paved.yaml unknown key ${key.slice(0, 20)}`, key.slice(0, 20), { ...GOOD, [key]: 1 });
  add('paved.yaml empty', 'paved.yaml', '');
  add('paved.yaml a list', 'paved.yaml', '- name: arrests\n');
  add('paved.yaml a scalar', 'paved.yaml', 'arrests\n');
  add('paved.yaml not YAML', 'paved.yaml', 'name: [arrests\n  owner: {\n');
  add(
    'paved.yaml binary garbage',
    'paved.yaml',
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1'),
  );
  add('paved.yaml 2 MB', 'paved.yaml', `${stringify(GOOD)}description: ${'y'.repeat(2 * 1024 * 1024)}\n`);
  add('paved.yaml anchors bomb', 'paved.yaml', billionLaughs());
  return cases;
}

/** YAML aliases that expand to billions of nodes: parsing must stay bounded. */
function billionLaughs(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${stringify(GOOD)}${lines.join('\n')}\n`;
}

function packageCases(): Case[] {
  const policy = { ...loadPolicy(), packages: { max_files: 50, max_unpacked_mb: 2, max_artifact_mb: 1 } };
  const manifest = stringify({ ...GOOD, shadow: undefined });
  const model = readFileSync(path.join(EXAMPLE, 'model.skops'));
  const base: RawEntry[] = [
    { path: 'paved.yaml', body: manifest },
    { path: 'model.skops', body: model },
  ];
  const cases: Case[] = [];
  const add = (label: string, field: string, write: (file: string) => void) =>
    cases.push({
      label,
      field,
      run: async () => {
        const file = path.join(tmp(), 'pkg.tar.gz');
        write(file);
        const a = assessPackage(await inspectPackage(file, policy.packages), policy, {
          scanPickle: scanPickleArtifact,
          templates: templateArtifacts(),
        });
        return a.refusals;
      },
    });
  const tarball = (label: string, field: string, entries: RawEntry[]) =>
    add(label, field, (file) => writeTarball(file, entries));
  tarball('archive: ../ traversal', '../evil.py', [...base, { path: '../evil.py', body: 'x' }]);
  tarball('archive: nested traversal', 'a/../../b.py', [...base, { path: 'a/../../b.py', body: 'x' }]);
  tarball('archive: absolute path', '/etc/cron.d/x', [...base, { path: '/etc/cron.d/x', body: 'x' }]);
  tarball('archive: symlink out', 'link', [
    ...base,
    { path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' },
  ]);
  tarball('archive: hard link', 'hard', [...base, { path: 'hard', type: 'Link', linkpath: 'paved.yaml' }]);
  tarball('archive: character device', 'null', [...base, { path: 'null', type: 'CharacterDevice' }]);
  tarball('archive: FIFO', 'pipe', [...base, { path: 'pipe', type: 'FIFO' }]);
  tarball('archive: duplicate paved.yaml', 'paved.yaml', [
    ...base,
    { path: 'paved.yaml', body: 'name: other\n' },
  ]);
  tarball('archive: artifact replaced by a link', 'model.skops', [
    { path: 'paved.yaml', body: manifest },
    { path: 'model.skops', type: 'SymbolicLink', linkpath: '/etc/shadow' },
  ]);
  tarball('archive: no paved.yaml', 'paved.yaml', [{ path: 'model.skops', body: model }]);
  tarball('archive: no artifact', 'model.skops', [{ path: 'paved.yaml', body: manifest }]);
  tarball('archive: empty', 'package', []);
  tarball('archive: zip bomb (64 MB of zeros)', 'package', [
    ...base,
    { path: 'zeros.bin', body: Buffer.alloc(64 * 1024 * 1024) },
  ]);
  tarball('archive: 500 files', 'package', [
    ...base,
    ...Array.from({ length: 500 }, (_, i) => ({ path: `f/${i}.txt`, body: 'x' })),
  ]);
  tarball('archive: artifact over its limit', 'model.skops', [
    { path: 'paved.yaml', body: manifest },
    { path: 'model.skops', body: Buffer.alloc(1.5 * 1024 * 1024, 1) },
  ]);
  add('archive: binary garbage', 'package', (file) =>
    writeFileSync(file, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 104729) % 256))),
  );
  add('archive: gzip of garbage', 'package', (file) => {
    writeTarball(file, base);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  });
  add('archive: zero bytes', 'package', (file) => writeFileSync(file, ''));
  return cases;
}

function sampleCases(): Case[] {
  const lines = readFileSync(path.join(EXAMPLE, 'traffic-sample.jsonl'), 'utf8').trim().split('\n');
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  const cases: Case[] = [];
  const add = (label: string, text: string) =>
    cases.push({
      label,
      field: 'shadow.sample',
      run: async () => {
        const dir = tmp();
        cpSync(EXAMPLE, dir, { recursive: true });
        writeFileSync(path.join(dir, 'traffic-sample.jsonl'), text);
        return (await validateDirectory(dir)).findings.filter((f) => f.severity === 'refused');
      },
    });
  const line = (edit: (l: Record<string, unknown>) => unknown) =>
    [...lines.slice(0, 5), JSON.stringify(edit(structuredClone(first)))].join('\n');
  const req = (l: Record<string, unknown>) => l.request as { inputs: Array<Record<string, unknown>> };
  add('sample: empty', '');
  add('sample: blank lines only', '\n\n  \n');
  add('sample: torn last line', `${lines.slice(0, 5).join('\n')}\n${lines[5]!.slice(0, 40)}`);
  add('sample: not JSON', 'request,label\n1,0\n');
  add('sample: a JSON array', JSON.stringify(lines.slice(0, 3).map((l) => JSON.parse(l))));
  add(
    'sample: line without request',
    line((l) => ({ t: l.t, key: l.key })),
  );
  add(
    'sample: request without inputs',
    line((l) => ({ ...l, request: {} })),
  );
  add(
    'sample: inputs empty',
    line((l) => ({ ...l, request: { inputs: [] } })),
  );
  add(
    'sample: negative t',
    line((l) => ({ ...l, t: -1 })),
  );
  add(
    'sample: label 2',
    line((l) => ({ ...l, label: 2 })),
  );
  add(
    'sample: shape larger than data',
    line((l) => ((req(l).inputs[0]!.shape = [7]), l)),
  );
  add(
    'sample: shape not numbers',
    line((l) => ((req(l).inputs[0]!.shape = ['a']), l)),
  );
  add(
    'sample: inputs of different batch sizes',
    line((l) => {
      const inputs = req(l).inputs;
      inputs.push({ name: 'hour', shape: [2], datatype: 'FP32', data: [1, 2] });
      return l;
    }),
  );
  cases.push({
    label: 'sample: lines without the sensitive attribute they must carry',
    field: 'attributes.sex',
    run: async () => {
      const dir = tmp();
      cpSync(EXAMPLE, dir, { recursive: true });
      writeFileSync(path.join(dir, 'paved.yaml'), stringify({ ...GOOD, fairness: { sensitive: ['sex'] } }));
      return (await validateDirectory(dir)).findings.filter((f) => f.severity === 'refused');
    },
  });
  add(
    'sample: binary garbage',
    Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31) % 256)).toString('latin1'),
  );
  return cases;
}

async function attempt(c: Case): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
  try {
    const result = await Promise.race([c.run(), hang]);
    if (result === 'hang')
      return { label: c.label, kind: 'hang', detail: `no answer in ${HANG_MS / 1000} s` };
    if (result.length === 0) return { label: c.label, kind: 'accepted', detail: 'no refusal' };
    const unclear = result.find((f) => !f.field || !f.message || !f.fix);
    if (unclear) return { label: c.label, kind: 'unclear', detail: JSON.stringify(unclear) };
    const named = result.some((f) => f.field.includes(c.field) || f.message.includes(c.field));
    if (!named)
      return {
        label: c.label,
        kind: 'unclear',
        detail: `does not name ${c.field}: ${result.map((f) => f.field).join(', ')}`,
      };
    return {
      label: c.label,
      kind: 'refused',
      detail: `${result[0]!.field}: ${result[0]!.message.slice(0, 80)}`,
    };
  } catch (err) {
    return { label: c.label, kind: 'crash', detail: (err as Error).stack ?? String(err) };
  } finally {
    clearTimeout(timer);
  }
}

describe('hundreds of broken inputs', () => {
  const groups = [
    {
      name: 'bad paved.yaml',
      where: 'validate (paved validate, the validate activity)',
      cases: manifestCases(),
    },
    { name: 'hostile archive', where: 'package inspector (the validate activity)', cases: packageCases() },
    { name: 'bad traffic sample', where: 'validate (the shadow stage replays it)', cases: sampleCases() },
  ];

  it('at least 200, each refused with the field and the fix: no crash, no hang', async () => {
    const total = groups.reduce((n, g) => n + g.cases.length, 0);
    expect(total).toBeGreaterThanOrEqual(200);
    const failures: Outcome[] = [];
    for (const g of groups) {
      const outcomes: Outcome[] = [];
      for (const c of g.cases) outcomes.push(await attempt(c));
      const count = (k: Outcome['kind']) => outcomes.filter((o) => o.kind === k).length;
      faultRow({
        fault: `${g.cases.length} × ${g.name}`,
        where: g.where,
        outcome: `${count('refused')}/${g.cases.length} refused with field and fix; ${count('crash')} crashes, ${count('hang')} hangs`,
        duplicates: '-',
        requestsFailed: '-',
      });
      failures.push(...outcomes.filter((o) => o.kind !== 'refused'));
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it('the CLI turns a refusal into exit 2 with the field and the fix', async () => {
    const dir = tmp();
    cpSync(EXAMPLE, dir, { recursive: true });
    writeFileSync(path.join(dir, 'traffic-sample.jsonl'), '{"t": 0, "request": {"inputs": []}}\n');
    const res = await paved(['validate', dir]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toMatch(
      /^refused {2}shadow\.sample: traffic-sample\.jsonl line 1: request\.inputs .*\n {9}fix: write one request per line/m,
    );
    expect(res.stdout).toContain('refused (1 problem(s))');
  }, 120_000);

  it('a 5 GB file is refused from the listing, before packing reads it (validate and release)', async () => {
    const dir = tmp();
    cpSync(EXAMPLE, dir, { recursive: true });
    // Sparse: no disk used. Packing it would build a tarball in memory past Node's
    // largest Buffer and crash with a RangeError; the refusal comes first.
    truncateSync(path.join(dir, 'model.skops'), 5 * 1024 ** 3);
    const validate = await paved(['validate', dir]);
    expect(validate.code, validate.stderr).toBe(2);
    expect(validate.stdout).toMatch(
      /^refused {2}\(package\): the package unpacks to 5120\.\d MB, over the limit of 256 MB\n {9}fix: remove data files/m,
    );
    const release = await paved(['release', dir, '--version', 'too-big'], {
      PAVED_TASK_QUEUE: 'faults-nothing-runs',
    });
    expect(release.code, release.stderr).toBe(2);
    expect(release.stderr).toContain('is refused before packing: the package unpacks to 5120');
  }, 120_000);
});
