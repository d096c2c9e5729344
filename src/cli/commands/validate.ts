import { lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { inspectPackage } from '../../adapters/package-inspector.js';
import { directoryEntries, packDirectory } from '../../adapters/package-store.js';
import { checkSizes } from '../../domain/package-checks.js';
import { loadPolicy } from '../../adapters/policy-loader.js';
import { templateArtifacts } from '../../adapters/template-catalog.js';
import { PavedError } from '../../domain/errors.js';
import type { Finding } from '../../domain/schema-errors.js';
import { scanPickleArtifact } from '../../domain/pickle-scanner.js';
import { assessPackage } from '../../domain/validate.js';

/** Special files (FIFOs, devices, sockets) never make it into a tarball, so they are found here, by name. */
function specialFiles(root: string, rel = ''): Finding[] {
  const out: Finding[] = [];
  for (const d of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...specialFiles(root, r));
    else if (!d.isFile() && !d.isSymbolicLink()) {
      const st = lstatSync(path.join(root, r));
      const kind = st.isFIFO()
        ? 'FIFO'
        : st.isSocket()
          ? 'socket'
          : st.isCharacterDevice()
            ? 'character device'
            : 'block device';
      out.push({
        code: 'special-file',
        field: r,
        message: `${r} is a ${kind}, not a regular file`,
        fix: 'remove it from the package',
      });
    }
  }
  return out;
}

export interface ValidateReport {
  ok: boolean;
  path: 'golden' | 'off-path' | null;
  findings: Array<Finding & { severity: 'refused' | 'review' }>;
}

/** The validate stage's checks on a directory, offline: pack it as `release` would, then assess the tarball. */
export async function validateDirectory(dir: string): Promise<ValidateReport> {
  const policy = loadPolicy();
  // Count and size first, from the listing: a huge file is refused before it is read.
  const oversized = checkSizes(directoryEntries(dir), policy.packages);
  if (oversized.length > 0) {
    return {
      ok: false,
      path: null,
      findings: oversized.map((f) => ({ ...f, severity: 'refused' as const })),
    };
  }
  const special = specialFiles(dir);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'paved-validate-'));
  try {
    const file = path.join(tmp, 'package.tar.gz');
    writeFileSync(file, await packDirectory(dir));
    const a = assessPackage(await inspectPackage(file, policy.packages), policy, {
      scanPickle: scanPickleArtifact,
      templates: templateArtifacts(),
    });
    const refusals = [...special, ...a.refusals];
    return {
      ok: refusals.length === 0,
      path: refusals.length === 0 ? a.path : null,
      findings: [
        ...refusals.map((f) => ({ ...f, severity: 'refused' as const })),
        ...a.reviewReasons.map((f) => ({ ...f, severity: 'review' as const })),
      ],
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('run the validate stage on a model package, offline: exit 0 releasable, 2 refused')
    .argument('<dir>', 'model package directory')
    .option('--json', 'print { ok, path, findings } as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const root = path.resolve(dir);
      try {
        if (!lstatSync(root).isDirectory()) throw new Error('not a directory');
      } catch {
        throw new PavedError(
          `${dir} is not a directory. Fix: point at a model package (a directory with paved.yaml)`,
        );
      }
      const report = await validateDirectory(root);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        for (const f of report.findings) {
          process.stdout.write(
            `${f.severity === 'refused' ? 'refused' : 'review '}  ${f.field}: ${f.message}\n         fix: ${f.fix}\n`,
          );
        }
        process.stdout.write(
          report.ok
            ? `${dir}: releasable, ${report.path === 'golden' ? 'on the golden path' : 'off the golden path (a reviewer must approve)'}\n`
            : `${dir}: refused (${report.findings.filter((f) => f.severity === 'refused').length} problem(s))\n`,
        );
      }
      process.exitCode = report.ok ? 0 : 2;
    });
}
