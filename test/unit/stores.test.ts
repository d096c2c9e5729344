import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as tar from 'tar';
import { AuditAppendOnlyError, LocalAuditStore } from '../../src/adapters/audit-store.js';
import { LocalPackageStore, packDirectory, readFileFromPackage } from '../../src/adapters/package-store.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'paved-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function modelDir(): string {
  const d = tmp();
  writeFileSync(path.join(d, 'paved.yaml'), 'name: arrests\n');
  writeFileSync(path.join(d, 'model.skops'), Buffer.alloc(1000, 7));
  mkdirSync(path.join(d, 'src'));
  writeFileSync(path.join(d, 'src', 'model.py'), 'def preprocess(x):\n    return x\n');
  mkdirSync(path.join(d, '__pycache__'));
  writeFileSync(path.join(d, '__pycache__', 'junk.pyc'), 'x');
  return d;
}

describe('packing a model directory', () => {
  it('is deterministic: same content, same digest, wherever and whenever packed', async () => {
    const a = modelDir();
    const b = modelDir();
    const store = new LocalPackageStore(tmp());
    const ra = await store.put(await packDirectory(a));
    const rb = await store.put(await packDirectory(b));
    expect(ra.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rb.digest).toBe(ra.digest);
  });

  it('changes digest when content changes, and leaves out caches', async () => {
    const a = modelDir();
    const before = await packDirectory(a);
    writeFileSync(path.join(a, '__pycache__', 'junk.pyc'), 'changed');
    expect((await packDirectory(a)).equals(before)).toBe(true);
    writeFileSync(path.join(a, 'model.skops'), Buffer.alloc(1000, 8));
    expect((await packDirectory(a)).equals(before)).toBe(false);
  });

  it('keeps a symlink as a link (validation refuses it by name), never its target', async () => {
    const a = modelDir();
    symlinkSync('/etc/passwd', path.join(a, 'passwd'));
    const file = path.join(tmp(), 'p.tar.gz');
    writeFileSync(file, await packDirectory(a));
    const entries: Array<{ path: string; type: string }> = [];
    await tar.t({ file, onReadEntry: (e) => entries.push({ path: e.path, type: e.type }) });
    expect(entries).toContainEqual({ path: 'passwd', type: 'SymbolicLink' });
    expect(entries.map((e) => e.path)).not.toContain('__pycache__/junk.pyc');
  });

  it('reads one file back from the stored package, and detects corruption', async () => {
    const store = new LocalPackageStore(tmp());
    const ref = await store.put(await packDirectory(modelDir()));
    const file = await store.fetch(ref);
    expect((await readFileFromPackage(file, 'paved.yaml'))?.toString()).toBe('name: arrests\n');
    expect(await readFileFromPackage(file, 'missing.yaml')).toBeUndefined();
    writeFileSync(file, 'tampered');
    await expect(store.fetch(ref)).rejects.toThrow(/corrupt/);
  });
});

describe('audit store', () => {
  const entry = (seq: number) => ({ seq, at: '2026-01-01T00:00:00Z', actor: 'paved', action: `step ${seq}` });

  it('writes the trail and accepts later exports that only append', async () => {
    const store = new LocalAuditStore(tmp());
    const file = await store.export('arrests', 'v1', 'run-1', [entry(1)]);
    expect(file.endsWith(path.join('arrests', 'v1', 'run-1.json'))).toBe(true);
    await store.export('arrests', 'v1', 'run-1', [entry(1), entry(2)]);
    expect(await store.read('arrests', 'v1')).toEqual([entry(1), entry(2)]);
  });

  it('keeps each run of a release id apart and reads the newest', async () => {
    const store = new LocalAuditStore(tmp());
    await store.export('arrests', 'v1', 'run-1', [entry(1), entry(2)]);
    await new Promise((r) => setTimeout(r, 20));
    await store.export('arrests', 'v1', 'run-2', [entry(1)]);
    expect(await store.read('arrests', 'v1')).toEqual([entry(1)]);
  });

  it('refuses names that would leave the audit directory', async () => {
    const store = new LocalAuditStore(tmp());
    await expect(store.export('arrests', '../../etc', 'run-1', [entry(1)])).rejects.toThrow(
      /not a release name/,
    );
    await expect(store.export('arrests', 'v1', '../x', [entry(1)])).rejects.toThrow(/not a release name/);
  });

  it('refuses an export that rewrites history', async () => {
    const store = new LocalAuditStore(tmp());
    await store.export('arrests', 'v1', 'run-1', [entry(1), entry(2)]);
    await expect(store.export('arrests', 'v1', 'run-1', [entry(1)])).rejects.toBeInstanceOf(
      AuditAppendOnlyError,
    );
    expect(await store.read('arrests', 'v1')).toHaveLength(2);
  });
});
