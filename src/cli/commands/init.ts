import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../adapters/config-loader.js';
import { venvRoot } from '../../domain/config.js';
import { loadPolicy } from '../../adapters/policy-loader.js';
import { projectPath } from '../../adapters/project.js';
import { readTemplate, templateNames } from '../../adapters/template-catalog.js';
import { ensureTrainingEnv } from '../../adapters/training-env.js';
import { run } from '../../adapters/stack/exec.js';
import { PavedError } from '../../domain/errors.js';
import { DTYPES, MODEL_NAME } from '../../domain/manifest.js';
import type { Policy } from '../../domain/policy.js';
import { resolveIdentity } from '../identity.js';

export interface InitOptions {
  name: string;
  template: string;
  owner: string;
  team?: string;
}

export interface DataOptions {
  /** The scientist's table, CSV or parquet. */
  file: string;
  label: string;
  positive?: string;
  /** Columns that are not model inputs (ids, leaks); a sensitive one among them goes into the sample's attributes. */
  drop: string[];
  sensitive: string[];
}

/** What scripts/python/init_from_data.py reports about the table. */
const DataReport = z.object({
  inputs: z.array(z.object({ name: z.string(), dtype: z.enum(DTYPES) })),
  rows: z.number(),
  heldOut: z.number(),
  sampleLines: z.number(),
  incomplete: z.number(),
  label: z.object({ column: z.string(), positive: z.string(), negative: z.string() }),
  attributes: z.array(z.string()),
});
export type DataReport = z.infer<typeof DataReport>;

const SAMPLE = 'traffic-sample.jsonl';

interface Target {
  templateDir: string;
  team: string;
  policy: Policy;
  /** The template's starter: a trained example package and the serving pins a manifest names. */
  starter: { dir: string; artifact: string; inputs: unknown[]; pins: string[] };
}

function checkTarget(dir: string, opts: InitOptions): Target {
  if (!MODEL_NAME.test(opts.name)) {
    throw new PavedError(
      `--name "${opts.name}": use lowercase letters, digits and dashes, starting with a letter. Fix: e.g. --name churn-score`,
    );
  }
  if (!templateNames().includes(opts.template))
    throw new PavedError(
      `--template "${opts.template}" does not exist. Fix: use one of ${templateNames().join(', ')}`,
    );
  const { dir: templateDir, spec } = readTemplate(opts.template);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new PavedError(
      `${dir} is not empty; paved init never overwrites files. Fix: choose a new directory`,
    );
  }
  const policy = loadPolicy();
  const team = opts.team ?? Object.keys(policy.teams)[0]!;
  if (!Object.hasOwn(policy.teams, team))
    throw new PavedError(
      `--team "${team}" is not in the platform policy. Fix: use one of ${Object.keys(policy.teams).join(', ')}`,
    );
  const example = projectPath(spec.starter.example);
  const manifest = parse(readFileSync(path.join(example, 'paved.yaml'), 'utf8')) as {
    artifact: string;
    inputs: unknown[];
  };
  const pins = spec.requirements.filter((r) => spec.starter.pins.includes(r.split('==')[0]!));
  return {
    templateDir,
    team,
    policy,
    starter: { dir: example, artifact: manifest.artifact, inputs: manifest.inputs, pins },
  };
}

function writeManifest(dir: string, template: string, manifest: Record<string, unknown>): void {
  writeFileSync(
    path.join(dir, 'paved.yaml'),
    `# The model's side of a release; see templates/${template}/README.md.\n${stringify(manifest)}`,
  );
}

/**
 * A new package that passes validation and serves at once: the template's starter
 * hooks and training script, and its example's model (an arrests model) as a working
 * first artifact that the scientist replaces by running train.py on their data.
 */
