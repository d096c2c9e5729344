import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, resolveConfig, type PavedConfig } from '../domain/config.js';
import { PROJECT_ROOT } from './project.js';

/**
 * Reads `paved.config.yaml` (from PAVED_CONFIG, the working directory, or the project
 * root, first found wins) and the environment, and validates them.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): PavedConfig {
  const candidates = env.PAVED_CONFIG
    ? [path.resolve(cwd, env.PAVED_CONFIG)]
    : [path.join(cwd, 'paved.config.yaml'), path.join(PROJECT_ROOT, 'paved.config.yaml')];
  const filePath = candidates.find((p) => existsSync(p));
  if (env.PAVED_CONFIG && !filePath) {
    throw new ConfigError([
      `PAVED_CONFIG=${JSON.stringify(env.PAVED_CONFIG)}: file not found. Fix: point it at an existing paved.config.yaml or unset it.`,
    ]);
  }
  let file: { path: string; data: unknown } | undefined;
  if (filePath) {
    try {
      file = { path: filePath, data: parseYaml(readFileSync(filePath, 'utf8')) ?? {} };
    } catch (err) {
      throw new ConfigError([
        `${filePath}: not valid YAML (${(err as Error).message.split('\n')[0]}). Fix: correct the syntax.`,
      ]);
    }
  }
  return resolveConfig({
    env,
    file,
    fileDir: filePath ? path.dirname(filePath) : undefined,
    cwd,
    defaultHome: path.join(PROJECT_ROOT, '.paved'),
    defaultCacheDir: path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'paved'),
    resolvePath: (base, p) => path.resolve(base, p),
  });
}
