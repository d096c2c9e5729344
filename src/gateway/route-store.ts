import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { RouteTableSchema, type RouteTable } from '../domain/route.js';

/** Routes on disk, written whole and renamed into place, so a crash never leaves half a table. */
export class RouteStore {
  constructor(readonly file: string) {}

  load(): RouteTable {
    if (!existsSync(this.file)) return { models: {}, featureDoors: {} };
    const parsed = RouteTableSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    if (!parsed.success) throw new Error(`${this.file} is not a paved route table: ${parsed.error.message}`);
    return parsed.data;
  }

  save(table: RouteTable): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const partial = `${this.file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(table, null, 2));
    renameSync(partial, this.file);
  }
}
