import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { XdsKind } from './apply-plan.js';
import { XDS_FILES } from './bootstrap.js';
import type { EnvoyConfig } from './resources.js';

/**
 * Envoy's dynamic config as files in one watched directory, each a discovery response
 * whose version is the hash of its resources: replaced whole by rename, so Envoy never
 * reads half a file, and an unchanged file keeps its version.
 */
export class XdsFiles {
  constructor(readonly dir: string) {}

  private file(kind: XdsKind): string {
    return path.join(this.dir, XDS_FILES[kind]);
  }

  static resources(kind: XdsKind, config: EnvoyConfig): object[] {
    if (kind === 'routes') return [config.routes];
    const named = config[kind];
    return Object.keys(named)
      .sort()
      .map((k) => named[k]!);
  }

  static version(resources: object[]): string {
    return createHash('sha256').update(JSON.stringify(resources)).digest('hex').slice(0, 16);
  }

  /** Writes one kind; answers the version Envoy will report once it has applied it. */
  write(kind: XdsKind, config: EnvoyConfig): string {
    mkdirSync(this.dir, { recursive: true });
    const resources = XdsFiles.resources(kind, config);
    const version = XdsFiles.version(resources);
    // Not in the watched directory's name pattern until the rename: Envoy reacts to moves.
    const partial = path.join(this.dir, `.${XDS_FILES[kind]}.${process.pid}.partial`);
    writeFileSync(partial, JSON.stringify({ version_info: version, resources }));
    renameSync(partial, this.file(kind));
    return version;
  }

  /** What the files hold now: what Envoy serves, or will serve when it starts. */
  read(): EnvoyConfig {
    const read = (kind: XdsKind): object[] => {
      const file = this.file(kind);
      if (!existsSync(file)) return [];
      return (JSON.parse(readFileSync(file, 'utf8')) as { resources: object[] }).resources;
    };
    const byName = (list: object[]) =>
      Object.fromEntries(list.map((r) => [(r as { name: string }).name, r])) as Record<string, object>;
    return {
      clusters: byName(read('clusters')),
      listeners: byName(read('listeners')),
      routes: read('routes')[0] ?? {},
    };
  }

  exists(): boolean {
    return (['clusters', 'listeners', 'routes'] as const).every((k) => existsSync(this.file(k)));
  }
}
