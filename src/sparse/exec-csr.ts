/**
 * CSR execution of a masked Linear (the format of any mask):
 * - forward        y  = denseCsrT(X, W)      (CSR of W)
 * - input grad     dX = denseCsrT(G, Wᵀ)     (CSR of Wᵀ, kept beside W's)
 * - weight grad    sddmm(Gᵀ, X) at W's pattern, scattered to dense by csrToDense.
 * The pair's structure follows the mask through host patterns updated incrementally (src/sparse/csr-pattern.ts:
 * only changed rows are rebuilt), and its values are gathered from W at the patterns' positions (nnz reads, no
 * scan or transpose of the dense weight).
 */
import type { CsrStorage, Storage } from '../backend/kernels.ts';
import { CsrPattern, maskChanges } from './csr-pattern.ts';
import { freeAll, gatherValues, uploadI32, type FormatContext, type FormatExec } from './exec-format.ts';

/**
 * Whether merging `changes` flipped entries into the patterns beats rebuilding them from the mask (bench
 * csr-update, quiet machine: the merge is 2.4–3.7× faster when 1% of the active weights move — 2% of nnz
 * flipped — but 0.86–1.4× at 10%, and slower on layers under ~16 K weights, where the rebuild's two passes
 * take microseconds).
 */
export function incrementalPays(changes: number, nnz: number, size: number): boolean {
  return size >= 16384 && changes <= 0.1 * nnz;
}

/** One CSR matrix on the device: the pattern, the gather positions into W, the gathered values. */
interface DeviceCsr {
  rowPtr: Storage;
  colIdx: Storage;
  positions: Storage;
  values: Storage | null;
}

export class CsrExec implements FormatExec {
  readonly format = 'csr' as const;
  private pattern: CsrPattern | null = null;
  private patternT: CsrPattern | null = null;
  private builtMask: Uint8Array | null = null;
  private w: DeviceCsr | null = null;
  private wT: DeviceCsr | null = null;
  /** Rows rebuilt by the last incremental pattern update (W's and Wᵀ's), for the bench and tests. */
  lastRebuiltRows: [number, number] | null = null;

  constructor(
    readonly ctx: FormatContext,
    /** 'auto' merges changes when `incrementalPays`, else rebuilds; the others force one (same patterns). */
    public patternUpdate: 'auto' | 'incremental' | 'rebuild' = 'auto',
  ) {}

  get nnz(): number {
    return this.pattern?.nnz ?? 0;
  }

  setMask(mask: Uint8Array): void {
    const { n, k } = this.ctx;
    const how = this.patternUpdate;
    const changes = how !== 'rebuild' && this.pattern && this.patternT && this.builtMask ? maskChanges(this.builtMask, mask) : null;
    if (changes && (how === 'incremental' || incrementalPays(changes.length, this.pattern!.nnz, n * k))) {
      this.lastRebuiltRows = [this.pattern!.applyChanges(changes, mask), this.patternT!.applyChanges(changes, mask)];
    } else {
      this.pattern = CsrPattern.fromMask(mask, n, k);
      this.patternT = CsrPattern.fromMask(mask, n, k, true);
      this.lastRebuiltRows = null;
    }
    this.builtMask = mask.slice();
    this.freeDevice();
    this.w = this.upload(this.pattern!);
    this.wT = this.upload(this.patternT!);
  }

  private upload(p: CsrPattern): DeviceCsr {
    const be = this.ctx.backend;
    return { rowPtr: uploadI32(be, p.rowPtr), colIdx: uploadI32(be, p.colIdx), positions: uploadI32(be, p.positions()), values: null };
  }

  setValues(weight: Storage): void {
    const be = this.ctx.backend;
    const size = this.ctx.n * this.ctx.k;
    for (const d of [this.w!, this.wT!]) {
      freeAll(be, [d.values]);
      d.values = gatherValues(be, weight, size, d.positions, this.nnz, null);
    }
  }

  private storage(d: DeviceCsr, rows: number, cols: number): CsrStorage {
    return { rows, cols, nnz: this.nnz, rowPtr: d.rowPtr, colIdx: d.colIdx, values: d.values! };
  }

  forward(x: Storage, m: number, bias?: Storage): Storage {
    return this.ctx.backend.kernels.denseCsrT(x, m, this.storage(this.w!, this.ctx.n, this.ctx.k), bias);
  }

  inputGrad(g: Storage, m: number): Storage {
    return this.ctx.backend.kernels.denseCsrT(g, m, this.storage(this.wT!, this.ctx.k, this.ctx.n));
  }

  weightGradAtPattern(g: Storage, x: Storage, m: number): Storage {
    const { n, k, backend: be } = this.ctx;
    const s = this.storage(this.w!, n, k);
    const vals = be.kernels.sddmm(g, [m, n], true, x, [m, k], false, s);
    const dense = be.kernels.csrToDense({ ...s, values: vals });
    be.free(vals);
    return dense;
  }

  bytes(): number {
    const { n, k } = this.ctx;
    return 4 * ((n + 1) + (k + 1) + 6 * this.nnz);
  }

  private freeDevice(): void {
    for (const d of [this.w, this.wT]) if (d) freeAll(this.ctx.backend, [d.rowPtr, d.colIdx, d.positions, d.values]);
    this.w = this.wT = null;
  }

  dispose(): void {
    this.freeDevice();
    this.pattern = this.patternT = null;
    this.builtMask = null;
  }
}
