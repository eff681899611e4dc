/**
 * The constant fan-in products against our dense GEMM and the CSR kernels, on the same fan-in masks:
 * `npm run bench -- fan-in [--json] [--preset small|full|all] [--densities 0.5,0.25,0.1] [--m 3072] [--runs N]
 * [--pass forward|backward|both]` (default forward).
 *
 * For a masked Linear of shape m×n×k (X [m, k], W [n, k], y = X·Wᵀ, the shapes of bench/sparsity.ts) and a
 * density d, every output neuron keeps round(d·k) inputs drawn at random (the `fan_in` structure, no neuron
 * ablated). Three kernels run alternately in one process, one thread: `dense` (the dense-masked GEMM, matmul
 * with Wᵀ), `csr` (denseCsrT on the CSR of the mask) and `fan_in` (denseFanInT); one JSON line per shape and
 * density with the median wall and CPU milliseconds of each and the ratios. The machine may be shared: the CPU
 * times (process.cpuUsage) are the figures to compare when it is busy.
 *
 * `--pass backward`: the two gradient products of the same layer for an upstream gradient G [m, n], one JSON
 * line (`pass: 'backward'`) per shape and density. dX [m, k] = G·W: `dense` (matmul with the dense-masked W),
 * `csr` (denseCsrT of G by the CSR of Wᵀ, the transposed mask) and `fan_in` (fanInDense); dW at the mask's
 * positions: `dense` (the full Gᵀ·X GEMM, as dense-masked training computes it), `csr` (sddmm, transA, on the
 * CSR of W) and `fan_in` (fanInSddmm). All six alternate in one round.
 */
import type { Backend, Storage } from '../src/backend/kernels.ts';
import { engine } from '../src/tensor/engine.ts';
import { emit, random } from './stats.ts';
import { SPARSITY_SHAPES } from './sparsity.ts';

/** A [n, k] mask keeping `fan` random columns in every row (seeded LCG scores, the `fan` largest per row). */
export function fanInMask(n: number, k: number, fan: number, seed = 7): Uint8Array {
  const u = random(n * k, seed);
  const mask = new Uint8Array(n * k);
  const idx = Array.from({ length: k }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    idx.sort((a, b) => u[i * k + b]! - u[i * k + a]! || a - b);
    for (let t = 0; t < fan; t++) mask[i * k + idx[t]!] = 1;
  }
  return mask;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Run each fn in turn `runs` times after one warm-up round; medians of wall and CPU ms per fn. */
export function timeRound(be: Backend, fns: Array<() => Storage>, runs: number): Array<{ ms: number; cpuMs: number }> {
  const one = (fn: () => Storage): [number, number] => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    be.free(out);
    return [ms, (c.user + c.system) / 1000];
  };
  fns.forEach(one);
  const samples = fns.map(() => [] as Array<[number, number]>);
  for (let r = 0; r < Math.max(5, runs); r++) fns.forEach((fn, i) => samples[i]!.push(one(fn)));
  return samples.map((s) => ({ ms: median(s.map((x) => x[0])), cpuMs: median(s.map((x) => x[1])) }));
}

export async function benchFanIn(opts: { json: boolean; preset?: string; densities?: number[]; m?: number; runs?: number; pass?: string }): Promise<void> {
  const pass = opts.pass ?? 'forward';
  if (!['forward', 'backward', 'both'].includes(pass)) throw new Error(`bench fan-in: unknown --pass '${pass}' (forward, backward, both)`);
  const be = engine.backend;
  const K = be.kernels;
  const preset = opts.preset ?? 'all';
  const shapes = preset === 'all' ? [...SPARSITY_SHAPES.full, ...SPARSITY_SHAPES.small] : SPARSITY_SHAPES[preset as 'full' | 'small'];
  if (!shapes) throw new Error(`bench fan-in: unknown preset '${preset}' (small, full, all)`);
  const densities = opts.densities ?? [0.5, 0.25, 0.1];
  const runs = opts.runs ?? 7;
  for (const [m0, n, k] of shapes) {
    const m = opts.m ?? m0;
    const x = be.upload(random(m * k, 1));
    const w = be.upload(random(n * k, 2));
    for (const d of densities) {
      const fan = Math.max(1, Math.round(d * k));
      const mask = fanInMask(n, k, fan);
      const ms = be.upload(mask);
      const csr = K.denseToCsr(w, n, k, n * fan, ms);
      const fi = K.denseToFanIn(w, n, k, fan, n, ms);
      if (pass !== 'forward') {
        benchFanInBackward(be, opts.json, m, n, k, fan, mask, w, x, runs);
        if (pass === 'backward') {
          for (const t of [ms, csr.rowPtr, csr.colIdx, csr.values, fi.liveRows, fi.colIdx, fi.values]) be.free(t);
          continue;
        }
      }
      const [dense, c, f] = timeRound(be, [
        () => K.matmul({ a: x, b: w, aShape: [m, k], bShape: [n, k], transA: false, transB: true }),
        () => K.denseCsrT(x, m, csr),
        () => K.denseFanInT(x, m, fi),
      ], runs);
      const r3 = (v: number) => +v.toFixed(3);
      emit(opts.json, {
        bench: 'fan-in', backend: be.name, m, n, k, density: r3(fan / k), fan_in: fan,
        dense_ms: r3(dense!.ms), csr_ms: r3(c!.ms), fan_in_ms: r3(f!.ms),
        dense_cpu_ms: r3(dense!.cpuMs), csr_cpu_ms: r3(c!.cpuMs), fan_in_cpu_ms: r3(f!.cpuMs),
        fan_in_vs_dense: r3(dense!.cpuMs / f!.cpuMs), fan_in_vs_csr: r3(c!.cpuMs / f!.cpuMs),
        csr_vs_dense: r3(dense!.cpuMs / c!.cpuMs),
      });
      for (const t of [ms, csr.rowPtr, csr.colIdx, csr.values, fi.liveRows, fi.colIdx, fi.values]) be.free(t);
    }
    be.free(x);
    be.free(w);
  }
}

