import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PavedError } from '../domain/errors.js';
import { TemplateSchema } from '../domain/template.js';
import { projectPath } from './project.js';
import { run } from './stack/exec.js';
import { ensureVenv } from './stack/python-env.js';

export interface TrainingEnv {
  python: string;
  dir: string;
  /** The template's interpreter, e.g. "3.11". */
  pythonVersion: string;
}

/**
 * The Python environment a template's image serves with, on this machine: the
 * same interpreter minor and the same pins (template.yaml `requirements`, resolved
 * against its constraints file), plus `training_requirements` to read data.
 * Training anywhere else is the dependency skew the platform exists to remove.
 * Created on first use under PAVED_HOME/train-venv/<template>, reinstalled when
 * the pins change.
 */
export async function ensureTrainingEnv(home: string, template: string): Promise<TrainingEnv> {
  const file = projectPath('templates', template, 'template.yaml');
  if (!existsSync(file))
    throw new PavedError(
      `template "${template}" does not exist. Fix: set template in paved.yaml to a golden-path template`,
    );
  const spec = TemplateSchema.parse(parseYaml(readFileSync(file, 'utf8')));
  const dir = path.join(home, 'train-venv', template);
  const python = path.join(dir, 'bin', 'python');
  mkdirSync(dir, { recursive: true });
  const requirements = path.join(dir, 'requirements.txt');
  writeFileSync(requirements, [...spec.requirements, ...spec.training_requirements].join('\n') + '\n');
  const installed = await ensureVenv(dir, requirements, {
    interpreter: `python${spec.python}`,
    ...(spec.constraints ? { constraints: projectPath(spec.constraints) } : {}),
  });
  if (installed) {
    // The interpreter must be the one the image runs: a venv made by another python3 is not.
    const minor = (
      await run(python, ['-c', 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'])
    ).trim();
    if (minor !== spec.python)
      throw new PavedError(
        `${dir} runs Python ${minor}, the image ${spec.python}. Fix: remove ${dir} and run again`,
      );
  }
  return { python, dir, pythonVersion: spec.python };
}
