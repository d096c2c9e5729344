import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { loadPolicy } from '../../adapters/policy-loader.js';
import { projectPath } from '../../adapters/project.js';
import { PavedError } from '../../domain/errors.js';
import { MODEL_NAME } from '../../domain/manifest.js';
import { resolveIdentity } from '../identity.js';

/**
 * A new package that passes validation and serves at once: the template's starter
 * hooks and training script, and the arrests model as a working first artifact that
 * the scientist replaces by running train.py on their data.
 */
export function scaffoldPackage(
  dir: string,
  opts: { name: string; template: string; owner: string; team?: string },
): string[] {
  if (!MODEL_NAME.test(opts.name)) {
    throw new PavedError(
      `--name "${opts.name}": use lowercase letters, digits and dashes, starting with a letter. Fix: e.g. --name churn-score`,
    );
  }
  const templateDir = projectPath('templates', opts.template);
  if (!existsSync(path.join(templateDir, 'template.yaml'))) {
    const known = readdirSync(projectPath('templates')).join(', ');
    throw new PavedError(`--template "${opts.template}" does not exist. Fix: use one of ${known}`);
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new PavedError(
      `${dir} is not empty; paved init never overwrites files. Fix: choose a new directory`,
    );
  }
  const policy = loadPolicy();
  const team = opts.team ?? Object.keys(policy.teams)[0]!;
  if (!policy.teams[team])
    throw new PavedError(
      `--team "${team}" is not in the platform policy. Fix: use one of ${Object.keys(policy.teams).join(', ')}`,
    );
  const starter = projectPath('examples', 'arrests');
  const template = parse(readFileSync(path.join(templateDir, 'template.yaml'), 'utf8')) as {
    requirements: string[];
  };
  const starterManifest = parse(readFileSync(path.join(starter, 'paved.yaml'), 'utf8')) as {
    inputs: unknown[];
  };
  const pins = template.requirements.filter((r) => /^(scikit-learn|skops)==/.test(r));
  const manifest = {
    name: opts.name,
    owner: opts.owner,
    team,
    description: 'Starter model from paved init: replace model.skops by running train.py on your data.',
    template: opts.template,
    artifact: 'model.skops',
    requirements: pins,
    inputs: starterManifest.inputs,
    budgets: { p99_ms: policy.budgets.p99_ms },
    rollout: policy.rollout,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'paved.yaml'),
    `# The model's side of a release; see templates/${opts.template}/README.md.\n${stringify(manifest)}`,
  );
  copyFileSync(path.join(starter, 'model.skops'), path.join(dir, 'model.skops'));
  copyFileSync(path.join(starter, 'sample-request.json'), path.join(dir, 'sample-request.json'));
  for (const f of ['model.py', 'train.py'])
    copyFileSync(path.join(templateDir, 'starter', f), path.join(dir, f));
  return readdirSync(dir).sort();
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('scaffold a model package on the golden path')
    .argument('<dir>', 'new package directory')
    .requiredOption('--name <model>', 'model name (lowercase, digits, dashes)')
    .option('--template <template>', 'golden-path template', 'python-sklearn')
    .option('--team <team>', 'your team in policy/platform.yaml')
    .option('--owner <email>', 'owner (default: PAVED_USER, then git user.email)')
    .action((dir: string, opts: { name: string; template: string; team?: string; owner?: string }) => {
      const owner = resolveIdentity(opts.owner);
      if (!owner) throw new PavedError('who owns this model? Fix: pass --owner <email> or set PAVED_USER');
      const files = scaffoldPackage(path.resolve(dir), { ...opts, owner });
      process.stdout.write(
        `created ${dir}: ${files.join(', ')}\nnext: python train.py (your data), then npx paved validate ${dir} and npx paved release ${dir} --wait\n`,
      );
    });
}
