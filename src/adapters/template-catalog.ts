import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PavedError } from '../domain/errors.js';
import type { TemplateArtifacts } from '../domain/package-checks.js';
import { formatFinding, findingsFromZod } from '../domain/schema-errors.js';
import { TemplateSchema, type Template } from '../domain/template.js';
import { projectPath } from './project.js';

/** templates/<name>/template.yaml, read and checked; a template folder is one that has it. */
export function readTemplate(name: string): { dir: string; file: string; spec: Template } {
  const dir = projectPath('templates', name);
  const file = path.join(dir, 'template.yaml');
  if (!existsSync(file))
    throw new PavedError(
      `template ${name} not found at ${dir}. Fix: use one of ${templateNames().join(', ')}`,
    );
  const parsed = TemplateSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new PavedError(
      findingsFromZod(parsed.error, {}, 'correct it against templates/python-sklearn/template.yaml')
        .map((f) => formatFinding(file, f))
        .join('\n'),
    );
  return { dir, file, spec: parsed.data };
}

/** Every golden-path template in the checkout (templates/runtime is shared code, not a template). */
export function templateNames(): string[] {
  const root = projectPath('templates');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, d.name, 'template.yaml')))
    .map((d) => d.name)
    .sort();
}

/** What each template serves, by suffix, for validate. */
export function templateArtifacts(): Record<string, TemplateArtifacts> {
  return Object.fromEntries(templateNames().map((n) => [n, readTemplate(n).spec.artifacts]));
}
