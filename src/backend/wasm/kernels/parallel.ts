/**
 * How kernels split work across the wasm thread pool, and when they do not.
 *
 * The rule that keeps results bit-identical to one thread: a kernel is split only along a dimension whose
 * elements are computed independently (rows of a GEMM's C, batch entries, CSR output rows, elements of an
 * elementwise op, rows of a softmax/layer norm), every output element is written by exactly one thread, and
 * the kernel called on a part runs the same per-element arithmetic in the same order as on the whole. Nothing
 * is ever reduced across threads.
 *
 * Small problems stay on one thread. Handing a job to the workers and waiting for the last one costs a
 * fixed time per kernel call, so each thread should get enough work to hide it. The thresholds below give each
 * thread about 30 µs of one-thread work, computed from one-thread costs measured with
 * `npm run bench -- threads --sweep` (bench/threads.ts, one core of this AMD EPYC machine, under load): GEMM ~40 GFLOP/s, neg
 * ~0.3 ns and add ~0.15 ns per element, exp ~1.3 ns, softmax over 64-wide rows ~2.2 ns, CSR products
 * ~5 G multiply-adds/s. 30 µs is several times the hand-off on idle cores (a futex wake is a few µs; workers
 * spin briefly first), and the same sweep measured the hand-off at ~45 µs on a 2-core machine running four
 * other busy processes, where no split paid at any size: rerun the sweep on the target machine to move them.
 */
import type { WasmRuntime } from '../runtime.ts';

/** GEMM: flops (2·m·n·k) per thread. */
export const MIN_GEMM_FLOPS_PER_THREAD = 1 << 20;
/** Cheap elementwise ops (add, mul, neg, square, …): elements per thread. */
export const MIN_ELEMENTS_PER_THREAD = 1 << 17;
/** Transcendental elementwise ops (exp, erf, gelu, tanh, …) and pow: elements per thread. */
export const MIN_HEAVY_ELEMENTS_PER_THREAD = 1 << 14;
/** Row kernels (softmax, log-softmax, layer norm): elements per thread. */
export const MIN_ROW_ELEMENTS_PER_THREAD = 1 << 13;
/** Sparse products: multiply-adds (stored entries × dense width) per thread. */
export const MIN_SPARSE_MACS_PER_THREAD = 1 << 17;

/** Threads to use for `work` units when each thread should get at least `minPerThread`. */
export function threadsFor(rt: WasmRuntime, work: number, minPerThread: number): number {
  const t = rt.threads;
  if (t <= 1) return 1;
  if (rt.splitAll) return t;
  return Math.max(1, Math.min(t, Math.floor(work / minPerThread)));
}

/**
 * Cut [0, total) into `parts` contiguous ranges as equal as possible, every boundary a multiple of `align`
 * (except the end). Ranges may be empty when there is little work.
 */
export function splitRange(total: number, parts: number, align = 1): Array<[number, number]> {
  const units = Math.ceil(total / align);
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let t = 0; t < parts; t++) {
    const endUnits = Math.round((units * (t + 1)) / parts);
    const end = Math.min(total, endUnits * align);
    out.push([start, end]);
    start = end;
  }
  return out;
}

/**
 * Cut CSR rows [0, rows) into `parts` contiguous ranges of about equal work, where row i costs
 * (rowPtr[i+1] − rowPtr[i]) + 1 (the +1 stands for the per-row overhead, so empty rows still spread).
 * `rowPtr` is read from wasm memory at i32 index `rp`.
 */
export function splitCsrRows(i32: Int32Array, rp: number, rows: number, parts: number): Array<[number, number]> {
  const nnz = i32[rp + rows]! - i32[rp]!;
  const total = nnz + rows;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let t = 0; t < parts; t++) {
    const target = (total * (t + 1)) / parts;
    let end = start;
    if (t === parts - 1) end = rows;
    else {
      // First row index whose cumulative cost reaches the target (binary search on rowPtr[i] + i).
      let lo = start;
      let hi = rows;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (i32[rp + mid]! - i32[rp]! + mid < target) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    out.push([start, end]);
    start = end;
  }
  return out;
}
