/**
 * Compact dense execution of a masked Linear whose mask has dead rows (ablated neurons: the `fan_in`
 * structure's ablation, or any row left empty): the dense GEMM over the live rows' weights only.
 * - forward        y_c = X·W_cᵀ [m, live] with W_c = W's live rows [live, k]; y = y_c's columns scattered into
 *                  [m, n] (an index_select of y_c padded with one zero column: dead rows read that column)
 * - input grad     dX = G_c·W_c with G_c = G's live columns [m, live] (dead rows' weights are 0: no term lost)
 * - weight grad    `weightGradAtPattern`: G_cᵀ·X [live, k], its rows scattered into [n, k], times the mask.
 * W_c is refreshed by an index_select of W's rows after each weight change (live·k reads). Inside live rows the
 * mask may still be partial: the GEMM multiplies those exact zeros as the dense path does, so the live-row sums
 * are the dense sums term for term; it pays by the dead rows alone.
 */
import type { Storage } from '../backend/kernels.ts';
import { freeAll, uploadI32, type FormatContext, type FormatExec } from './exec-format.ts';

/** The live (non-empty) rows of W [n, k]'s mask. */
export function liveRowsOf(mask: Uint8Array, n: number, k: number): Int32Array {
  const live: number[] = [];
  for (let r = 0; r < n; r++) {
    const base = r * k;
    for (let j = 0; j < k; j++) {
      if (mask[base + j]) {
        live.push(r);
        break;
      }
    }
  }
  return Int32Array.from(live);
}

export class CompactExec implements FormatExec {
  readonly format = 'compact' as const;
  private live = 0;
  /** i32[live]: W's live rows; i32[n]: for each row of W its index in the compact rows, or `live` (the zero column). */
  private liveIdx: Storage | null = null;
  private scatterIdx: Storage | null = null;
  /** W's live rows [live, k]. */
  private wc: Storage | null = null;

  constructor(readonly ctx: FormatContext) {}

  get liveRows(): number {
    return this.live;
  }

  setMask(mask: Uint8Array): void {
    const { n, k, backend: be } = this.ctx;
    const live = liveRowsOf(mask, n, k);
    const scatter = new Int32Array(n).fill(live.length);
    live.forEach((r, j) => (scatter[r] = j));
    this.freeDevice();
    this.live = live.length;
    this.liveIdx = uploadI32(be, live);
    this.scatterIdx = uploadI32(be, scatter);
  }

  setValues(weight: Storage): void {
    const { n, k, backend: be } = this.ctx;
    freeAll(be, [this.wc]);
    this.wc = this.live ? be.kernels.indexSelect(weight, [n, k], 0, this.liveIdx!, this.live) : null;
  }

  /** [rows, live] → [rows, n] (live === n: the same storage, nothing scattered), along `axis` of a 2-D array. */
  private scatter(c: Storage, shape: [number, number], axis: 0 | 1): Storage {
    const { n, backend: be } = this.ctx;
    if (this.live === n) return c;
    const pads: Array<[number, number]> = axis === 1 ? [[0, 0], [0, 1]] : [[0, 1], [0, 0]];
    const padded = be.kernels.pad(c, shape, pads, 'zero');
    const out = be.kernels.indexSelect(padded, axis === 1 ? [shape[0], shape[1] + 1] : [shape[0] + 1, shape[1]], axis, this.scatterIdx!, n);
    be.free(padded);
    be.free(c);
    return out;
  }

  forward(x: Storage, m: number, bias?: Storage): Storage {
    const { n, k, backend: be } = this.ctx;
    const y = this.live
      ? this.scatter(be.kernels.matmul({ a: x, b: this.wc!, aShape: [m, k], bShape: [this.live, k], transA: false, transB: true }), [m, this.live], 1)
      : be.kernels.fill(m * n, 'f32', 0);
    if (!bias) return y;
    // After the scatter: an ablated row's output is its bias alone, as the dense Linear of the masked weight gives.
    const yb = be.kernels.binary('add', y, [m, n], bias, [n]);
    be.free(y);
    return yb;
  }

  /** G's live columns [m, live] (G itself when every row is live: the caller must not free it then). */
  private liveCols(g: Storage, m: number): Storage {
    const { n, backend: be } = this.ctx;
    return this.live === n ? g : be.kernels.indexSelect(g, [m, n], 1, this.liveIdx!, this.live);
  }

  inputGrad(g: Storage, m: number): Storage {
    const { k, backend: be } = this.ctx;
    if (!this.live) return be.kernels.fill(m * k, 'f32', 0);
    const gc = this.liveCols(g, m);
    const dx = be.kernels.matmul({ a: gc, b: this.wc!, aShape: [m, this.live], bShape: [this.live, k], transA: false, transB: false });
    if (gc !== g) be.free(gc);
    return dx;
  }

  weightGradAtPattern(g: Storage, x: Storage, m: number): Storage {
    const { n, k, backend: be, layer } = this.ctx;
    if (!this.live) return be.kernels.fill(n * k, 'f32', 0);
    const gc = this.liveCols(g, m);
    const dwc = be.kernels.matmul({ a: gc, b: x, aShape: [m, this.live], bShape: [m, k], transA: true, transB: false });
    if (gc !== g) be.free(gc);
    const dw = this.scatter(dwc, [this.live, k], 0);
    const out = be.kernels.binary('mul', dw, [n, k], layer.device.use('sparseExec'), [n, k]);
    be.free(dw);
    return out;
  }

  bytes(): number {
    return 4 * (this.live + this.ctx.n) + 4 * this.live * this.ctx.k;
  }

  private freeDevice(): void {
    freeAll(this.ctx.backend, [this.liveIdx, this.scatterIdx, this.wc]);
    this.liveIdx = this.scatterIdx = this.wc = null;
  }

  dispose(): void {
    this.freeDevice();
    this.live = 0;
  }
}
