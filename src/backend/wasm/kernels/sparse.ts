/**
 * Wasm glue for the sparse kernels (assembly/sparse.ts): spmm, denseCsrT, sddmm, denseToCsr, csrToDense,
 * maskedTopK. CSR inputs are validated here (sizes, rowPtr[0] = 0, rowPtr non-decreasing and ending at nnz,
 * every colIdx in [0, cols)) so a malformed matrix throws an Error naming the kernel and the bad index
 * instead of reading out of bounds or trapping inside wasm.
 *
 * Threads: spmm, denseCsrT and sddmm split their output rows across the pool (CSR rows balanced by stored
 * entries); each output element is still one sum in the one-thread order (see parallel.ts).
 */
import type { CsrStorage, Storage } from '../../kernels.ts';
import type { WasmRuntime } from '../runtime.ts';
import type { KernelFamily } from './index.ts';
import { biasPtr, checkDim, checkSize, fail } from './util.ts';
import { MIN_GEMM_FLOPS_PER_THREAD, MIN_SPARSE_MACS_PER_THREAD, splitCsrRows, splitRange, threadsFor } from './parallel.ts';

type Fn = (...args: number[]) => number;

/** Validate a CSR matrix against this runtime's memory; returns its three byte offsets. */
export function validateCsr(
  rt: WasmRuntime, kernel: string, a: CsrStorage,
): { rowPtr: number; colIdx: number; values: number } {
  const { rows, cols, nnz } = a;
  checkDim(kernel, 'csr rows', rows);
  checkDim(kernel, 'csr cols', cols);
  checkDim(kernel, 'csr nnz', nnz);
  checkSize(kernel, 'rowPtr', a.rowPtr, rows + 1, 'i32');
  checkSize(kernel, 'colIdx', a.colIdx, nnz, 'i32');
  checkSize(kernel, 'values', a.values, nnz, 'f32');
  const rowPtr = rt.ptr(a.rowPtr, kernel);
  const colIdx = rt.ptr(a.colIdx, kernel);
  const values = rt.ptr(a.values, kernel);
  const iv = rt.i32();
  const rp = rowPtr >>> 2;
  if (iv[rp] !== 0) fail(kernel, `rowPtr[0] = ${iv[rp]}, expected 0`);
  for (let i = 1; i <= rows; i++) {
    const lo = iv[rp + i - 1]!;
    const hi = iv[rp + i]!;
    if (hi < lo || hi > nnz) fail(kernel, `rowPtr[${i}] = ${hi} is not monotone within [${lo}, ${nnz}]`);
  }
  if (iv[rp + rows] !== nnz) fail(kernel, `rowPtr[${rows}] = ${iv[rp + rows]}, expected nnz = ${nnz}`);
  const ci = colIdx >>> 2;
  for (let p = 0; p < nnz; p++) {
    const c = iv[ci + p]!;
    if (c < 0 || c >= cols) fail(kernel, `colIdx[${p}] = ${c} is out of range [0, ${cols})`);
  }
  return { rowPtr, colIdx, values };
}

export function spmmWasm(rt: WasmRuntime, a: CsrStorage, b: Storage, n: number): Storage {
  const K = 'spmm';
  checkDim(K, 'n', n);
  const p = validateCsr(rt, K, a);
  checkSize(K, 'b', b, a.cols * n, 'f32');
  const out = rt.alloc(a.rows * n, 'f32', false);
  const pb = rt.ptr(b, K);
  const T = threadsFor(rt, a.nnz * n, MIN_SPARSE_MACS_PER_THREAD);
  if (T <= 1) {
    (rt.exports.spmm as Fn)(a.rows, n, p.rowPtr, p.colIdx, p.values, pb, out.ptr, a.cols);
    return out;
  }
  // Rows [r0, r1): rowPtr shifted to row r0 (its entries still index colIdx/values absolutely), out at row r0.
  rt.parallel('spmm', splitCsrRows(rt.i32(), p.rowPtr >>> 2, a.rows, T).map(([r0, r1]) => (r1 > r0
    ? [r1 - r0, n, p.rowPtr + 4 * r0, p.colIdx, p.values, pb, out.ptr + 4 * r0 * n, a.cols]
    : null)));
  return out;
}