/** The backward rows of one shape and density (see the header): dX and dW by dense, CSR and fan-in kernels. */
function benchFanInBackward(
  be: Backend, json: boolean, m: number, n: number, k: number, fan: number, mask: Uint8Array, w: Storage, x: Storage, runs: number,
): void {
  const K = be.kernels;
  const g = be.upload(random(m * n, 3));
  const ms = be.upload(mask);
  const maskT = new Uint8Array(k * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) maskT[j * n + i] = mask[i * k + j]!;
  const mts = be.upload(maskT);
  const fi = K.denseToFanIn(w, n, k, fan, n, ms);
  const wm = K.fanInToDense(fi); // W ⊙ M
  const wt = K.permute(wm, [n, k], [1, 0]);
  const csr = K.denseToCsr(w, n, k, n * fan, ms);
  const csrT = K.denseToCsr(wt, k, n, n * fan, mts);
  const [dxDense, dxCsr, dxFan, dwDense, dwCsr, dwFan] = timeRound(be, [
    () => K.matmul({ a: g, b: wm, aShape: [m, n], bShape: [n, k], transA: false, transB: false }),
    () => K.denseCsrT(g, m, csrT),
    () => K.fanInDense(g, m, fi),
    () => K.matmul({ a: g, b: x, aShape: [m, n], bShape: [m, k], transA: true, transB: false }),
    () => K.sddmm(g, [m, n], true, x, [m, k], false, csr),
    () => K.fanInSddmm(g, x, m, fi),
  ], runs);
  const r3 = (v: number) => +v.toFixed(3);
  emit(json, {
    bench: 'fan-in', pass: 'backward', backend: be.name, m, n, k, density: r3(fan / k), fan_in: fan,
    dx_dense_cpu_ms: r3(dxDense!.cpuMs), dx_csr_cpu_ms: r3(dxCsr!.cpuMs), dx_fan_in_cpu_ms: r3(dxFan!.cpuMs),
    dw_dense_cpu_ms: r3(dwDense!.cpuMs), dw_csr_cpu_ms: r3(dwCsr!.cpuMs), dw_fan_in_cpu_ms: r3(dwFan!.cpuMs),
    dx_fan_in_vs_dense: r3(dxDense!.cpuMs / dxFan!.cpuMs), dx_fan_in_vs_csr: r3(dxCsr!.cpuMs / dxFan!.cpuMs),
    dw_fan_in_vs_dense: r3(dwDense!.cpuMs / dwFan!.cpuMs), dw_fan_in_vs_csr: r3(dwCsr!.cpuMs / dwFan!.cpuMs),
    dx_dense_ms: r3(dxDense!.ms), dx_csr_ms: r3(dxCsr!.ms), dx_fan_in_ms: r3(dxFan!.ms),
    dw_dense_ms: r3(dwDense!.ms), dw_csr_ms: r3(dwCsr!.ms), dw_fan_in_ms: r3(dwFan!.ms),
  });
  for (const t of [g, ms, mts, wm, wt, csr.rowPtr, csr.colIdx, csr.values, csrT.rowPtr, csrT.colIdx, csrT.values, fi.liveRows, fi.colIdx, fi.values]) be.free(t);
}
