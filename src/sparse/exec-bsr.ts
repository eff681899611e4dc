/**
 * BSR (4×4 blocks) execution of a masked Linear. Any mask works — a block is stored when any of its 16
 * positions is kept, and the positions it does not keep are stored as exact zeros — but it pays when the mask
 * is made of whole blocks (the `block` structure with --block_size 4), where nothing but kept weights is stored
 * and each block column is one f32x4 multiply-add.
 * - forward        y  = denseBsrT(X, W)      (BSR of W)
 * - input grad     dX = denseBsrT(G, Wᵀ)     (BSR of Wᵀ: the transposed block pattern, each block transposed)
 * - weight grad    `weightGradAtPattern`: bsrSddmm(G, X) at W's stored blocks (f32[nblocks·16], w.values'
 *                  layout), ⊙ `keep` where a stored block holds positions the mask does not keep (they must get
 *                  0), then bsrToDense. Bit-identical to the CSR sddmm at the active positions (bsrSddmm's
 *                  contract), with each loaded X value used by the four rows of its block.
 * Both block patterns are built on the host from the mask (`BsrPattern`), with the flat position in W of every
 * stored value; values are then gathered from W (nblocks·16 reads, no scan or transpose of the dense weight).
 */
import type { BsrStorage, Storage } from '../backend/kernels.ts';
import { freeAll, gatherValues, uploadI32, type FormatContext, type FormatExec } from './exec-format.ts';

/** The block size of the BSR kernels (BsrStorage). */
export const BSR_BLOCK = 4;

/**
 * Host block pattern of W [n, k] (or of Wᵀ [k, n]) for 4×4 BSR: block rows, the block columns of each
 * (increasing, as denseToBsr builds them, which is the summation order the kernels' bit-equality rests on),
 * and for every stored value (block by block, column-major inside a block as BsrStorage orders them) its flat
 * position in W and whether the mask keeps it.
 */
export class BsrPattern {
  private constructor(
    readonly rows: number,
    readonly cols: number,
    readonly blockPtr: Int32Array,
    readonly blockCol: Int32Array,
    /** i32[nblocks·16]: flat index into W [n, k] of each stored value (0 where `keep` is 0). */
    readonly positions: Int32Array,
    /** f32[nblocks·16]: 1 where the mask keeps the value, 0 for masked-out or past-the-edge positions. */
    readonly keep: Float32Array,
  ) {}

  get nblocks(): number {
    return this.blockCol.length;
  }

  /** Whether every stored value is kept (the mask is made of whole 4×4 blocks inside the matrix). */
  get whole(): boolean {
    return this.keep.every((v) => v === 1);
  }

  /** The pattern of W [n, k] (transposed = false) or of Wᵀ [k, n], from W's row-major u8 mask. */
  static fromMask(mask: Uint8Array, n: number, k: number, transposed = false): BsrPattern {
    if (mask.length !== n * k) throw new Error(`BsrPattern.fromMask: mask has ${mask.length} entries, the weight [${n}, ${k}] has ${n * k}`);
    const B = BSR_BLOCK;
    const [rows, cols] = transposed ? [k, n] : [n, k];
    // Entry (r, c) of the stored matrix is W[r, c], or W[c, r] for Wᵀ.
    const at = transposed ? (r: number, c: number) => c * k + r : (r: number, c: number) => r * k + c;
    const nbr = Math.ceil(rows / B);
    const nbc = Math.ceil(cols / B);
    const on = new Uint8Array(nbr * nbc);
    for (let r = 0; r < rows; r++) {
      const rb = (r >> 2) * nbc;
      for (let c = 0; c < cols; c++) if (mask[at(r, c)]) on[rb + (c >> 2)] = 1;
    }
    const blockPtr = new Int32Array(nbr + 1);
    for (let bi = 0; bi < nbr; bi++) {
      let c = 0;
      for (let bj = 0; bj < nbc; bj++) c += on[bi * nbc + bj]!;
      blockPtr[bi + 1] = blockPtr[bi]! + c;
    }
    const nblocks = blockPtr[nbr]!;
    const blockCol = new Int32Array(nblocks);
    const positions = new Int32Array(nblocks * 16);
    const keep = new Float32Array(nblocks * 16);
    let b = 0;
    for (let bi = 0; bi < nbr; bi++) {
      for (let bj = 0; bj < nbc; bj++) {
        if (!on[bi * nbc + bj]) continue;
        blockCol[b] = bj;
        for (let c = 0; c < B; c++) {
          for (let r = 0; r < B; r++) {
            const R = bi * B + r;
            const C = bj * B + c;
            if (R >= rows || C >= cols) continue;
            const p = at(R, C);
            if (!mask[p]) continue;
            positions[16 * b + 4 * c + r] = p;
            keep[16 * b + 4 * c + r] = 1;
          }
        }
        b++;
      }
    }
    return new BsrPattern(rows, cols, blockPtr, blockCol, positions, keep);
  }
}