export function denseCsrTWasm(rt: WasmRuntime, x: Storage, m: number, w: CsrStorage, bias?: Storage): Storage {
  const K = 'denseCsrT';
  checkDim(K, 'm', m);
  const p = validateCsr(rt, K, w);
  const k = w.cols;
  const n = w.rows;
  checkSize(K, 'x', x, m * k, 'f32');
  const pb = biasPtr(rt, K, bias, n);
  const out = rt.alloc(m * n, 'f32', false);
  const px = rt.ptr(x, K);
  const wsBytes = rt.exports.denseCsrTWorkspaceBytes as Fn;
  // Rows of X (and of the output) are independent: thread t takes rows [r0, r1) with its own workspace.
  const T = threadsFor(rt, w.nnz * m, MIN_SPARSE_MACS_PER_THREAD);
  rt.withTemp((tmp) => {
    rt.parallel('denseCsrT', splitRange(m, T, 4).map(([r0, r1]) => {
      if (r1 <= r0) return null;
      const bytes = wsBytes(r1 - r0, k, n);
      return [r1 - r0, k, px + 4 * r0 * k, n, p.rowPtr, p.colIdx, p.values, out.ptr + 4 * r0 * n, bytes > 0 ? tmp.bytes(bytes) : 0, pb];
    }));
  });
  return out;
}

/**
 * Pattern density from which sddmm computes dense row blocks with the GEMM and gathers (measured crossover on
 * Zen 4: the gather-based sparse path runs at ~10 GFLOP/s of useful work, the GEMM at ~44 on all m·n).
 */
export const SDDMM_DENSE_FRACTION = 0.2;

export function sddmmWasm(
  rt: WasmRuntime,
  a: Storage, aShape: [number, number], transA: boolean,
  b: Storage, bShape: [number, number], transB: boolean,
  pattern: CsrStorage,
): Storage {
  const K = 'sddmm';
  if (aShape.length !== 2 || bShape.length !== 2) fail(K, 'a and b must be 2-D');
  for (const d of [...aShape, ...bShape]) checkDim(K, 'dimension', d);
  const m = transA ? aShape[1] : aShape[0];
  const k = transA ? aShape[0] : aShape[1];
  const kb = transB ? bShape[1] : bShape[0];
  const n = transB ? bShape[0] : bShape[1];
  if (k !== kb) fail(K, `inner dimensions differ: op(a) is [${m}, ${k}], op(b) is [${kb}, ${n}]`);
  checkSize(K, 'a', a, aShape[0] * aShape[1], 'f32');
  checkSize(K, 'b', b, bShape[0] * bShape[1], 'f32');
  if (pattern.rows !== m || pattern.cols !== n) {
    fail(K, `pattern is [${pattern.rows}, ${pattern.cols}], expected [${m}, ${n}]`);
  }
  const p = validateCsr(rt, K, pattern);
  const out = rt.alloc(pattern.nnz, 'f32', false);
  if (pattern.nnz === 0) return out;
  const ex = rt.exports;
  if (pattern.nnz >= SDDMM_DENSE_FRACTION * m * n) {
    // Dense enough: a blocked GEMM of row blocks, then pick the pattern's entries (same summation order).
    rt.withTemp((tmp) => {
      const rb = Math.min(m, 256);
      const pa = rt.ptr(a, K);
      const pb = rt.ptr(b, K);
      const aRs = transA ? 1 : k;
      const aCs = transA ? m : 1;
      const bRs = transB ? 1 : n;
      const bCs = transB ? k : 1;
      // Each thread takes whole blocks of rb rows, with its own C block and GEMM workspace.
      const T = threadsFor(rt, 2 * m * n * k, MIN_GEMM_FLOPS_PER_THREAD);
      rt.parallel('sddmmDenseRows', splitRange(m, T, rb).map(([i0, i1]) => (i1 > i0
        ? [i0, i1, rb, n, k, pa, aRs, aCs, pb, bRs, bCs, p.rowPtr, p.colIdx, out.ptr,
          tmp.bytes(Math.max(4, rb * n * 4)), tmp.bytes((ex.gemmWorkspaceBytes as Fn)(rb, n, k))]
        : null)));
    });
    return out;
  }
  rt.withTemp((tmp) => {
    // The kernel wants op(A) row-major [m, k] and op(B)ᵀ row-major [n, k].
    let pa = rt.ptr(a, K);
    let pb = rt.ptr(b, K);
    if (transA) {
      const t = tmp.bytes(Math.max(4, m * k * 4));
      (ex.sparseTranspose as Fn)(pa, k, m, t);
      pa = t;
    }
    if (!transB) {
      const t = tmp.bytes(Math.max(4, n * k * 4));
      (ex.sparseTranspose as Fn)(pb, k, n, t);
      pb = t;
    }
    // k > 0 here (nnz > 0 ⇒ m, n > 0; k = 0 only zero-fills): rows [r0, r1) with rowPtr and op(A) shifted to
    // row r0; out stays absolute (entries are indexed by the absolute stored position).
    const T = k > 0 ? threadsFor(rt, pattern.nnz * k, MIN_SPARSE_MACS_PER_THREAD) : 1;
    if (T <= 1) (ex.sddmm as Fn)(m, k, n, pa, pb, p.rowPtr, p.colIdx, out.ptr);
    else {
      rt.parallel('sddmm', splitCsrRows(rt.i32(), p.rowPtr >>> 2, m, T).map(([r0, r1]) => (r1 > r0
        ? [r1 - r0, k, n, pa + 4 * r0 * k, pb, p.rowPtr + 4 * r0, p.colIdx, out.ptr]
        : null)));
    }
  });
  return out;
}

