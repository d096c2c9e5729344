import type { Finding } from './schema-errors.js';

/**
 * Checks of a package's contents as a tar listing, before anything is unpacked or
 * loaded. Pure: the inspector adapter reads the tarball, these rules decide.
 */
export interface PackageEntry {
  path: string;
  /** node-tar entry types: File, Directory, SymbolicLink, Link, CharacterDevice, BlockDevice, FIFO, … */
  type: string;
  size: number;
  linkpath?: string;
}

export interface PackageLimits {
  max_files: number;
  max_unpacked_mb: number;
  max_artifact_mb: number;
}

const MB = 1024 * 1024;

export function normalizeEntryPath(p: string): string {
  return p.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Paths, links, special files and sizes: anything that could escape or exhaust the build host. */
export function checkEntries(entries: readonly PackageEntry[], limits: PackageLimits): Finding[] {
  const findings: Finding[] = [];
  const kept: PackageEntry[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const p = normalizeEntryPath(e.path);
    // tar keeps the last of two entries with one path, validation would read the first.
    if (seen.has(p) && e.type !== 'Directory') {
      findings.push({
        code: 'duplicate-entry',
        field: p,
        message: `${p} appears twice in the package`,
        fix: 'pack the directory with `paved release`, which writes each file once',
      });
      continue;
    }
    seen.add(p);
    if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) {
      findings.push({
        code: 'path-absolute',
        field: p,
        message: `${p} has an absolute path`,
        fix: 'pack files with paths relative to the package root',
      });
      continue;
    }
    if (p.split(/[\\/]/).includes('..')) {
      findings.push({
        code: 'path-traversal',
        field: p,
        message: `${p} points outside the package`,
        fix: 'remove ".." from the path; keep every file inside the package',
      });
      continue;
    }
    if (e.type === 'SymbolicLink' || e.type === 'Link') {
      findings.push({
        code: 'link',
        field: p,
        message: `${p} is a ${e.type === 'Link' ? 'hard' : 'symbolic'} link${e.linkpath ? ` to ${e.linkpath}` : ''}`,
        fix: 'replace the link with the file itself',
      });
      continue;
    }
    // Only plain files and directories: other regular-file types (OldFile,
    // ContiguousFile) extract like files but would dodge the artifact checks.
    if (e.type !== 'File' && e.type !== 'Directory') {
      findings.push({
        code: 'special-file',
        field: p,
        message: `${p} is a ${e.type}, not a regular file`,
        fix: 'remove it from the package',
      });
      continue;
    }
    if (e.type !== 'Directory') kept.push(e);
  }
  findings.push(...checkSizes(kept, limits));
  return findings;
}

/**
 * The file count and unpacked size alone: what the client checks from the directory
 * listing before it reads a byte of any file.
 */
export function checkSizes(entries: readonly PackageEntry[], limits: PackageLimits): Finding[] {
  const findings: Finding[] = [];
  let total = 0;
  let files = 0;
  for (const e of entries) {
    if (e.type === 'Directory') continue;
    files += 1;
    total += e.size;
  }
  if (files > limits.max_files) {
    findings.push({
      code: 'too-many-files',
      field: '(package)',
      message: `the package holds ${files} files, over the limit of ${limits.max_files}`,
      fix: 'ship only paved.yaml, the artifact, model.py and what they need',
    });
  }
  if (total > limits.max_unpacked_mb * MB) {
    findings.push({
      code: 'package-too-large',
      field: '(package)',
      message: `the package unpacks to ${(total / MB).toFixed(1)} MB, over the limit of ${limits.max_unpacked_mb} MB`,
      fix: 'remove data files from the package; models read features from the feature store',
    });
  }
  return findings;
}

export type ArtifactFormat = 'skops' | 'onnx' | 'pickle' | 'xgboost-json' | 'xgboost-ubj' | 'lightgbm-text';

const FORMATS: Record<string, ArtifactFormat> = {
  '.skops': 'skops',
  '.onnx': 'onnx',
  '.pkl': 'pickle',
  '.pickle': 'pickle',
  '.joblib': 'pickle',
  '.json': 'xgboost-json',
  '.ubj': 'xgboost-ubj',
  '.txt': 'lightgbm-text',
};

function suffixOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot).toLowerCase();
}

export function artifactFormat(name: string): ArtifactFormat | undefined {
  return FORMATS[suffixOf(name)];
}

/** What a template's image loads, by file suffix (template.yaml `artifacts`). */
export interface TemplateArtifacts {
  on_path: readonly string[];
  /** Served only after a human review (pickles). */
  off_path: readonly string[];
}

export interface ArtifactCheck {
  format?: ArtifactFormat;
  refusals: Finding[];
  reviewReasons: Finding[];
}

function servedList(t: TemplateArtifacts): string {
  const off = t.off_path.length > 0 ? `; ${t.off_path.join(', ')} after a review` : '';
  return `${t.on_path.join(', ')}${off}`;
}

