/**
 * How a masked weight is stored in the model file (src/io/model-file.ts): the sparse encodings, their byte
 * costs, the rule that picks one, the encoder (export) and the decoder (load, also in the inference bundle).
 *
 * A weight of shape [R, …] is an R × C matrix (C = the product of the other dims; a conv weight [out, in, k] is
 * [out, in·k]), N = R·C entries of which n are active (its mask's ones). Every encoding is exact (f32 values as
 * they are: lossless) and stores the active values in row-major order — the order the CSR kernel reads them —
 * as tensors `<name>.<encoding>.<part>`:
 *
 *   encoding  parts (dtype [shape])                                       data bytes
 *   dense     `<name>` F32 [shape]                                        4N
 *   csr       values F32 [n], col idx [n], row_ptr idx [R+1]              4n + n·w(C−1) + (R+1)·w(n)
 *   bitmask   values F32 [n], bits U8 [⌈N/8⌉]                            4n + ⌈N/8⌉
 *   fan_in    values F32 [L, k], col idx [n], rows U8 [⌈R/8⌉]            4n + n·w(C−1) + ⌈R/8⌉      (n = L·k)
 *   block     values F32 [n], bits U8 [⌈⌈R/B⌉·⌈C/B⌉/8⌉]                 4n + ⌈⌈R/B⌉·⌈C/B⌉/8⌉
 *
 * w(x) is the width of the narrowest index type that holds x (U8 ≤ 255, U16 ≤ 65535, else I32: 1, 2, 4 bytes).
 * Bits are little-endian within a byte (bit i is byte ⌊i/8⌋, bit i mod 8); padding bits after the last one are 0.
 * - csr: the columns of each row, strictly increasing; row_ptr from 0, non-decreasing, ending at n.
 * - bitmask: bit r·C + c set ⇔ entry (r, c) is active.
 * - fan_in (applies when every row holds either 0 or the same k ≥ 1 active entries — the `fan_in` structure of
 *   src/sparse/structure.ts; L live rows): the L live rows are the set bits of `rows`, so ablated (dead) neurons
 *   take one bit each and no values or indices; `col` holds each live row's k columns, strictly increasing.
 * - block (applies when the mask is a union of whole B×B tiles, tiled from the top-left corner, the last tile
 *   row / column partial when B does not divide R / C — the `block` structure; B ≥ 2, stored in the config): bit
 *   i·⌈C/B⌉ + j set ⇔ tile (i, j) is active. Values stay in row-major order, not tile by tile (BSR's order): the
 *   reader decodes to CSR for the inference kernels, and the bytes are the same either way.
 * Where C ≤ 256 a column index is one byte, so CSR and fan_in cost 8 bits per active entry and the bitmask 1 bit
 * per entry: the bitmask wins above 1/8 density (at 50% sparsity it adds 1/32 of the dense bytes; CSR adds 1/8 +
 * the row pointers), fan_in wins at high sparsity and where many neurons are ablated, block costs 1/B² of the
 * bitmask.
 *
 * The rule (`chooseEncoding`): among the encodings that apply, the smallest data bytes plus an estimate of the
 * JSON header each adds (per tensor part `"<name>.<enc>.<part>":{"dtype":…,"shape":…,"data_offsets":…}`, about
 * name length + 64 bytes; per sparse weight its config entry, about name length + 48), which decides only for
 * tiny weights; ties go to the earlier of dense, block, fan_in, bitmask, csr. For block, B is the largest tile
 * size (64, 32, then 16 down to 2) the mask is made of. A weight whose density is below the CSR threshold is
 * never stored dense (even where a tiny weight's header would make dense smaller): the loader runs the sparse
 * weights below the threshold through the CSR kernel, as training's sparse execution and version-1 files do.
 *
 * The decoder turns every sparse encoding into CSR (row_ptr, col, values) — what the inference kernel runs and
 * what expands to dense — checking each part as it goes (dtype, rank, length, bit counts against value counts,
 * padding bits), after which the model file's CSR checks apply to all (columns in range and increasing, row_ptr
 * consistent). Every failure names the weight and what is wrong.
 */
