import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../src/adapters/project.js';
import { binaryRequestToJson } from '../../src/domain/v2-binary.js';
import { PAVED_VERSION } from '../../src/domain/version.js';
import { parseLine } from '../../src/gateway/envoy/capture-log.js';

/** A request as tritonclient's HTTP client builds it with binary_data=True (its default). */
function binaryBody(): { body: Buffer; headerLength: number } {
  const fp32 = Buffer.alloc(4 * 4);
  [0.5, 1.25, -2, 30].forEach((v, i) => fp32.writeFloatLE(v, i * 4));
  const int64 = Buffer.alloc(2 * 8);
  int64.writeBigInt64LE(7n, 0);
  int64.writeBigInt64LE(-9000000000n, 8);
  const strings = Buffer.concat(
    ['yes', 'n\u00f6'].flatMap((s) => {
      const b = Buffer.from(s, 'utf8');
      const n = Buffer.alloc(4);
      n.writeUInt32LE(b.length);
      return [n, b];
    }),
  );
  const bools = Buffer.from([1, 0]);
  const header = Buffer.from(
    JSON.stringify({
      id: 'r-1',
      inputs: [
        { name: 'x', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: fp32.length } },
        { name: 'k', shape: [2], datatype: 'INT64', parameters: { binary_data_size: int64.length } },
        { name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: strings.length } },
        { name: 'b', shape: [2], datatype: 'BOOL', parameters: { binary_data_size: bools.length } },
        { name: 'j', shape: [1], datatype: 'FP64', data: [3.5] },
      ],
      outputs: [{ name: 'label', parameters: { binary_data: true } }],
      parameters: { binary_data_output: true },
    }),
  );
  return { body: Buffer.concat([header, fp32, int64, strings, bools]), headerLength: header.length };
}

describe('binary tensor data: the JSON request a binary one stands for', () => {
  it('reads each datatype little-endian, BYTES as length-prefixed strings, and asks for JSON outputs', () => {
    const { body, headerLength } = binaryBody();
    expect(binaryRequestToJson(body, headerLength)).toEqual({
      id: 'r-1',
      inputs: [
        { name: 'x', shape: [2, 2], datatype: 'FP32', data: [0.5, 1.25, -2, 30] },
        { name: 'k', shape: [2], datatype: 'INT64', data: [7, -9000000000] },
        { name: 's', shape: [2], datatype: 'BYTES', data: ['yes', 'n\u00f6'] },
        { name: 'b', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'j', shape: [1], datatype: 'FP64', data: [3.5] },
      ],
      outputs: [{ name: 'label' }],
    });
  });

  it('refuses a body that does not hold what its header says', () => {
    const { body, headerLength } = binaryBody();
    expect(() => binaryRequestToJson(body.subarray(0, body.length - 1), headerLength)).toThrow(
      /binary_data_size 2 runs past the body/,
    );
    expect(() => binaryRequestToJson(Buffer.concat([body, Buffer.from([0])]), headerLength)).toThrow(
      '1 bytes follow the last binary input',
    );
    expect(() => binaryRequestToJson(body, body.length + 1)).toThrow(/does not fit/);
  });

  it('the capture log keeps a binary request as its JSON twin, and drops one that is cut short', () => {
    const { body, headerLength } = binaryBody();
    const line = (b: Buffer) =>
      JSON.stringify({
        at: '1700000000.250',
        model: 'm',
        key: '-',
        body: b.toString('base64'),
        binary: String(headerLength),
      });
    const [captured] = parseLine(line(body));
    expect(captured).toMatchObject({ model: 'm', key: null, at: 1700000000250 });
    expect(JSON.parse(captured!.body)).toEqual(binaryRequestToJson(body, headerLength));
    expect(parseLine(line(body.subarray(0, 20)))).toEqual([]);
    // A JSON body is kept as sent; Envoy writes null for metadata a request did not set.
    expect(
      parseLine(JSON.stringify({ at: '1', model: 'm', key: 'k', body: '{"inputs":[]}', binary: null })),
    ).toEqual([{ model: 'm', key: 'k', body: '{"inputs":[]}', at: 1000 }]);
  });
});

describe('PAVED_VERSION', () => {
  it('is package.json version', () => {
    const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string };
    expect(PAVED_VERSION).toBe(pkg.version);
  });
});