export function scaffoldPackage(dir: string, opts: InitOptions): string[] {
  const { templateDir, team, policy, starter } = checkTarget(dir, opts);
  mkdirSync(dir, { recursive: true });
  writeManifest(dir, opts.template, {
    name: opts.name,
    owner: opts.owner,
    team,
    description: `Starter model from paved init: replace ${starter.artifact} by running train.py on your data.`,
    template: opts.template,
    artifact: starter.artifact,
    requirements: starter.pins,
    inputs: starter.inputs,
    budgets: { p99_ms: policy.budgets.p99_ms },
    rollout: policy.rollout,
  });
  copyFileSync(path.join(starter.dir, starter.artifact), path.join(dir, starter.artifact));
  copyFileSync(path.join(starter.dir, 'sample-request.json'), path.join(dir, 'sample-request.json'));
  for (const f of ['model.py', 'train.py'])
    copyFileSync(path.join(templateDir, 'starter', f), path.join(dir, f));
  return readdirSync(dir).sort();
}

/** Python string literal (JSON's escaping is valid Python for a str). */
const py = (s: string) => JSON.stringify(s);

function starterReadme(
  name: string,
  dir: string,
  data: DataOptions,
  report: DataReport,
  artifact: string,
): string {
  return [
    `# ${name}`,
    '',
    `Started by \`paved init --data ${path.basename(data.file)} --label ${data.label}\`: ${report.inputs.length} model inputs`,
    `(${report.inputs.map((i) => `${i.name}: ${i.dtype}`).join(', ')}), label \`${data.label}\``,
    `(positive: \`${report.label.positive}\`), ${report.sampleLines} held-out rows in \`${SAMPLE}\`.`,
    '',
    'From here to a model that serves, in this order:',
    '',
    '```sh',
    `npx paved train ${dir}              # train.py in the image's own Python and pins -> ${artifact}`,
    `npx paved validate ${dir}           # the validate stage, offline: exit 0 releasable, 2 refused`,
    `npx paved release ${dir} --wait     # build, bind, shadow, bias, rollout: exit 0 when it serves`,
    '```',
    '',
    'Change the model in `train.py`, the columns in `paved.yaml` (`inputs`, in order).',
    'The shadow stage replays the held-out rows and checks latency and cost; the bias',
    data.sensitive.length > 0
      ? `gate groups them by ${data.sensitive.join(', ')}.`
      : 'gate runs when `fairness: {sensitive: [...]}` names a column.',
    '',
  ].join('\n');
}

/**
 * A package started from the scientist's own table: inputs with the dtypes the
 * data has, a traffic sample of held-out rows with their labels, a train.py that
 * reads the same columns. The table is read in the template's training
 * environment, so dtypes are what train.py will see.
 */
