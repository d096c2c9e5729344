// Pickle scan speed, as a ratio to hashing the same bytes with sha256 in the same
// process (the store hashes every package anyway, so this is the cost that matters).
// Run: npx tsx bench/pickle-scan.ts
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { scanPickle } from '../src/domain/pickle-scan.js';
import { projectPath } from '../src/adapters/project.js';
import { DEFAULT_POLICY_PATH, loadPolicy } from '../src/adapters/policy-loader.js';

const allow = loadPolicy(DEFAULT_POLICY_PATH).allowed_types;

function time(fn: () => void, rounds: number): number {
  fn(); // warm-up, not measured
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return (performance.now() - t0) / rounds;
}

function smallOpcodes(count: number): Uint8Array {
  // PROTO 4, EMPTY_LIST, MARK, count × BININT1 1, APPENDS, STOP
  const body = new Uint8Array(count * 2).map((_, i) => (i % 2 === 0 ? 0x4b : 1));
  return Uint8Array.from([0x80, 4, 0x5d, 0x28, ...body, 0x65, 0x2e]);
}

const cases: Array<[string, Uint8Array, number]> = [
  [
    'examples/arrests-pickle/model.pkl',
    readFileSync(projectPath('examples', 'arrests-pickle', 'model.pkl')),
    200,
  ],
  ['1M small opcodes (2 MB)', smallOpcodes(1_000_000), 5],
];

console.log('case                                   bytes      scan ms   sha256 ms  scan/sha256');
for (const [name, data, rounds] of cases) {
  const scan = time(() => void scanPickle(data, allow), rounds);
  const hash = time(() => void createHash('sha256').update(data).digest(), rounds);
  console.log(
    `${name.padEnd(38)} ${String(data.length).padStart(9)} ${scan.toFixed(3).padStart(9)} ${hash.toFixed(3).padStart(10)} ${(scan / hash).toFixed(1).padStart(11)}`,
  );
}
