/**
 * The BSR (4×4 blocks) gradient products against our dense GEMM and the CSR kernels, on the same block masks:
 * `npm run bench -- bsr-backward [--json] [--preset small|full|all] [--densities 0.5,0.1] [--m 3072] [--runs N]`.
 *
 * For a masked Linear of shape m×n×k (X [m, k], W [n, k], y = X·Wᵀ, the shapes of bench/sparsity.ts), an upstream
 * gradient G [m, n] and a density d, round(d · blocks) of W's 4×4 blocks are kept (drawn with a seeded LCG).
 * One JSON line per shape and density, six kernels alternating in one process, one thread:
 * dX [m, k] = G·W by `dense` (matmul with the dense-masked W), `csr` (denseCsrT of G by the CSR of Wᵀ) and
 * `bsr` (denseBsrT of G by the BSR of Wᵀ: the transposed mask is block-sparse too, so the forward kernel serves);
 * dW at the kept positions by `dense` (the full Gᵀ·X GEMM), `csr` (sddmm, transA, on the CSR of W) and `bsr`
 * (bsrSddmm). Medians of wall and CPU ms; the CPU times are the figures to compare on a busy machine.
 */
import type { Backend, Storage } from '../src/backend/kernels.ts';
import { engine } from '../src/tensor/engine.ts';
import { emit, random } from './stats.ts';
import { SPARSITY_SHAPES } from './sparsity.ts';
import { timeRound } from './fan-in.ts';

/** A [n, k] mask of `count` whole 4×4 blocks (the lowest seeded scores), n and k multiples of 4. */
export function blockMaskOf(n: number, k: number, count: number, seed = 11): Uint8Array {
  const nbc = k / 4;
  const u = random((n / 4) * nbc, seed);
  const order = Array.from(u.keys()).sort((a, b) => u[a]! - u[b]! || a - b);
  const mask = new Uint8Array(n * k);
  for (const b of order.slice(0, count)) {
    const [bi, bj] = [Math.floor(b / nbc), b % nbc];
    for (let r = 0; r < 4; r++) mask.fill(1, (4 * bi + r) * k + 4 * bj, (4 * bi + r) * k + 4 * bj + 4);
  }
  return mask;
}

export async function benchBsrBackward(opts: { json: boolean; preset?: string; densities?: number[]; m?: number; runs?: number }): Promise<void> {
  const be: Backend = engine.backend;
  const K = be.kernels;
  const preset = opts.preset ?? 'full';
  const shapes = preset === 'all' ? [...SPARSITY_SHAPES.full, ...SPARSITY_SHAPES.small] : SPARSITY_SHAPES[preset as 'full' | 'small'];
  if (!shapes) throw new Error(`bench bsr-backward: unknown preset '${preset}' (small, full, all)`);
  const densities = opts.densities ?? [0.5, 0.1];
  const runs = opts.runs ?? 5;
  for (const [m0, n, k] of shapes) {
    const m = opts.m ?? m0;
    const x = be.upload(random(m * k, 1));
    const w = be.upload(random(n * k, 2));
    const g = be.upload(random(m * n, 3));
    for (const d of densities) {
      const nblocks = Math.max(1, Math.round((d * n * k) / 16));
      const mask = blockMaskOf(n, k, nblocks);
      const maskT = new Uint8Array(k * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) maskT[j * n + i] = mask[i * k + j]!;
      const [ms, mts] = [be.upload(mask), be.upload(maskT)];
      const bsr = K.denseToBsr(w, n, k, nblocks, ms);
      const wm = K.bsrToDense(bsr); // W ⊙ M
      const wt = K.permute(wm, [n, k], [1, 0]);
      const bsrT = K.denseToBsr(wt, k, n, nblocks, mts);
      const csr = K.denseToCsr(w, n, k, 16 * nblocks, ms);
      const csrT = K.denseToCsr(wt, k, n, 16 * nblocks, mts);
      const [dxDense, dxCsr, dxBsr, dwDense, dwCsr, dwBsr] = timeRound(be, [
        () => K.matmul({ a: g, b: wm, aShape: [m, n], bShape: [n, k], transA: false, transB: false }),
        () => K.denseCsrT(g, m, csrT),
        () => K.denseBsrT(g, m, bsrT),
        () => K.matmul({ a: g, b: x, aShape: [m, n], bShape: [m, k], transA: true, transB: false }),
        () => K.sddmm(g, [m, n], true, x, [m, k], false, csr),
        () => K.bsrSddmm(g, x, m, bsr),
      ], runs);
      const r3 = (v: number) => +v.toFixed(3);
      emit(opts.json, {
        bench: 'bsr-backward', backend: be.name, m, n, k, density: r3((16 * nblocks) / (n * k)), nblocks,
        dx_dense_cpu_ms: r3(dxDense!.cpuMs), dx_csr_cpu_ms: r3(dxCsr!.cpuMs), dx_bsr_cpu_ms: r3(dxBsr!.cpuMs),
        dw_dense_cpu_ms: r3(dwDense!.cpuMs), dw_csr_cpu_ms: r3(dwCsr!.cpuMs), dw_bsr_cpu_ms: r3(dwBsr!.cpuMs),
        dx_bsr_vs_dense: r3(dxDense!.cpuMs / dxBsr!.cpuMs), dx_bsr_vs_csr: r3(dxCsr!.cpuMs / dxBsr!.cpuMs),
        dw_bsr_vs_dense: r3(dwDense!.cpuMs / dwBsr!.cpuMs), dw_bsr_vs_csr: r3(dwCsr!.cpuMs / dwBsr!.cpuMs),
        dx_dense_ms: r3(dxDense!.ms), dx_csr_ms: r3(dxCsr!.ms), dx_bsr_ms: r3(dxBsr!.ms),
        dw_dense_ms: r3(dwDense!.ms), dw_csr_ms: r3(dwCsr!.ms), dw_bsr_ms: r3(dwBsr!.ms),
      });
      const bsrParts = [bsr.blockPtr, bsr.blockCol, bsr.values, bsrT.blockPtr, bsrT.blockCol, bsrT.values];
      for (const t of [ms, mts, wm, wt, csr.rowPtr, csr.colIdx, csr.values, csrT.rowPtr, csrT.colIdx, csrT.values, ...bsrParts]) be.free(t);
    }
    for (const t of [x, w, g]) be.free(t);
  }
}
