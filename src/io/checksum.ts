/**
 * Checksums for the safetensors files a training run writes (checkpoint.safetensors, best.safetensors,
 * model.safetensors), so that a damaged file is refused instead of silently giving a wrong forecast.
 *
 * What is hashed: CRC-32 (crc32.ts) over
 *   1. the canonical header: `{"tensors": [[name, dtype, shape, data_offsets], …], "metadata": [[key, value], …]}`
 *      with tensors and metadata keys sorted and the checksum entry itself left out, then
 *   2. every byte after the header (the whole data section).
 * The canonical form covers each tensor's name, dtype, shape and byte range (a flipped shape digit or offset is
 * caught, not only flipped weights) and every metadata string (the training state in a checkpoint), while
 * ignoring what carries no meaning: JSON key order and the header's padding spaces. So the checksum can be
 * computed from the written bytes and patched into the header in place (it is stored as fixed-width hex).
 *
 * Where it is stored: `__metadata__.sparsecast_checksum = "crc32:<8 lowercase hex digits>"`, beside
 * `producer: "sparsecast"`. Metadata values are strings, as the format requires, and safetensors readers
 * (PyTorch's, TSLib's) ignore keys they do not know, so model.safetensors stays loadable outside sparsecast.
 *
 * The generic reader `readSafetensors` does not look at checksums (a PyTorch file has none); `readRunFile`
 * wraps it for run files: a file that says it came from sparsecast must carry a checksum that matches.
 */
import { readSafetensors, writeSafetensors, type SafeArray, type SafetensorsFile } from './safetensors.ts';
import { crc32, crcHex } from './crc32.ts';

export const CHECKSUM_KEY = 'sparsecast_checksum';
const PREFIX = 'crc32:';
const PLACEHOLDER = `${PREFIX}00000000`;
const FIELD = new TextEncoder().encode(`"${CHECKSUM_KEY}":"${PREFIX}`);

interface Header {
  json: Record<string, unknown>;
  /** Byte offset of the data section (8 + header length). */
  dataStart: number;
}

/** The raw header; `readSafetensors` has validated it already where this is called on read. */
function header(bytes: Uint8Array): Header {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return { json, dataStart: 8 + n };
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The checksum of a safetensors file's content as `crc32:xxxxxxxx` (see the module comment for what it covers). */
export function computeChecksum(bytes: Uint8Array): string {
  const { json, dataStart } = header(bytes);
  const tensors: unknown[] = [];
  for (const name of Object.keys(json).filter((k) => k !== '__metadata__').sort(byCodeUnits)) {
    const e = json[name] as { dtype: unknown; shape: unknown; data_offsets: unknown };
    tensors.push([name, e.dtype, e.shape, e.data_offsets]);
  }
  const meta = (json.__metadata__ ?? {}) as Record<string, string>;
  const metadata = Object.keys(meta).filter((k) => k !== CHECKSUM_KEY).sort(byCodeUnits).map((k) => [k, meta[k]]);
  const canonical = new TextEncoder().encode(JSON.stringify({ tensors, metadata }));
  return PREFIX + crcHex(crc32([canonical, bytes.subarray(dataStart)]));
}

/**
 * Compute the checksum of a file that already holds a `sparsecast_checksum` entry and store it there, in place
 * (the writer's last step; tests use it to forge a file whose checksum is valid but whose values are not).
 */
export function sealRunFile(bytes: Uint8Array): Uint8Array {
  const { dataStart } = header(bytes);
  let at = -1;
  outer: for (let i = 8; i + FIELD.length + 8 < dataStart; i++) {
    for (let j = 0; j < FIELD.length; j++) if (bytes[i + j] !== FIELD[j]) continue outer;
    if (at >= 0) throw new Error(`sealRunFile: the header holds more than one ${CHECKSUM_KEY} field`);
    at = i + FIELD.length;
  }
  if (at < 0) throw new Error(`sealRunFile: the header has no ${CHECKSUM_KEY} field`);
  const hex = computeChecksum(bytes).slice(PREFIX.length);
  for (let i = 0; i < 8; i++) bytes[at + i] = hex.charCodeAt(i);
  return bytes;
}

/** A safetensors file marked as sparsecast's (`producer`) with its checksum. */
export function writeRunFile(tensors: Map<string, { shape: number[]; data: SafeArray }>, metadata: Record<string, string> = {}): Uint8Array {
  return sealRunFile(writeSafetensors(tensors, { ...metadata, producer: 'sparsecast', [CHECKSUM_KEY]: PLACEHOLDER }));
}

export interface RunFileOptions {
  /**
   * A safetensors file with no sparsecast metadata at all (exported by PyTorch, say): 'refuse' (checkpoints,
   * which only sparsecast writes), or 'accept' it unverified (model.safetensors, which may come from PyTorch);
   * `verified` in the result then says false so the caller can warn.
   */
  foreign?: 'refuse' | 'accept';
}

/** Whether a file says it was written by sparsecast: any of our metadata keys, or our producer name. */
function fromSparsecast(meta: Record<string, string>): boolean {
  return meta.producer === 'sparsecast' || Object.keys(meta).some((k) => k.startsWith('sparsecast'));
}

/**
 * Read a run file and verify its checksum; throws an Error naming the file and what is wrong. `verified` is
 * false only for a foreign file accepted with `foreign: 'accept'`.
 */
export function readRunFile(bytes: Uint8Array, file: string, opts: RunFileOptions = {}): SafetensorsFile & { verified: boolean } {
  const parsed = readSafetensors(bytes, file);
  const meta = parsed.metadata;
  const stored = meta[CHECKSUM_KEY];
  if (stored === undefined) {
    if (fromSparsecast(meta)) {
      throw new Error(`${file}: written without a checksum (by a sparsecast older than checksums, or its header was edited), so its integrity cannot be verified; refusing to use it — retrain the run`);
    }
    if (opts.foreign === 'accept') return { ...parsed, verified: false };
    throw new Error(`${file}: not a sparsecast run file (no sparsecast metadata, no checksum)`);
  }
  if (!/^crc32:[0-9a-f]{8}$/.test(stored)) throw new Error(`${file} is corrupt: its ${CHECKSUM_KEY} is ${JSON.stringify(stored)}, not crc32:<8 hex digits>`);
  const actual = computeChecksum(bytes);
  if (actual !== stored) {
    throw new Error(`${file} is corrupt: checksum mismatch (expected ${stored}, got ${actual}); the file was damaged or edited after it was written`);
  }
  return { ...parsed, verified: true };
}
