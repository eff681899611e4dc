/**
 * Wasm glue for the constant fan-in kernels of assembly/fan-in.ts: denseFanInT, denseToFanIn, fanInToDense, and
 * the backward products fanInDense (dX = G·W) and fanInSddmm (dW at the stored positions).
 * Fan-in inputs are validated here (sizes, live rows increasing and in range, every u16 column in range) so a
 * malformed matrix throws an Error naming the kernel and the bad index instead of reading out of bounds.
 *
 * Kept out of FORWARD_FAMILIES (the inference module `sparsecast/infer` does not export these kernels yet): its
 * inference backend reports them missing by name.
 *
 * Threads: denseFanInT splits the rows of X exactly as denseCsrT does (splitRange(m, T, 4) on the same work
 * count), so each output element is the same sum in the same lanes as denseCsrT on the same mask. fanInDense
 * splits the rows of G (independent rows of dX), fanInSddmm the live rows (independent runs of k entries),
 * after transposing G and X once on the calling thread; neither changes any element's order. fanInSddmm takes
 * sddmm's dense path (GEMM row blocks, then a gather) from the same stored share of W, SDDMM_DENSE_FRACTION,
 * with the same bits.
 */
import type { FanInStorage, Storage } from '../../kernels.ts';
import type { WasmRuntime } from '../runtime.ts';
import type { KernelFamily } from './index.ts';
import { biasPtr, checkDim, checkSize, fail } from './util.ts';
import { MIN_GEMM_FLOPS_PER_THREAD, MIN_SPARSE_MACS_PER_THREAD, splitRange, threadsFor } from './parallel.ts';
import { SDDMM_DENSE_FRACTION } from './sparse.ts';

type Fn = (...args: number[]) => number;

/** Largest column count a u16 index can address. */
const MAX_COLS = 65536;

/** Validate a fan-in matrix against this runtime's memory; returns its three byte offsets. */
export function validateFanIn(
  rt: WasmRuntime, kernel: string, a: FanInStorage,
): { liveRows: number; colIdx: number; values: number } {
  const { rows, cols, k, live } = a;
  checkDim(kernel, 'fan-in rows', rows);
  checkDim(kernel, 'fan-in cols', cols);
  checkDim(kernel, 'fan-in k', k);
  checkDim(kernel, 'fan-in live', live);
  if (cols > MAX_COLS) fail(kernel, `cols = ${cols} > ${MAX_COLS} (u16 column indices)`);
  if (k > cols) fail(kernel, `k = ${k} > cols = ${cols}`);
  if (live > rows) fail(kernel, `live = ${live} > rows = ${rows}`);
  checkSize(kernel, 'liveRows', a.liveRows, live, 'i32');
  checkSize(kernel, 'colIdx', a.colIdx, Math.ceil((live * k) / 2), 'i32');
  checkSize(kernel, 'values', a.values, live * k, 'f32');
  const liveRows = rt.ptr(a.liveRows, kernel);
  const colIdx = rt.ptr(a.colIdx, kernel);
  const values = rt.ptr(a.values, kernel);
  const iv = rt.i32();
  const lr = liveRows >>> 2;
  for (let j = 0; j < live; j++) {
    const r = iv[lr + j]!;
    if (r < 0 || r >= rows || (j > 0 && r <= iv[lr + j - 1]!)) {
      fail(kernel, `liveRows[${j}] = ${r} is out of range or not increasing (rows = ${rows})`);
    }
  }
  // Wasm memory is little-endian, so the packed words read as a u16 array (a view of host order: every
  // platform sparsecast runs on is little-endian too).
  const u16 = new Uint16Array(rt.u8().buffer, colIdx, live * k);
  for (let q = 0; q < live * k; q++) {
    if (u16[q]! >= cols) fail(kernel, `column index ${q} = ${u16[q]} is out of range [0, ${cols})`);
  }
  return { liveRows, colIdx, values };
}

