import { z } from 'zod';

/** templates/<name>/template.yaml: how the platform builds and runs a golden-path runtime. */
export const TemplateSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  version: z.string().min(1),
  python: z.string(),
  /**
   * Directories copied to the image's workdir, each under its own base name: the shared
   * runtime (../runtime/paved_runtime) and the template's loader.
   */
  source: z.array(z.string().min(1)).min(1),
  workdir: z.string().startsWith('/'),
  entrypoint: z.array(z.string()).min(1),
  user: z.string().regex(/^\d+:\d+$/),
  env: z.record(z.string(), z.string()).default({}),
  port: z.number().int(),
  health: z.object({ live: z.string(), ready: z.string() }),
  /** What the loader serves, by suffix; off_path ones only after a review. */
  artifacts: z.object({
    on_path: z.array(z.string().regex(/^\.[a-z0-9]+$/, 'must be a file suffix like .skops')).min(1),
    off_path: z.array(z.string().regex(/^\.[a-z0-9]+$/, 'must be a file suffix like .pkl')).default([]),
  }),
  /** What `paved init` starts a package from: a trained example package, and the pins its manifest names. */
  starter: z
    .object({ example: z.string().min(1), pins: z.array(z.string().min(1)).min(1) })
    .default({ example: 'examples/arrests', pins: ['scikit-learn', 'skops'] }),
  requirements: z.array(z.string().min(1)).min(1),
  optional_requirements: z.array(z.string()).default([]),
  /**
   * What `paved train` adds to the serving pins (reading the scientist's table),
   * never instead of them: training and serving share every library they both load.
   */
  training_requirements: z.array(z.string()).default([]),
  constraints: z.string().optional(),
  wheel_platforms: z.array(z.string()).min(1),
});

export type Template = z.infer<typeof TemplateSchema>;

/** The Dockerfile of a template's runtime image: interpreter venv from the wheelhouse, then the runtime code. */
export function runtimeDockerfile(t: Template, baseImage: string): string {
  const env = Object.entries(t.env).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`);
  return [
    // Two stages: the wheels install in the first, only the finished venv reaches the image.
    `FROM ${baseImage} AS deps`,
    '# Dependencies come from the wheelhouse in the build context; the build has no network.',
    'COPY wheels /tmp/wheels',
    'RUN python3 -m venv /opt/venv \\',
    '  && /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check --find-links /tmp/wheels -r /tmp/wheels/requirements.txt',
    `FROM ${baseImage}`,
    'COPY --from=deps /opt/venv /opt/venv',
    `COPY app ${t.workdir}`,
    `WORKDIR ${t.workdir}`,
    'ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin',
    ...env,
    `USER ${t.user}`,
    `EXPOSE ${t.port}`,
    `ENTRYPOINT ${JSON.stringify(t.entrypoint.map((a) => (a === 'python3' ? '/opt/venv/bin/python' : a)))}`,
    '',
  ].join('\n');
}

/** The model image: the runtime image plus the package, read-only, owned by root. */
export function modelDockerfile(runtimeImage: string, labels: Record<string, string>): string {
  return [
    `FROM ${runtimeImage}`,
    'COPY model /model',
    ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
    '',
  ].join('\n');
}
