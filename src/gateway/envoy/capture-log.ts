import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { binaryRequestToJson } from '../../domain/v2-binary.js';
import type { CapturedRequest } from '../data-plane.js';

/**
 * Reads the access log Envoy writes for sampled requests, from where the last read
 * stopped. Past `maxBytes` the file is moved aside and Envoy told to open a new one, so
 * the log stays bounded; what landed in the old file after the last read is read too.
 */
export class CaptureLog {
  private offset = 0;
  private rest = '';

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly reopen: () => Promise<void>,
  ) {
    // Lines written before this control plane started were for an earlier one.
    this.offset = existsSync(file) ? statSync(file).size : 0;
  }

  async take(): Promise<CapturedRequest[]> {
    const out = this.readFrom(this.file);
    if (this.offset > this.maxBytes) {
      const old = `${this.file}.old`;
      renameSync(this.file, old);
      await this.reopen();
      out.push(...this.readFrom(old));
      this.offset = 0;
      this.rest = '';
    }
    return out;
  }

  private readFrom(file: string): CapturedRequest[] {
    if (!existsSync(file)) return [];
    const size = statSync(file).size;
    if (size < this.offset) this.offset = 0; // replaced under us: start at its beginning
    if (size === this.offset) return [];
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.rest + buf.toString('utf8');
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.flatMap((line) => parseLine(line));
  }
}

export function parseLine(line: string): CapturedRequest[] {
  try {
    const doc = JSON.parse(line) as {
      at?: string;
      model?: unknown;
      key?: unknown;
      body?: unknown;
      binary?: unknown;
    };
    if (typeof doc.model !== 'string' || typeof doc.body !== 'string') return [];
    const key = typeof doc.key === 'string' && doc.key !== '-' ? doc.key : null;
    // A binary tensor request (base64 in the log) is kept as the JSON request it stands for.
    const headerLength = typeof doc.binary === 'string' ? Number(doc.binary) : NaN;
    const body = Number.isNaN(headerLength)
      ? doc.body
      : JSON.stringify(binaryRequestToJson(Buffer.from(doc.body, 'base64'), headerLength));
    return [{ model: doc.model, key, body, at: Math.round(Number(doc.at) * 1000) || Date.now() }];
  } catch {
    return []; // a line cut by a crash, or a binary body that does not hold its header, is not traffic
  }
}