import type { SafeArray, SafeTensor } from './safetensors.ts';

export type SparseEncoding = 'csr' | 'bitmask' | 'fan_in' | 'block';
export type WeightEncoding = 'dense' | SparseEncoding;

export const SPARSE_ENCODINGS: readonly SparseEncoding[] = ['csr', 'bitmask', 'fan_in', 'block'];

/** The tensor parts of each encoding, stored as `<name>.<encoding>.<part>`. */
export const ENCODING_PARTS: Readonly<Record<SparseEncoding, readonly string[]>> = {
  csr: ['values', 'col', 'row_ptr'],
  bitmask: ['values', 'bits'],
  fan_in: ['values', 'col', 'rows'],
  block: ['values', 'bits'],
};

/** The config entry of a weight stored sparse: its encoding, dense shape, and B for `block`. */
export interface SparseEntry {
  encoding: SparseEncoding;
  shape: number[];
  block?: number;
}

/** A weight decoded to CSR (any encoding), with the encoding it was stored in. */
export interface CsrWeight {
  encoding: SparseEncoding;
  shape: number[];
  rows: number;
  cols: number;
  nnz: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

// ---- encoding (export) ------------------------------------------------------------------------------------

/** Bytes of the narrowest index type that holds `maxValue`. */
export function indexWidth(maxValue: number): 1 | 2 | 4 {
  return maxValue <= 0xff ? 1 : maxValue <= 0xffff ? 2 : 4;
}

function indexArray(maxValue: number, n: number): Uint8Array | Uint16Array | Int32Array {
  const w = indexWidth(maxValue);
  return w === 1 ? new Uint8Array(n) : w === 2 ? new Uint16Array(n) : new Int32Array(n);
}

/** The tile sizes `block` tries, largest first: the first one the mask is made of gives the fewest bits. */
const BLOCK_SIZES = [64, 32, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2];

/** Whether `mask` (R × C) is a union of whole B×B tiles: every entry equals its tile's top-left entry. */
function isBlockMask(mask: Uint8Array, R: number, C: number, B: number): boolean {
  for (let r = 0; r < R; r++) {
    const top = (r - (r % B)) * C;
    for (let c = 0; c < C; c++) if (mask[r * C + c] !== mask[top + c - (c % B)]) return false;
  }
  return true;
}

/** k of a fan_in mask (every row 0 or k ≥ 1 active entries, at least one live row), else 0. */
function fanInK(mask: Uint8Array, R: number, C: number): number {
  let k = 0;
  for (let r = 0; r < R; r++) {
    let n = 0;
    for (let c = 0; c < C; c++) n += mask[r * C + c]!;
    if (n === 0) continue;
    if (k && n !== k) return 0;
    k = n;
  }
  return k;
}

export interface EncodingCost {
  encoding: WeightEncoding;
  /** Bytes in the data section (the table in the module comment). */
  dataBytes: number;
  /** dataBytes plus the header estimate: what the rule compares. */
  cost: number;
  /** B, for block. */
  block?: number;
}

/**
 * Every encoding that applies to a masked weight, with its cost, in tie-break order (dense, block, fan_in,
 * bitmask, csr). `nameLength` is the weight name's length (for the header estimate).
 */
export function encodingCosts(shape: readonly number[], mask: Uint8Array, nameLength: number): EncodingCost[] {
  const R = shape[0]!;
  const N = shape.reduce((a, b) => a * b, 1);
  const C = R > 0 ? N / R : 0;
  let n = 0;
  for (let i = 0; i < N; i++) n += mask[i]!;
  const header = (parts: number) => parts * (nameLength + 64) + (parts > 1 ? nameLength + 48 : 0);
  const out: EncodingCost[] = [];
  const add = (encoding: WeightEncoding, dataBytes: number, parts: number, block?: number) => {
    out.push({ encoding, dataBytes, cost: dataBytes + header(parts), ...(block ? { block } : {}) });
  };
  add('dense', 4 * N, 1);
  const B = BLOCK_SIZES.find((b) => isBlockMask(mask, R, C, b));
  if (B) add('block', 4 * n + Math.ceil((Math.ceil(R / B) * Math.ceil(C / B)) / 8), 2, B);
  if (fanInK(mask, R, C)) add('fan_in', 4 * n + n * indexWidth(C - 1) + Math.ceil(R / 8), 3);
  add('bitmask', 4 * n + Math.ceil(N / 8), 2);
  add('csr', 4 * n + n * indexWidth(C - 1) + (R + 1) * indexWidth(n), 3);
  return out;
}

/**
 * The rule: the cheapest encoding that applies (ties: the earlier in `encodingCosts`' order). `sparseOnly`
 * leaves dense out: a weight below the CSR threshold stays sparse whatever it costs, so the loader still runs
 * it through the CSR kernel (the file does not say a dense weight was masked).
 */
export function chooseEncoding(shape: readonly number[], mask: Uint8Array, nameLength: number, sparseOnly = false): EncodingCost {
  return encodingCosts(shape, mask, nameLength)
    .filter((e) => !sparseOnly || e.encoding !== 'dense')
    .reduce((best, e) => (e.cost < best.cost ? e : best));
}

/**
 * The tensors of a masked weight in `encoding` (parts in ENCODING_PARTS order, named `<name>.<encoding>.<part>`)
 * and its config entry. Throws when the encoding does not apply to the mask.
 */
export function encodeSparse(
  name: string, shape: readonly number[], data: Float32Array, mask: Uint8Array, encoding: SparseEncoding, block?: number,
): { entry: SparseEntry; tensors: Array<[string, { shape: number[]; data: SafeArray }]> } {
  const R = shape[0]!;
  const N = data.length;
  const C = R > 0 ? N / R : 0;
  let n = 0;
  for (let i = 0; i < N; i++) n += mask[i]!;
  const values = new Float32Array(n);
  const col = indexArray(Math.max(C - 1, 0), n);
  for (let i = 0, p = 0; i < N; i++) {
    if (!mask[i]) continue;
    values[p] = data[i]!;
    col[p++] = i % C;
  }
  const entry: SparseEntry = { encoding, shape: [...shape] };
  const part = (p: string, s: number[], d: SafeArray): [string, { shape: number[]; data: SafeArray }] => [`${name}.${encoding}.${p}`, { shape: s, data: d }];
  const bits = (count: number, on: (i: number) => boolean) => {
    const b = new Uint8Array(Math.ceil(count / 8));
    for (let i = 0; i < count; i++) if (on(i)) b[i >> 3] = b[i >> 3]! | (1 << (i & 7));
    return b;
  };
  if (encoding === 'csr') {
    const rowPtr = indexArray(n, R + 1);
    for (let r = 0, p = 0; r < R; r++) {
      for (let c = 0; c < C; c++) p += mask[r * C + c]!;
      rowPtr[r + 1] = p;
    }
    return { entry, tensors: [part('values', [n], values), part('col', [n], col), part('row_ptr', [R + 1], rowPtr)] };
  }
  if (encoding === 'bitmask') return { entry, tensors: [part('values', [n], values), part('bits', [Math.ceil(N / 8)], bits(N, (i) => mask[i] === 1))] };
  if (encoding === 'fan_in') {
    const k = fanInK(mask, R, C);
    if (!k) throw new Error(`encodeSparse: '${name}' is not a fan_in mask (its live rows do not all hold the same number of entries)`);
    const live = bits(R, (r) => mask.subarray(r * C, r * C + C).includes(1));
    return { entry, tensors: [part('values', [n / k, k], values), part('col', [n], col), part('rows', [live.length], live)] };
  }
  if (encoding === 'block') {
    const B = block ?? 0;
    if (!(Number.isInteger(B) && B >= 2 && isBlockMask(mask, R, C, B))) throw new Error(`encodeSparse: '${name}' is not a mask of whole ${B}×${B} blocks`);
    const nbc = Math.ceil(C / B);
    const tiles = Math.ceil(R / B) * nbc;
    entry.block = B;
    return { entry, tensors: [part('values', [n], values), part('bits', [Math.ceil(tiles / 8)], bits(tiles, (t) => mask[Math.floor(t / nbc) * B * C + (t % nbc) * B] === 1))] };
  }
  throw new Error(`encodeSparse: unknown encoding '${encoding as string}'`);
}

// ---- decoding (load) --------------------------------------------------------------------------------------

/**
 * Decode a sparse weight to CSR. `part(p)` returns the tensor `<name>.<encoding>.<p>` (present: the caller
 * checked); `fail` throws the file's error. Checked here: each part's dtype and rank, bitmap lengths and padding,
 * bit counts against value counts; the CSR invariants (row_ptr, columns) are the caller's, for every encoding.
 * (Compact on purpose: this runs in the inference bundle, which has a byte budget.)
 */
export function decodeSparse(name: string, e: SparseEntry, part: (p: string) => SafeTensor, fail: (what: string) => never): CsrWeight {
  const { encoding, shape, block: B = 1 } = e;
  const R = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const tensor = (p: string) => `tensor '${name}.${encoding}.${p}'`;
  /** Part p's data, its dtype one of `types` and its rank `rank`. */
  const get = (p: string, types: string, rank = 1): SafeArray => {
    const t = part(p);
    if (!types.includes(t.dtype) || t.shape.length !== rank) fail(`${tensor(p)} must be ${types} of rank ${rank}, got ${t.dtype} [${t.shape.join(', ')}]`);
    return t.data;
  };
  const index = (p: string) => Int32Array.from(get(p, 'U8/U16/I32') as Uint8Array);
  /** Bit i of the U8 bitmap part p of `count` bits (⌈count/8⌉ bytes, padding bits 0). */
  const bitmap = (p: string, count: number) => {
    const b = get(p, 'U8') as Uint8Array;
    if (b.length !== (count + 7) >> 3 || (count & 7 && b[b.length - 1]! >> (count & 7))) fail(`${tensor(p)} must hold ${count} bits in ${(count + 7) >> 3} bytes, padding bits 0`);
    return (i: number) => (b[i >> 3]! >> (i & 7)) & 1;
  };
  const values = get('values', 'F32', encoding === 'fan_in' ? 2 : 1) as Float32Array;
  const nnz = values.length;
  let rowPtr: Int32Array = new Int32Array(R + 1);
  let colIdx: Int32Array;
  let p = nnz; // the entries the bitmap makes active (fan_in, bitmask, block): must be the values' count
  if (encoding === 'csr') {
    colIdx = index('col');
    rowPtr = index('row_ptr');
  } else if (encoding === 'fan_in') {
    // values [L, k]: k entries in each live row, the live rows the set bits of `rows`. (k = 0 holds no entries,
    // whatever the bits: an empty weight, as the values say.)
    const k = part('values').shape[1]!;
    colIdx = index('col');
    const live = bitmap('rows', R);
    p = 0;
    for (let r = 0; r < R; r++) rowPtr[r + 1] = p += live(r) * k;
  } else {
    // bitmask: one bit per entry (B = 1); block: one bit per B×B tile, row-major over the tile grid.
    const nbc = Math.ceil(cols / B);
    const on = bitmap('bits', Math.ceil(R / B) * nbc);
    colIdx = new Int32Array(nnz);
    p = 0;
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < cols; c++) if (on(Math.floor(r / B) * nbc + Math.floor(c / B))) colIdx[p++] = c; // past nnz: a no-op, refused below
      rowPtr[r + 1] = p;
    }
  }
  if (p !== nnz) fail(`'${name}': the ${encoding} bitmap makes ${p} entries active; there are ${nnz} values`);
  return { encoding, shape: [...shape], rows: R, cols, nnz, rowPtr, colIdx, values };
}
