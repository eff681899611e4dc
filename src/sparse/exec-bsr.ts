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
 * Both block patterns are built on the host from the mask (`BsrPattern`, src/sparse/bsr-pattern.ts), with the flat position in W of every
 * stored value; values are then gathered from W (nblocks·16 reads, no scan or transpose of the dense weight).
 */
import type { BsrStorage, Storage } from '../backend/kernels.ts';
import { freeAll, gatherValues, uploadI32, type FormatContext, type FormatExec } from './exec-format.ts';
import { BsrPattern } from './bsr-pattern.ts';

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

  forward(x: Storage, m: number, bias?: Storage): Storage {
    return this.ctx.backend.kernels.denseBsrT(x, m, this.storage(this.w!), bias);
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