export function denseToCsrWasm(rt: WasmRuntime, x: Storage, rows: number, cols: number, nnz: number, mask?: Storage): CsrStorage {
  const K = 'denseToCsr';
  checkDim(K, 'rows', rows);
  checkDim(K, 'cols', cols);
  checkDim(K, 'nnz', nnz);
  checkSize(K, 'x', x, rows * cols, 'f32');
  if (mask) checkSize(K, 'mask', mask, rows * cols, 'u8');
  const ex = rt.exports;
  const rowPtr = rt.alloc(rows + 1, 'i32', false);
  const px = rt.ptr(x, K);
  const pm = mask ? rt.ptr(mask, K) : 0;
  const count = (ex.denseToCsrCount as Fn)(px, rows, cols, pm, rowPtr.ptr);
  if (count !== nnz) {
    rt.free(rowPtr);
    fail(K, `${mask ? 'the mask' : 'x'} [${rows}, ${cols}] has ${count} stored entries, but nnz = ${nnz} was passed`);
  }
  const colIdx = rt.alloc(nnz, 'i32', false);
  const values = rt.alloc(nnz, 'f32', false);
  (ex.denseToCsrFill as Fn)(px, rows, cols, pm, colIdx.ptr, values.ptr);
  return { rows, cols, nnz, rowPtr, colIdx, values };
}

export function csrToDenseWasm(rt: WasmRuntime, a: CsrStorage): Storage {
  const K = 'csrToDense';
  const p = validateCsr(rt, K, a);
  const out = rt.alloc(a.rows * a.cols, 'f32', true);
  (rt.exports.csrToDense as Fn)(a.rows, a.cols, p.rowPtr, p.colIdx, p.values, out.ptr);
  return out;
}

export function maskedTopKWasm(rt: WasmRuntime, x: Storage, candidates: Storage, k: number): Storage {
  const K = 'maskedTopK';
  checkDim(K, 'k', k);
  if (x.dtype !== 'f32') fail(K, `x must be f32, got ${x.dtype}`);
  checkSize(K, 'candidates', candidates, x.size, 'u8');
  const out = rt.alloc(x.size, 'u8', false);
  const ex = rt.exports;
  const total = rt.withTemp((tmp) => {
    const ws = tmp.bytes((ex.maskedTopKWorkspaceBytes as Fn)());
    return (ex.maskedTopK as Fn)(rt.ptr(x, K), rt.ptr(candidates, K), x.size, k, out.ptr, ws);
  });
  if (k > total) {
    rt.free(out);
    fail(K, `k = ${k} exceeds the number of candidates (${total})`);
  }
  return out;
}

/** What inference runs: a CSR weight applied as x · Wᵀ (the other sparse kernels serve sparse training). */
export const sparseForwardFamily: KernelFamily = (rt) => ({
  denseCsrT: (x, m, w, bias) => denseCsrTWasm(rt, x, m, w, bias),
});

export const sparseFamily: KernelFamily = (rt) => ({
  spmm: (a, b, n) => spmmWasm(rt, a, b, n),
  sddmm: (a, aShape, transA, b, bShape, transB, pattern) =>
    sddmmWasm(rt, a, aShape, transA, b, bShape, transB, pattern),
  denseToCsr: (x, rows, cols, nnz, mask) => denseToCsrWasm(rt, x, rows, cols, nnz, mask),
  csrToDense: (a) => csrToDenseWasm(rt, a),
  maskedTopK: (x, candidates, k) => maskedTopKWasm(rt, x, candidates, k),
});
