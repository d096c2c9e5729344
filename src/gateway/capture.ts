import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/**
 * Writes the requests the data plane sampled into JSONL per model, the traffic format
 * the shadow stage replays. First line: {"paved_capture": 1, "model", "started", "rate"};
 * then one request per line: {"t": ms since "started", "key": sticky key or null,
 * "request": V2 body}. Each model's file is capped at maxBytes: the full file becomes
 * `<model>.1.jsonl` (replacing the previous one) and a new file starts, so at most
 * 2 × maxBytes stay. Writes are synchronous: only a sample arrives, and a reader then
 * sees every line that was recorded.
 */
export class TrafficCapture {
  private readonly open_ = new Map<string, { fd: number; started: number; bytes: number }>();

  constructor(
    readonly dir: string,
    readonly rate: number,
    readonly maxBytes: number,
  ) {}

  file(model: string): string {
    return path.join(this.dir, `${model}.jsonl`);
  }

  private previous(model: string): string {
    return path.join(this.dir, `${model}.1.jsonl`);
  }

  /** Records one sampled request; a body that is not JSON is not traffic to replay. */
  record(model: string, key: string | null, body: string, at: number): void {
    let request: unknown;
    try {
      request = JSON.parse(body);
    } catch {
      return;
    }
    const out = this.openFor(model, at);
    const line = `${JSON.stringify({ t: Math.max(0, at - out.started), key, request })}\n`;
    out.bytes += writeSync(out.fd, line);
    if (out.bytes >= this.maxBytes) this.rotate(model);
  }

  /** The model's capture files, older first, each whole with its header line. */
  files(model: string): string[] {
    return [this.previous(model), this.file(model)].filter(existsSync).map((f) => readFileSync(f, 'utf8'));
  }

  /** A new file's clock starts at its first request. */
  private openFor(model: string, at: number) {
    let out = this.open_.get(model);
    if (out) return out;
    mkdirSync(this.dir, { recursive: true });
    const file = this.file(model);
    // A file left by an earlier run has another clock: it becomes the previous one.
    if (existsSync(file) && statSync(file).size > 0) renameSync(file, this.previous(model));
    const header = `${JSON.stringify({ paved_capture: 1, model, started: new Date(at).toISOString(), rate: this.rate })}\n`;
    const fd = openSync(file, 'w');
    out = { fd, started: at, bytes: writeSync(fd, header) };
    this.open_.set(model, out);
    return out;
  }

  private rotate(model: string): void {
    const out = this.open_.get(model)!;
    this.open_.delete(model);
    closeSync(out.fd);
    renameSync(this.file(model), this.previous(model));
  }

  close(): void {
    for (const o of this.open_.values()) closeSync(o.fd);
    this.open_.clear();
  }
}