export async function scaffoldFromData(
  dir: string,
  opts: InitOptions,
  data: DataOptions,
  shownAs = dir,
): Promise<string[]> {
  const { templateDir, team, policy, starter } = checkTarget(dir, opts);
  const trainTable = path.join(templateDir, 'starter', 'train_table.py');
  if (!existsSync(trainTable))
    throw new PavedError(
      `--template ${opts.template} has no train.py for your own table yet. Fix: start with \`paved init ${shownAs} --template ${opts.template}\` and edit its train.py`,
    );
  if (!existsSync(data.file))
    throw new PavedError(`--data ${data.file}: no such file. Fix: give the path of your CSV or parquet file`);
  const env = await ensureTrainingEnv(venvRoot(loadConfig()), opts.template);
  mkdirSync(dir, { recursive: true });
  let report: DataReport;
  try {
    const args = [
      projectPath('scripts', 'python', 'init_from_data.py'),
      path.resolve(data.file),
      '--label',
      data.label,
      '--sample',
      path.join(dir, SAMPLE),
      ...(data.positive !== undefined ? ['--positive', data.positive] : []),
      ...(data.drop.length ? ['--drop', ...data.drop] : []),
      ...(data.sensitive.length ? ['--sensitive', ...data.sensitive] : []),
    ];
    report = DataReport.parse(JSON.parse(await run(env.python, args, { timeoutMs: 600_000 })));
  } catch (err) {
    // Nothing half-written stays behind: the directory was empty or new.
    rmSync(dir, { recursive: true, force: true });
    const text = (err as Error).message;
    const said = /failed: (.*)$/s.exec(text)?.[1]?.trim();
    throw new PavedError(said ?? text);
  }
  writeManifest(dir, opts.template, {
    name: opts.name,
    owner: opts.owner,
    team,
    description: `Trained on ${path.basename(data.file)} to predict ${data.label} = ${report.label.positive}.`,
    template: opts.template,
    artifact: starter.artifact,
    requirements: starter.pins,
    inputs: report.inputs,
    budgets: { p99_ms: policy.budgets.p99_ms },
    ...(data.sensitive.length ? { fairness: { sensitive: data.sensitive } } : {}),
    shadow: { sample: SAMPLE },
    rollout: policy.rollout,
  });
  const train = readFileSync(trainTable, 'utf8')
    .replace('__DATA__', py(path.resolve(data.file)))
    .replace('__LABEL__', py(data.label))
    .replace('__POSITIVE__', py(report.label.positive));
  writeFileSync(path.join(dir, 'train.py'), train);
  copyFileSync(path.join(templateDir, 'starter', 'model.py'), path.join(dir, 'model.py'));
  writeFileSync(
    path.join(dir, 'README.md'),
    starterReadme(opts.name, shownAs, data, report, starter.artifact),
  );
  return readdirSync(dir).sort();
}

const list = (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)];

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('scaffold a model package on the golden path (from your own table with --data)')
    .argument('<dir>', 'new package directory')
    .requiredOption('--name <model>', 'model name (lowercase, digits, dashes)')
    .option('--template <template>', 'golden-path template', 'python-sklearn')
    .option('--team <team>', 'your team in policy/platform.yaml')
    .option('--owner <email>', 'owner (default: PAVED_USER, then git user.email)')
    .option('--data <file>', 'your table (CSV or parquet): inputs, sample and train.py come from it')
    .option('--label <column>', 'with --data: the outcome column')
    .option('--positive <value>', 'with --data: the label value that is the positive outcome')
    .option('--drop <columns>', 'with --data: columns that are not model inputs (comma-separated)', list, [])
    .option(
      '--sensitive <columns>',
      'with --data: columns the bias gate groups by (comma-separated)',
      list,
      [],
    )
    .action(
      async (
        dir: string,
        opts: InitOptions & {
          owner?: string;
          data?: string;
          label?: string;
          positive?: string;
          drop: string[];
          sensitive: string[];
        },
      ) => {
        const owner = resolveIdentity(opts.owner);
        if (!owner) throw new PavedError('who owns this model? Fix: pass --owner <email> or set PAVED_USER');
        const target = path.resolve(dir);
        if (!opts.data) {
          if (opts.label) throw new PavedError('--label needs --data. Fix: add --data <your CSV or parquet>');
          const files = scaffoldPackage(target, { ...opts, owner });
          process.stdout.write(
            `created ${dir}: ${files.join(', ')}\nnext: python train.py (your data), then npx paved validate ${dir} and npx paved release ${dir} --wait\n`,
          );
          return;
        }
        if (!opts.label)
          throw new PavedError('--data needs --label, the outcome column. Fix: add --label <column>');
        const files = await scaffoldFromData(
          target,
          { ...opts, owner },
          {
            file: opts.data,
            label: opts.label,
            ...(opts.positive !== undefined ? { positive: opts.positive } : {}),
            drop: opts.drop,
            sensitive: opts.sensitive,
          },
          dir,
        );
        process.stdout.write(
          `created ${dir}: ${files.join(', ')}\n` +
            `next: npx paved train ${dir}, then npx paved validate ${dir} and npx paved release ${dir} --wait\n`,
        );
      },
    );
}
