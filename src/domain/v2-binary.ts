/**
 * The binary tensor data extension of the V2 protocol (Triton's `binary_tensor_data`),
 * as stock clients send it: a JSON header of `Inference-Header-Content-Length` bytes,
 * then each input's raw little-endian bytes in the order of the header's inputs, an
 * input's share given by its `parameters.binary_data_size`. BYTES elements are each a
 * 4-byte little-endian length and that many bytes.
 *
 * The data plane passes such bodies through untouched; the capture turns them into the
 * plain JSON request they stand for, which is what the shadow stage replays.
 */

type Element = number | boolean | string;
type Reader = { width: number; read: (view: DataView, at: number) => Element };

// V2 tensors are little-endian; 64-bit integers become JS numbers, as the JSON form has them.
const READERS: Readonly<Record<string, Reader>> = {
  BOOL: { width: 1, read: (v, at) => v.getUint8(at) !== 0 },
  INT8: { width: 1, read: (v, at) => v.getInt8(at) },
  UINT8: { width: 1, read: (v, at) => v.getUint8(at) },
  INT16: { width: 2, read: (v, at) => v.getInt16(at, true) },
  UINT16: { width: 2, read: (v, at) => v.getUint16(at, true) },
  INT32: { width: 4, read: (v, at) => v.getInt32(at, true) },
  UINT32: { width: 4, read: (v, at) => v.getUint32(at, true) },
  FP32: { width: 4, read: (v, at) => v.getFloat32(at, true) },
  INT64: { width: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  UINT64: { width: 8, read: (v, at) => Number(v.getBigUint64(at, true)) },
  FP64: { width: 8, read: (v, at) => v.getFloat64(at, true) },
};

function readElements(view: DataView, datatype: string, count: number): Element[] {
  const reader = READERS[datatype];
  if (reader === undefined) throw new Error(`datatype ${datatype} has no binary reading here`);
  const { width, read } = reader;
  if (view.byteLength !== width * count)
    throw new Error(`${count} ${datatype} elements are ${width * count} bytes, not ${view.byteLength}`);
  return Array.from({ length: count }, (_, i) => read(view, i * width));
}

function readStrings(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = 0; at < bytes.length;) {
    if (at + 4 > bytes.length) throw new Error('a BYTES element is cut short');
    const n = view.getUint32(at, true);
    at += 4;
    if (at + n > bytes.length) throw new Error('a BYTES element is cut short');
    out.push(new TextDecoder().decode(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

interface HeaderInput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
  parameters?: Record<string, unknown>;
}

/**
 * The plain JSON V2 request a binary one stands for: each binary input's bytes become
 * its `data`, and binary outputs are no longer asked for (a replay reads JSON answers).
 * Throws when the body does not hold what its header says.
 */
export function binaryRequestToJson(body: Uint8Array, headerLength: number): Record<string, unknown> {
  if (!Number.isInteger(headerLength) || headerLength <= 0 || headerLength > body.length)
    throw new Error(`the JSON header length ${headerLength} does not fit a ${body.length}-byte body`);
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength))) as Record<
    string,
    unknown
  >;
  if (!Array.isArray(header.inputs)) throw new Error('the JSON header has no inputs list');
  let at = headerLength;
  const inputs = (header.inputs as HeaderInput[]).map((input) => {
    const { binary_data_size: size, ...parameters } = input.parameters ?? {};
    if (size === undefined) return input;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || at + size > body.length)
      throw new Error(`input ${String(input.name)}: binary_data_size ${String(size)} runs past the body`);
    const bytes = body.subarray(at, at + size);
    at += size;
    const shape = Array.isArray(input.shape) ? (input.shape as number[]) : [];
    const count = shape.reduce((a, b) => a * b, 1);
    const data =
      input.datatype === 'BYTES'
        ? readStrings(bytes)
        : readElements(new DataView(bytes.buffer, bytes.byteOffset, size), String(input.datatype), count);
    const rest = Object.keys(parameters).length > 0 ? { parameters } : {};
    return { name: input.name, shape: input.shape, datatype: input.datatype, ...rest, data };
  });
  if (at !== body.length) throw new Error(`${body.length - at} bytes follow the last binary input`);
  const out: Record<string, unknown> = { ...header, inputs };
  const params = header.parameters as Record<string, unknown> | undefined;
  if (params && 'binary_data_output' in params) {
    const kept = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'binary_data_output'));
    if (Object.keys(kept).length > 0) out.parameters = kept;
    else delete out.parameters;
  }
  if (Array.isArray(header.outputs))
    out.outputs = (header.outputs as Array<{ name?: unknown }>).map((o) => ({ name: o.name }));
  return out;
}