/** Stored 4×4 blocks of a [n, k] mask. */
export function bsrBlockCount(mask: Uint8Array, n: number, k: number): number {
  const nbc = Math.ceil(k / BSR_BLOCK);
  const on = new Uint8Array(Math.ceil(n / BSR_BLOCK) * nbc);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const rb = (i >> 2) * nbc;
    for (let j = 0; j < k; j++) {
      const b = rb + (j >> 2);
      if (mask[i * k + j] && !on[b]) {
        on[b] = 1;
        c++;
      }
    }
  }
  return c;
}

interface DeviceBsr {
  pattern: BsrPattern;
  blockPtr: Storage;
  blockCol: Storage;
  positions: Storage;
  /** Null when every stored value is kept (no multiply needed). */
  keep: Storage | null;
  values: Storage | null;
}

export class BsrExec implements FormatExec {
  readonly format = 'bsr' as const;
  private w: DeviceBsr | null = null;
  private wT: DeviceBsr | null = null;

  constructor(readonly ctx: FormatContext) {}

  get nblocks(): number {
    return this.w?.pattern.nblocks ?? 0;
  }

  setMask(mask: Uint8Array): void {
    this.freeDevice();
    this.w = this.upload(BsrPattern.fromMask(mask, this.ctx.n, this.ctx.k));
    this.wT = this.upload(BsrPattern.fromMask(mask, this.ctx.n, this.ctx.k, true));
  }

  private upload(p: BsrPattern): DeviceBsr {
    const be = this.ctx.backend;
    return {
      pattern: p, blockPtr: uploadI32(be, p.blockPtr), blockCol: uploadI32(be, p.blockCol), positions: uploadI32(be, p.positions),
      keep: p.whole ? null : be.upload(p.keep), values: null,
    };
  }

  setValues(weight: Storage): void {
    const be = this.ctx.backend;
    for (const d of [this.w!, this.wT!]) {
      freeAll(be, [d.values]);
      d.values = gatherValues(be, weight, this.ctx.n * this.ctx.k, d.positions, d.pattern.nblocks * 16, d.keep);
    }
  }

  private storage(d: DeviceBsr): BsrStorage {
    return { rows: d.pattern.rows, cols: d.pattern.cols, nblocks: d.pattern.nblocks, blockPtr: d.blockPtr, blockCol: d.blockCol, values: d.values! };
  }

  forward(x: Storage, m: number): Storage {
    return this.ctx.backend.kernels.denseBsrT(x, m, this.storage(this.w!));
  }

  inputGrad(g: Storage, m: number): Storage {
    return this.ctx.backend.kernels.denseBsrT(g, m, this.storage(this.wT!));
  }

  weightGradAtPattern(g: Storage, x: Storage, m: number): Storage {
    const be = this.ctx.backend;
    const w = this.w!;
    const st = this.storage(w);
    if (st.nblocks === 0) return be.kernels.bsrToDense(st);
    let vals = be.kernels.bsrSddmm(g, x, m, st);
    if (w.keep) {
      const kept = be.kernels.binary('mul', vals, [st.nblocks * 16], w.keep, [st.nblocks * 16]);
      be.free(vals);
      vals = kept;
    }
    const dense = be.kernels.bsrToDense({ ...st, values: vals });
    be.free(vals);
    return dense;
  }

  bytes(): number {
    let b = 0;
    for (const d of [this.w, this.wT]) if (d) b += 4 * (d.pattern.blockPtr.length + d.pattern.nblocks * (1 + 16 + 16 + (d.keep ? 16 : 0)));
    return b;
  }

  private freeDevice(): void {
    const be = this.ctx.backend;
    for (const d of [this.w, this.wT]) if (d) freeAll(be, [d.blockPtr, d.blockCol, d.positions, d.keep, d.values]);
    this.w = this.wT = null;
  }

  dispose(): void {
    this.freeDevice();
  }
}