export function denseFanInTWasm(rt: WasmRuntime, x: Storage, m: number, w: FanInStorage, bias?: Storage): Storage {
  const K = 'denseFanInT';
  checkDim(K, 'm', m);
  const p = validateFanIn(rt, K, w);
  checkSize(K, `x [${m}, ${w.cols}]`, x, m * w.cols, 'f32');
  return fanInRowSplit(rt, K, m, w, p, rt.ptr(x, K), w.cols, w.rows, [biasPtr(rt, K, bias, w.rows)]);
}

export function denseToFanInWasm(
  rt: WasmRuntime, x: Storage, rows: number, cols: number, k: number, live: number, mask?: Storage,
): FanInStorage {
  const K = 'denseToFanIn';
  checkDim(K, 'rows', rows);
  checkDim(K, 'cols', cols);
  checkDim(K, 'k', k);
  checkDim(K, 'live', live);
  if (cols > MAX_COLS) fail(K, `cols = ${cols} > ${MAX_COLS} cannot be indexed by u16; use CSR`);
  if (k > cols) fail(K, `k = ${k} exceeds cols = ${cols}`);
  checkSize(K, `x [${rows}, ${cols}]`, x, rows * cols, 'f32');
  if (mask) checkSize(K, 'mask', mask, rows * cols, 'u8');
  const ex = rt.exports;
  const px = rt.ptr(x, K);
  const pm = mask ? rt.ptr(mask, K) : 0;
  const what = mask ? 'the mask' : 'x';
  const found = (ex.denseToFanInCount as Fn)(px, rows, cols, pm, k);
  if (found < 0) {
    // Count the offending row again here, for the message.
    const r = -found - 1;
    const keep = mask ? rt.u8().subarray(pm + r * cols, pm + (r + 1) * cols) : rt.f32().subarray((px >>> 2) + r * cols, (px >>> 2) + (r + 1) * cols);
    let c = 0;
    for (const v of keep) if (v !== 0) c++;
    fail(K, `row ${r} of ${what} [${rows}, ${cols}] keeps ${c} entries; a fan-in row keeps 0 or k = ${k}`);
  }
  if (found !== live) fail(K, `${what} [${rows}, ${cols}] has ${found} live rows, but live = ${live} was passed`);
  const liveRows = rt.alloc(live, 'i32', false);
  const colIdx = rt.alloc(Math.ceil((live * k) / 2), 'i32', false);
  const values = rt.alloc(live * k, 'f32', false);
  (ex.denseToFanInFill as Fn)(px, rows, cols, pm, liveRows.ptr, colIdx.ptr, values.ptr);
  return { rows, cols, k, live, liveRows, colIdx, values };
}

export function fanInToDenseWasm(rt: WasmRuntime, a: FanInStorage): Storage {
  const K = 'fanInToDense';
  const p = validateFanIn(rt, K, a);
  const out = rt.alloc(a.rows * a.cols, 'f32', true);
  (rt.exports.fanInToDense as Fn)(a.rows, a.cols, a.k, a.live, p.liveRows, p.colIdx, p.values, out.ptr);
  return out;
}

/** G [m, w.rows] (and X [m, w.cols]) sized for m: the backward products' inputs. */
function checkBackwardInputs(K: string, m: number, w: FanInStorage, g: Storage, x?: Storage): void {
  checkSize(K, `G [${m}, ${w.rows}]`, g, m * w.rows, 'f32');
  if (x) checkSize(K, `X [${m}, ${w.cols}]`, x, m * w.cols, 'f32');
}

export function fanInDenseWasm(rt: WasmRuntime, g: Storage, m: number, w: FanInStorage): Storage {
  const K = 'fanInDense';
  checkDim(K, 'm', m);
  const p = validateFanIn(rt, K, w);
  checkBackwardInputs(K, m, w, g);
  return fanInRowSplit(rt, K, m, w, p, rt.ptr(g, K), w.rows, w.cols);
}

/**
 * The row split shared by the two fan-in products over the condensed W: `kernel` (denseFanInT: in = X [m, cols],
 * out [m, rows]; fanInDense: in = G [m, rows], out [m, cols]) on rows [r0, r1) of its input per thread, each
 * with its own workspace (`<kernel>WorkspaceBytes(rows, inWidth, outWidth)`); `extra`: arguments after the
 * workspace (denseFanInT's bias address).
 */
