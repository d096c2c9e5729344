import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PavedError } from '../domain/errors.js';
import { TemplateSchema } from '../domain/template.js';
import { projectPath } from './project.js';
import { commandExists, run, runVisible } from './stack/exec.js';

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
  if (!(await commandExists(`python${spec.python}`)))
    throw new PavedError(
      `template ${template} serves with Python ${spec.python}, and python${spec.python} is not on this machine. ` +
        `Fix: apt-get install -y python${spec.python} python${spec.python}-venv`,
    );
  const dir = path.join(home, 'train-venv', template);
  const python = path.join(dir, 'bin', 'python');
  const requirements = [...spec.requirements, ...spec.training_requirements].join('\n') + '\n';
  const constraints = spec.constraints ? readFileSync(projectPath(spec.constraints), 'utf8') : '';
  const digest = createHash('sha256')
    .update(spec.python)
    .update(requirements)
    .update(constraints)
    .digest('hex');
  const stamp = path.join(dir, '.paved-requirements.sha256');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest)
    return { python, dir, pythonVersion: spec.python };
  process.stderr.write(
    `paved: preparing the ${template} training environment (Python ${spec.python} and the image's pins) in ${dir}\n`,
  );
  mkdirSync(dir, { recursive: true });
  if (!existsSync(python)) await runVisible(`python${spec.python}`, ['-m', 'venv', dir]);
  const reqFile = path.join(dir, 'requirements.txt');
  writeFileSync(reqFile, requirements);
  const args = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', reqFile];
  if (spec.constraints) args.push('-c', projectPath(spec.constraints));
  await runVisible(python, args);
  // The interpreter must be the one the image runs: a venv made by another python3 is not.
  const minor = (
    await run(python, ['-c', 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'])
  ).trim();
  if (minor !== spec.python)
    throw new PavedError(
      `${dir} runs Python ${minor}, the image ${spec.python}. Fix: remove ${dir} and run again`,
    );
  writeFileSync(stamp, digest);
  return { python, dir, pythonVersion: spec.python };
}
