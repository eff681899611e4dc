/**
 * Constant fan-in (condensed) execution of a masked Linear: for a mask whose live rows all keep the same
 * number k of inputs (the `fan_in` structure — checked on the mask itself by `fanInPattern`, never taken from
 * a flag) and whose other rows are all zero (ablated neurons, skipped at no cost).
 * - forward        y  = denseFanInT(X, W)    (the condensed W: live rows, k u16 columns and k values each)
 * - input grad     dX = fanInDense(G, W)    (G·W on the condensed W: a scatter over each live row's k entries)
 * - weight grad    `weightGradAtPattern`: fanInSddmm(G, X) at the k stored positions of each live row, in
 *                  w.values' order, then fanInToDense. Both are bit-identical to the dense-masked products on
 *                  js and wasm (the kernels' contract), so choosing this format never changes a result.
 * The condensed values are in CSR order (live rows in turn, increasing column), so the CSR sddmm's values are
 * exactly the fan-in values' order too.
 */
import type { FanInStorage, Storage } from '../backend/kernels.ts';
import { freeAll, gatherValues, uploadI32, type FormatContext, type FormatExec } from './exec-format.ts';

/** Host condensed pattern of a constant fan-in mask. */
export interface FanInPattern {
  k: number;
  liveRows: Int32Array;
  /** u16 columns packed two per i32 word (FanInStorage.colIdx). */
  colIdx: Int32Array;
  /** Flat position in W of each stored value (values' order). */
  positions: Int32Array;
}

/**
 * The condensed pattern of W [n, cols]'s mask, or a sentence saying why the mask has none (a live row whose
 * count differs from the others', or more than 65536 columns for u16 indices).
 */
export function fanInPattern(mask: Uint8Array, n: number, cols: number): FanInPattern | string {
  if (mask.length !== n * cols) throw new Error(`fanInPattern: mask has ${mask.length} entries, the weight [${n}, ${cols}] has ${n * cols}`);
  if (cols > 65536) return `fan_in: ${cols} columns exceed the u16 column index`;
  let k = -1;
  const live: number[] = [];
  for (let r = 0; r < n; r++) {
    let c = 0;
    for (let j = 0; j < cols; j++) c += mask[r * cols + j]!;
    if (c === 0) continue;
    if (k < 0) k = c;
    else if (c !== k) return `fan_in: row ${r} keeps ${c} inputs, an earlier live row ${k}`;
    live.push(r);
  }
  k = Math.max(k, 0);
  const positions = new Int32Array(live.length * k);
  const packed = new Uint16Array(2 * Math.ceil((live.length * k) / 2));
  let q = 0;
  for (const r of live) {
    for (let j = 0; j < cols; j++) {
      if (!mask[r * cols + j]) continue;
      positions[q] = r * cols + j;
      packed[q++] = j;
    }
  }
  // Little-endian u16 pairs in an i32 word, as FanInStorage specifies (wasm and WGSL read them that way).
  const colIdx = new Int32Array(packed.buffer, 0, packed.length / 2);
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!le) for (let w = 0; w < colIdx.length; w++) colIdx[w] = packed[2 * w]! | (packed[2 * w + 1]! << 16);
  return { k, liveRows: Int32Array.from(live), colIdx, positions };
}

export class FanInExec implements FormatExec {
  readonly format = 'fan_in' as const;
  private host: FanInPattern | null = null;
  private dev: { liveRows: Storage; colIdx: Storage; positions: Storage; values: Storage | null } | null = null;

  constructor(readonly ctx: FormatContext) {}

  setMask(mask: Uint8Array): void {
    const p = fanInPattern(mask, this.ctx.n, this.ctx.k);
    if (typeof p === 'string') throw new Error(`sparse execution: layer ${this.ctx.layer.name} [${this.ctx.n}, ${this.ctx.k}] cannot run as fan_in: ${p}`);
    this.freeDevice();
    this.host = p;
    const be = this.ctx.backend;
    this.dev = { liveRows: uploadI32(be, p.liveRows), colIdx: uploadI32(be, p.colIdx), positions: uploadI32(be, p.positions), values: null };
  }

  setValues(weight: Storage): void {
    const be = this.ctx.backend;
    freeAll(be, [this.dev!.values]);
    this.dev!.values = gatherValues(be, weight, this.ctx.n * this.ctx.k, this.dev!.positions, this.host!.positions.length, null);
  }

  private storage(): FanInStorage {
    const h = this.host!;
    const d = this.dev!;
    return { rows: this.ctx.n, cols: this.ctx.k, k: h.k, live: h.liveRows.length, liveRows: d.liveRows, colIdx: d.colIdx, values: d.values! };
  }

  forward(x: Storage, m: number, bias?: Storage): Storage {
    return this.ctx.backend.kernels.denseFanInT(x, m, this.storage(), bias);
  }

  inputGrad(g: Storage, m: number): Storage {
    return this.ctx.backend.kernels.fanInDense(g, m, this.storage());
  }

  weightGradAtPattern(g: Storage, x: Storage, m: number): Storage {
    const be = this.ctx.backend;
    const vals = be.kernels.fanInSddmm(g, x, m, this.storage());
    const dense = be.kernels.fanInToDense({ ...this.storage(), values: vals });
    be.free(vals);
    return dense;
  }

  bytes(): number {
    const h = this.host;
    if (!h) return 0;
    return 4 * h.liveRows.length + 4 * h.colIdx.length + 8 * h.positions.length;
  }
  private freeDevice(): void {
    const be = this.ctx.backend;
    if (this.dev) freeAll(be, [this.dev.liveRows, this.dev.colIdx, this.dev.positions, this.dev.values]);
    this.dev = null;
  }

  dispose(): void {
    this.freeDevice();
    this.host = null;
  }
}
