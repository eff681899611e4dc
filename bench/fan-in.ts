/**
 * The constant fan-in forward product against our dense GEMM and the CSR kernel, on the same fan-in masks:
 * `npm run bench -- fan-in [--json] [--preset small|full|all] [--densities 0.5,0.25,0.1] [--m 3072] [--runs N]`.
 *
 * For a masked Linear of shape m×n×k (X [m, k], W [n, k], y = X·Wᵀ, the shapes of bench/sparsity.ts) and a
 * density d, every output neuron keeps round(d·k) inputs drawn at random (the `fan_in` structure, no neuron
 * ablated). Three kernels run alternately in one process, one thread: `dense` (the dense-masked GEMM, matmul
 * with Wᵀ), `csr` (denseCsrT on the CSR of the mask) and `fan_in` (denseFanInT); one JSON line per shape and
 * density with the median wall and CPU milliseconds of each and the ratios. The machine may be shared: the CPU
 * times (process.cpuUsage) are the figures to compare when it is busy.
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
function timeRound(be: Backend, fns: Array<() => Storage>, runs: number): Array<{ ms: number; cpuMs: number }> {
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

export async function benchFanIn(opts: { json: boolean; preset?: string; densities?: number[]; m?: number; runs?: number }): Promise<void> {
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
