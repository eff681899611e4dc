/**
 * safetensors (huggingface/safetensors format): 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the little-endian
 * data. Reading validates every entry — dtype, shape, byte range, overlap, full coverage — and refuses a
 * corrupt or truncated file with an error naming the entry and what is wrong.
 */

export type SafeDType = 'F32' | 'I32' | 'U8' | 'I16' | 'U16' | 'I8' | 'F64' | 'I64';

const BYTES: Record<SafeDType, number> = { F32: 4, I32: 4, U8: 1, I16: 2, U16: 2, I8: 1, F64: 8, I64: 8 };

export type SafeArray = Float32Array | Int32Array | Uint8Array | Int16Array | Uint16Array | Int8Array | Float64Array | BigInt64Array;

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: SafeArray;
}

/** Maximum header size accepted (the reference implementation uses 100 MB). */
const MAX_HEADER = 100_000_000;

function dtypeOf(a: SafeArray): SafeDType {
  if (a instanceof Float32Array) return 'F32';
  if (a instanceof Int32Array) return 'I32';
  if (a instanceof Uint8Array) return 'U8';
  if (a instanceof Int16Array) return 'I16';
  if (a instanceof Uint16Array) return 'U16';
  if (a instanceof Int8Array) return 'I8';
  if (a instanceof Float64Array) return 'F64';
  return 'I64';
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function writeSafetensors(tensors: Map<string, { shape: number[]; data: SafeArray }>, metadata: Record<string, string> = {}): Uint8Array {
  if (!littleEndian) throw new Error('safetensors: big-endian hosts are not supported');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('safetensors: a tensor may not be named __metadata__');
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export function readSafetensors(bytes: Uint8Array, file = '<safetensors>'): SafetensorsFile {
  const fail = (what: string): never => {
    throw new Error(`${file}: not a valid safetensors file: ${what}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map strings to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) fail(`entry '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
    const dtype = e.dtype as SafeDType;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`entry '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(`entry '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) fail(`entry '${name}' bytes [${begin}, ${end}) lie outside the ${dataLen}-byte data section`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count * BYTES[dtype] !== end - begin) {
      fail(`entry '${name}' is ${dtype} [${shape.join(', ')}] = ${count * BYTES[dtype]} bytes but its range holds ${end - begin}`);
    }
    ranges.push([begin, end, name]);
    // Copy so the result is aligned and independent of the file buffer.
    // new Uint8Array(view) copies (Node's Buffer#slice would alias the whole file buffer).
    const raw = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end));
    const buf = raw.buffer;
    const data: SafeArray =
      dtype === 'F32' ? new Float32Array(buf) : dtype === 'I32' ? new Int32Array(buf) : dtype === 'U8' ? raw
      : dtype === 'I16' ? new Int16Array(buf) : dtype === 'U16' ? new Uint16Array(buf) : dtype === 'I8' ? new Int8Array(buf)
      : dtype === 'F64' ? new Float64Array(buf) : new BigInt64Array(buf);
    tensors.set(name, { dtype, shape, data });
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of ranges) {
    if (begin < cursor) fail(`entry '${name}' overlaps the previous tensor's bytes`);
    if (begin > cursor) fail(`bytes [${cursor}, ${begin}) before '${name}' belong to no tensor`);
    cursor = end;
  }
  if (cursor !== dataLen) fail(`${dataLen - cursor} trailing bytes after the last tensor`);
  return { tensors, metadata };
}
