import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * Samples live requests per model into JSONL, the traffic format the shadow stage
 * replays. First line: {"paved_capture": 1, "model", "started", "rate"}; then one request
 * per line: {"t": ms since "started", "key": sticky key or null, "request": V2 body}.
 * Each model's file is capped at maxBytes: the full file becomes `<model>.1.jsonl`
 * (replacing the previous one) and a new file starts, so at most 2 × maxBytes stay.
 */
export class TrafficCapture {
  private readonly files = new Map<string, { stream: WriteStream; started: number; bytes: number }>();

  constructor(
    readonly dir: string,
    readonly rate: number,
    readonly maxBytes: number,
    private readonly random: () => number = Math.random,
  ) {}

  file(model: string): string {
    return path.join(this.dir, `${model}.jsonl`);
  }

  /** Records the body when the sample says so; a body that is not JSON is not traffic to replay. */
  offer(model: string, key: string | null, body: Buffer | undefined): void {
    if (this.rate <= 0 || !body || body.length === 0 || this.random() >= this.rate) return;
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    const out = this.open(model);
    const line = `${JSON.stringify({ t: Date.now() - out.started, key, request })}\n`;
    out.stream.write(line);
    out.bytes += Buffer.byteLength(line);
    if (out.bytes >= this.maxBytes) this.rotate(model);
  }

  private open(model: string) {
    let out = this.files.get(model);
    if (out) return out;
    mkdirSync(this.dir, { recursive: true });
    const file = this.file(model);
    let bytes = 0;
    try {
      bytes = statSync(file).size;
    } catch {
      /* new file */
    }
    if (bytes > 0) renameSync(file, path.join(this.dir, `${model}.1.jsonl`)); // a restart starts a fresh clock
    const started = Date.now();
    const header = `${JSON.stringify({ paved_capture: 1, model, started: new Date(started).toISOString(), rate: this.rate })}\n`;
    out = { stream: createWriteStream(file, { flags: 'w' }), started, bytes: Buffer.byteLength(header) };
    out.stream.write(header);
    this.files.set(model, out);
    return out;
  }

  private rotate(model: string): void {
    const out = this.files.get(model)!;
    this.files.delete(model);
    // Renamed while still open: the stream's last writes land in the renamed file.
    renameSync(this.file(model), path.join(this.dir, `${model}.1.jsonl`));
    out.stream.end();
  }

  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((o) => new Promise((r) => o.stream.end(r))));
    this.files.clear();
  }
}
