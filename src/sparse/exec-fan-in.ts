/**
 * Constant fan-in (condensed) execution of a masked Linear: for a mask whose live rows all keep the same
 * number k of inputs (the `fan_in` structure — checked on the mask itself by `fanInPattern`, never taken from
 * a flag) and whose other rows are all zero (ablated neurons, skipped at no cost).
 * - forward        y  = denseFanInT(X, W)    (the condensed W: live rows, k u16 columns and k values each)
 * - input grad     `inputGrad`: today denseCsrT(G, Wᵀ) through the CSR of Wᵀ (Wᵀ has no constant fan-in);
 *                  the kernel `fanInDense(g, m, w)` (dX = G·W on the condensed W) replaces it.
 * - weight grad    `weightGradAtPattern`: today the CSR sddmm at W's positions (CSR of W built on first use);
 *                  `fanInSddmm(g, x, m, w)` (f32[live·k], w.values' order) then fanInToDense replaces it.
 * The condensed values are in CSR order (live rows in turn, increasing column), so the CSR sddmm's values are
 * exactly the fan-in values' order too.
 */
import type { FanInStorage, Storage } from '../backend/kernels.ts';
import { CsrPattern } from './csr-pattern.ts';
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
  private mask: Uint8Array | null = null;
  private dev: { liveRows: Storage; colIdx: Storage; positions: Storage; values: Storage | null } | null = null;
  /** CSR of Wᵀ (interim input gradient) and of W (interim weight gradient), each built on first use. */
  private csrT: { p: CsrPattern; rowPtr: Storage; colIdx: Storage; positions: Storage; values: Storage | null } | null = null;
  private csr: { rowPtr: Storage; colIdx: Storage; nnz: number } | null = null;
  private weight: Storage | null = null;

  constructor(readonly ctx: FormatContext) {}

  setMask(mask: Uint8Array): void {
    const p = fanInPattern(mask, this.ctx.n, this.ctx.k);
    if (typeof p === 'string') throw new Error(`sparse execution: layer ${this.ctx.layer.name} [${this.ctx.n}, ${this.ctx.k}] cannot run as fan_in: ${p}`);
    this.freeDevice();
    this.host = p;
    this.mask = mask.slice();
    const be = this.ctx.backend;
    this.dev = { liveRows: uploadI32(be, p.liveRows), colIdx: uploadI32(be, p.colIdx), positions: uploadI32(be, p.positions), values: null };
  }

  setValues(weight: Storage): void {
    const be = this.ctx.backend;
    freeAll(be, [this.dev!.values, this.csrT?.values]);
    this.dev!.values = gatherValues(be, weight, this.ctx.n * this.ctx.k, this.dev!.positions, this.host!.positions.length, null);
    if (this.csrT) this.csrT.values = null;
    this.weight = weight; // Wᵀ's values are gathered lazily, only if a backward runs
  }

  private storage(): FanInStorage {
    const h = this.host!;
    const d = this.dev!;
    return { rows: this.ctx.n, cols: this.ctx.k, k: h.k, live: h.liveRows.length, liveRows: d.liveRows, colIdx: d.colIdx, values: d.values! };
  }

  forward(x: Storage, m: number): Storage {
    return this.ctx.backend.kernels.denseFanInT(x, m, this.storage());
  }

  /** Interim: denseCsrT through the CSR of Wᵀ (the swap to `fanInDense(g, m, this.storage())` is one line). */
  inputGrad(g: Storage, m: number): Storage {
    const { n, k, backend: be } = this.ctx;
    if (!this.csrT) {
      const p = CsrPattern.fromMask(this.mask!, n, k, true);
      this.csrT = { p, rowPtr: uploadI32(be, p.rowPtr), colIdx: uploadI32(be, p.colIdx), positions: uploadI32(be, p.positions()), values: null };
    }
    const t = this.csrT;
    if (!t.values) t.values = gatherValues(be, this.weight!, n * k, t.positions, t.p.nnz, null);
    return be.kernels.denseCsrT(g, m, { rows: k, cols: n, nnz: t.p.nnz, rowPtr: t.rowPtr, colIdx: t.colIdx, values: t.values });
  }

  /** Interim: the CSR sddmm at W's positions (the swap: `fanInSddmm(g, x, m, this.storage())`, then fanInToDense). */
  weightGradAtPattern(g: Storage, x: Storage, m: number): Storage {
    const { n, k, backend: be } = this.ctx;
    if (!this.csr) {
      const p = CsrPattern.fromMask(this.mask!, n, k);
      this.csr = { rowPtr: uploadI32(be, p.rowPtr), colIdx: uploadI32(be, p.colIdx), nnz: p.nnz };
    }
    const s = { rows: n, cols: k, nnz: this.csr.nnz, rowPtr: this.csr.rowPtr, colIdx: this.csr.colIdx, values: this.dev!.values! }; // sddmm does not read the values; these have the nnz length the contract checks
    const vals = be.kernels.sddmm(g, [m, n], true, x, [m, k], false, s);
    const dense = be.kernels.fanInToDense({ ...this.storage(), values: vals });
    be.free(vals);
    return dense;
  }

  bytes(): number {
    const h = this.host;
    if (!h) return 0;
    const nnz = h.positions.length;
    return 4 * h.liveRows.length + 4 * h.colIdx.length + 8 * nnz + (this.csrT ? 4 * (this.ctx.k + 1) + 12 * nnz : 0) + (this.csr ? 4 * (this.ctx.n + 1) + 4 * nnz : 0);
  }

  private freeDevice(): void {
    const be = this.ctx.backend;
    if (this.dev) freeAll(be, [this.dev.liveRows, this.dev.colIdx, this.dev.positions, this.dev.values]);
    if (this.csrT) freeAll(be, [this.csrT.rowPtr, this.csrT.colIdx, this.csrT.positions, this.csrT.values]);
    if (this.csr) freeAll(be, [this.csr.rowPtr, this.csr.colIdx]);
    this.dev = this.csrT = this.csr = null;
  }

  dispose(): void {
    this.freeDevice();
    this.host = null;
    this.mask = null;
    this.weight = null;
  }
}
