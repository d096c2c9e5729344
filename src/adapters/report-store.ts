import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PavedConfig } from '../domain/config.js';
import { MODEL_NAME } from '../domain/manifest.js';
import { VERSION_PATTERN } from '../domain/release.js';
import { renderHtml, renderMarkdown, type ReleaseReport } from '../report/release-report.js';

/**
 * Release reports under `PAVED_HOME/reports/<model>/<version>/`: report.json (the
 * data), report.md and report.html (rendered from it). Stages add to the same
 * report; each save re-renders both pages.
 */
export class ReportStore {
  constructor(readonly root: string) {}

  dir(model: string, version: string): string {
    // Names come from workflow input: keep them from walking out of the root.
    if (!MODEL_NAME.test(model) || !VERSION_PATTERN.test(version))
      throw new Error(`not a release name: ${model}/${version}`);
    return path.join(this.root, model, version);
  }

  load(model: string, version: string): ReleaseReport | null {
    const file = path.join(this.dir(model, version), 'report.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ReleaseReport) : null;
  }

  /** The shadow stage's predictions, one JSON line per predicted row, for the bias stage. */
  savePredictions(model: string, version: string, lines: readonly string[]): string {
    const dir = this.dir(model, version);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'predictions.jsonl');
    writeFileSync(`${file}.tmp`, lines.join('\n') + '\n');
    renameSync(`${file}.tmp`, file);
    return file;
  }

  loadPredictions(model: string, version: string): string | null {
    const file = path.join(this.dir(model, version), 'predictions.jsonl');
    return existsSync(file) ? readFileSync(file, 'utf8') : null;
  }

  /** Writes all three files, each by rename, so a reader never sees half a page. */
  save(report: ReleaseReport): { html: string; markdown: string } {
    const dir = this.dir(report.model, report.version);
    mkdirSync(dir, { recursive: true });
    const put = (name: string, text: string) => {
      const file = path.join(dir, name);
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      return file;
    };
    put('report.json', `${JSON.stringify(report, null, 2)}\n`);
    return {
      markdown: put('report.md', renderMarkdown(report)),
      html: put('report.html', renderHtml(report)),
    };
  }
}

export function reportStore(config: PavedConfig): ReportStore {
  return new ReportStore(path.join(storeRoot(config), 'reports'));
}

/**
 * Where a release's artifacts live (packages, reports, predictions, audit trails):
 * `store.dir`, else PAVED_HOME. Workers that share it (a shared path) can each run
 * any stage of any release: nothing passes between activities through one worker's disk.
 */
export function storeRoot(config: PavedConfig): string {
  return config.store.dir ?? config.home;
}