function fanInRowSplit(
  rt: WasmRuntime, kernel: 'denseFanInT' | 'fanInDense', m: number, w: FanInStorage, p: ReturnType<typeof validateFanIn>,
  pIn: number, inWidth: number, outWidth: number, extra: number[] = [],
): Storage {
  const out = rt.alloc(m * outWidth, 'f32', false);
  const wsBytes = rt.exports[`${kernel}WorkspaceBytes`] as Fn;
  const T = threadsFor(rt, w.live * w.k * m, MIN_SPARSE_MACS_PER_THREAD);
  rt.withTemp((tmp) => {
    rt.parallel(kernel, splitRange(m, T, 4).map(([r0, r1]) => {
      if (r1 <= r0) return null;
      const bytes = wsBytes(r1 - r0, inWidth, outWidth);
      return [
        r1 - r0, inWidth, pIn + 4 * r0 * inWidth, outWidth, w.k, w.live, p.liveRows, p.colIdx, p.values, out.ptr + 4 * r0 * outWidth,
        bytes > 0 ? tmp.bytes(bytes) : 0, ...extra,
      ];
    }));
  });
  return out;
}

export function fanInSddmmWasm(rt: WasmRuntime, g: Storage, x: Storage, m: number, w: FanInStorage): Storage {
  const K = 'fanInSddmm';
  checkDim(K, 'm', m);
  const p = validateFanIn(rt, K, w);
  checkBackwardInputs(K, m, w, g, x);
  const n = w.rows;
  const nIn = w.cols;
  const out = rt.alloc(w.live * w.k, 'f32', false);
  if (w.live * w.k === 0) return out;
  const ex = rt.exports;
  if (m > 0 && w.live * w.k >= SDDMM_DENSE_FRACTION * n * nIn) {
    // Dense enough: a blocked GEMM of W's row blocks, then pick the stored entries (same summation order).
    rt.withTemp((tmp) => {
      const rb = Math.min(n, 256);
      const T = threadsFor(rt, 2 * m * n * nIn, MIN_GEMM_FLOPS_PER_THREAD);
      rt.parallel('fanInSddmmDenseRows', splitRange(n, T, rb).map(([r0, r1]) => (r1 > r0
        ? [r0, r1, rb, m, n, nIn, rt.ptr(g, K), rt.ptr(x, K), w.k, w.live, p.liveRows, p.colIdx, out.ptr,
          tmp.bytes(Math.max(4, rb * nIn * 4)), tmp.bytes((ex.gemmWorkspaceBytes as Fn)(rb, nIn, m))]
        : null)));
    });
    return out;
  }
  rt.withTemp((tmp) => {
    // The kernel wants Gᵀ [n, m] and Xᵀ [nIn, m] row-major: each entry's dot runs over contiguous i.
    const gT = tmp.bytes(Math.max(4, 4 * n * m));
    const xT = tmp.bytes(Math.max(4, 4 * nIn * m));
    if (m > 0) {
      (ex.sparseTranspose as Fn)(rt.ptr(g, K), m, n, gT);
      (ex.sparseTranspose as Fn)(rt.ptr(x, K), m, nIn, xT);
    }
    const T = threadsFor(rt, w.live * w.k * m, MIN_SPARSE_MACS_PER_THREAD);
    rt.parallel('fanInSddmm', splitRange(w.live, T, 1).map(([j0, j1]) => (j1 > j0
      ? [j0, j1, m, nIn, w.k, p.liveRows, p.colIdx, gT, xT, out.ptr]
      : null)));
  });
  return out;
}

export const fanInFamily: KernelFamily = (rt) => ({
  denseFanInT: (x, m, w, bias) => denseFanInTWasm(rt, x, m, w, bias),
  denseToFanIn: (x, rows, cols, k, live, mask) => denseToFanInWasm(rt, x, rows, cols, k, live, mask),
  fanInToDense: (a) => fanInToDenseWasm(rt, a),
  fanInDense: (g, m, w) => fanInDenseWasm(rt, g, m, w),
  fanInSddmm: (g, x, m, w) => fanInSddmmWasm(rt, g, x, m, w),
});