/**
 * The suffix against what the manifest's template serves; `templates` holds every
 * template's list, so a refusal can name the template that does serve it.
 */
function checkServed(
  artifact: string,
  template: string,
  templates: Readonly<Record<string, TemplateArtifacts>>,
): { refusal?: Finding; offPath: boolean } {
  const suffix = suffixOf(artifact);
  const served = templates[template];
  if (!served) return { offPath: false }; // an unknown template is refused by the policy check
  if (served.on_path.includes(suffix)) return { offPath: false };
  if (served.off_path.includes(suffix)) return { offPath: true };
  const other = Object.entries(templates).find(
    ([, t]) => t.on_path.includes(suffix) || t.off_path.includes(suffix),
  )?.[0];
  return {
    offPath: false,
    refusal: {
      code: 'artifact-format',
      field: 'artifact',
      message: `${artifact} is not a format template ${template} serves (it serves ${servedList(served)})`,
      fix: other
        ? `use template: ${other}, which serves ${suffix} files, or save the model as ${served.on_path.join(' or ')}`
        : `save the model as ${served.on_path.join(' or ')}`,
    },
  };
}

/** The artifact named in paved.yaml: present, a regular file, within size, in a format its template serves. */
export function checkArtifact(
  artifact: string,
  template: string,
  entries: readonly PackageEntry[],
  limits: PackageLimits,
  templates: Readonly<Record<string, TemplateArtifacts>>,
): ArtifactCheck {
  const entry = entries.find((e) => normalizeEntryPath(e.path) === artifact);
  const refusals: Finding[] = [];
  const reviewReasons: Finding[] = [];
  if (!entry) {
    refusals.push({
      code: 'artifact-missing',
      field: 'artifact',
      message: `${artifact} is not in the package`,
      fix: 'add the model file, or correct artifact in paved.yaml',
    });
    return { refusals, reviewReasons };
  }
  if (entry.type !== 'File') return { refusals, reviewReasons }; // checkEntries reports links and special files
  if (entry.size > limits.max_artifact_mb * MB) {
    refusals.push({
      code: 'artifact-too-large',
      field: 'artifact',
      message: `${artifact} is ${(entry.size / MB).toFixed(1)} MB, over the limit of ${limits.max_artifact_mb} MB`,
      fix: 'shrink the model (fewer trees, quantize, ONNX) or ask the platform team for a higher limit',
    });
  }
  const format = artifactFormat(artifact);
  const served = checkServed(artifact, template, templates);
  if (!format) {
    const t = templates[template];
    refusals.push({
      code: 'artifact-format',
      field: 'artifact',
      message: `${artifact} is not a format the template serves`,
      fix: t
        ? `save the model as ${t.on_path.join(' or ')}`
        : 'save it with skops (model.skops) or as ONNX (model.onnx)',
    });
    return { refusals, reviewReasons };
  }
  if (served.refusal) {
    refusals.push(served.refusal);
    return { refusals, reviewReasons };
  }
  if (served.offPath || format === 'pickle') {
    reviewReasons.push({
      code: 'pickle-artifact',
      field: 'artifact',
      message: 'pickle artifact is off the golden path',
      fix: 'save the model with skops.io.dump (model.skops) to stay on the golden path',
    });
  }
  return { format, refusals, reviewReasons };
}

export const HOOKS = ['preprocess', 'postprocess'] as const;

/**
 * Reads model.py's hook signatures without running it: every top-level
 * `def preprocess(...)`/`def postprocess(...)` must take exactly one argument.
 */
export function checkHooks(source: string): Finding[] {
  const findings: Finding[] = [];
  const re = /^(async\s+)?def\s+(preprocess|postprocess)\s*\(/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const name = m[2]!;
    if (m[1]) {
      findings.push({
        code: 'hook-async',
        field: `model.py:${name}`,
        message: `${name} is async`,
        fix: `define it as a plain def ${name}(…)`,
      });
      continue;
    }
    let depth = 1;
    let i = re.lastIndex;
    for (; i < source.length && depth > 0; i++) {
      if (source[i] === '(' || source[i] === '[' || source[i] === '{') depth++;
      else if (source[i] === ')' || source[i] === ']' || source[i] === '}') depth--;
    }
    const params = splitTopLevel(source.slice(re.lastIndex, i - 1))
      .map((p) => p.trim())
      .filter((p) => p && p !== '/' && p !== '*');
    const required = params.filter((p) => !p.includes('=') && !p.startsWith('*'));
    if (params.length === 0 || required.length > 1) {
      const want = name === 'preprocess' ? 'preprocess(inputs)' : 'postprocess(outputs)';
      findings.push({
        code: 'hook-signature',
        field: `model.py:${name}`,
        message: `${name} takes ${params.length === 0 ? 'no argument' : `(${params.join(', ')})`}, the template calls ${want}`,
        fix: `define it as def ${want}: see templates/python-sklearn/README.md`,
      });
    }
  }
  return findings;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
