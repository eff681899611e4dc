/**
 * Wasm glue for the block-sparse (BSR, 4×4 blocks) kernels of assembly/bsr.ts: denseBsrT, denseToBsr,
 * bsrToDense, and the weight gradient bsrSddmm. BSR inputs are validated here (sizes, blockPtr from 0,
 * non-decreasing, ending at nblocks, every blockCol in [0, ceil(cols/4))) so a malformed matrix throws an Error
 * naming the kernel and the bad index instead of reading out of bounds.
 *
 * The forward product is in FORWARD_FAMILIES (`bsrForwardFamily`: the inference module runs block-encoded
 * weights through it); the rest is kept out (the inference module does not export those kernels, and its
 * backend reports them missing by name).
 *
 * Threads: denseBsrT splits the rows of X (independent output rows; each element still one sum in the
 * one-thread order); bsrSddmm splits the block rows of W (balanced by stored blocks, each thread with its own
 * packed tile).
 */
import type { BsrStorage, Storage } from '../../kernels.ts';
import type { WasmRuntime } from '../runtime.ts';
import type { KernelFamily } from './index.ts';
import { biasPtr, checkDim, checkSize, fail } from './util.ts';
import { MIN_SPARSE_MACS_PER_THREAD, splitCsrRows, splitRange, threadsFor } from './parallel.ts';

type Fn = (...args: number[]) => number;

/** Validate a BSR matrix against this runtime's memory; returns its three byte offsets. */
export function validateBsr(
  rt: WasmRuntime, kernel: string, a: BsrStorage,
): { blockPtr: number; blockCol: number; values: number } {
  const { rows, cols, nblocks } = a;
  checkDim(kernel, 'bsr rows', rows);
  checkDim(kernel, 'bsr cols', cols);
  checkDim(kernel, 'bsr nblocks', nblocks);
  const nbr = Math.ceil(rows / 4);
  const nbc = Math.ceil(cols / 4);
  checkSize(kernel, 'blockPtr', a.blockPtr, nbr + 1, 'i32');
  checkSize(kernel, 'blockCol', a.blockCol, nblocks, 'i32');
  checkSize(kernel, 'values', a.values, nblocks * 16, 'f32');
  const blockPtr = rt.ptr(a.blockPtr, kernel);
  const blockCol = rt.ptr(a.blockCol, kernel);
  const values = rt.ptr(a.values, kernel);
  const iv = rt.i32();
  const bp = blockPtr >>> 2;
  if (iv[bp] !== 0) fail(kernel, `blockPtr[0] = ${iv[bp]}, expected 0`);
  for (let i = 1; i <= nbr; i++) {
    const lo = iv[bp + i - 1]!;
    const hi = iv[bp + i]!;
    if (hi < lo || hi > nblocks) fail(kernel, `blockPtr[${i}] = ${hi} is not monotone within [${lo}, ${nblocks}]`);
  }
  if (iv[bp + nbr] !== nblocks) fail(kernel, `blockPtr[${nbr}] = ${iv[bp + nbr]}, expected nblocks = ${nblocks}`);
  const bc = blockCol >>> 2;
  for (let p = 0; p < nblocks; p++) {
    const c = iv[bc + p]!;
    if (c < 0 || c >= nbc) fail(kernel, `blockCol[${p}] = ${c} is out of range [0, ${nbc}) (cols = ${cols})`);
  }
  return { blockPtr, blockCol, values };
}

export function denseBsrTWasm(rt: WasmRuntime, x: Storage, m: number, w: BsrStorage, bias?: Storage): Storage {
  const K = 'denseBsrT';
  checkDim(K, 'm', m);
  const p = validateBsr(rt, K, w);
  const k = w.cols;
  const n = w.rows;
  checkSize(K, `x [${m}, ${k}]`, x, m * k, 'f32');
  const pb = biasPtr(rt, K, bias, n);
  const out = rt.alloc(m * n, 'f32', false);
  const px = rt.ptr(x, K);
  const wsBytes = rt.exports.denseBsrTWorkspaceBytes as Fn;
  const T = threadsFor(rt, w.nblocks * 16 * m, MIN_SPARSE_MACS_PER_THREAD);
  rt.withTemp((tmp) => {
    rt.parallel('denseBsrT', splitRange(m, T, 8).map(([r0, r1]) => {
      if (r1 <= r0) return null;
      const bytes = wsBytes(r1 - r0, k, n);
      return [r1 - r0, k, px + 4 * r0 * k, n, p.blockPtr, p.blockCol, p.values, out.ptr + 4 * r0 * n, bytes > 0 ? tmp.bytes(bytes) : 0, pb];
    }));
  });
  return out;
}

export function denseToBsrWasm(rt: WasmRuntime, x: Storage, rows: number, cols: number, nblocks: number, mask?: Storage): BsrStorage {
  const K = 'denseToBsr';
  checkDim(K, 'rows', rows);
  checkDim(K, 'cols', cols);
  checkDim(K, 'nblocks', nblocks);
  checkSize(K, `x [${rows}, ${cols}]`, x, rows * cols, 'f32');
  if (mask) checkSize(K, 'mask', mask, rows * cols, 'u8');
  const ex = rt.exports;
  const blockPtr = rt.alloc(Math.ceil(rows / 4) + 1, 'i32', false);
  const px = rt.ptr(x, K);
  const pm = mask ? rt.ptr(mask, K) : 0;
  const count = (ex.denseToBsrCount as Fn)(px, rows, cols, pm, blockPtr.ptr);
  if (count !== nblocks) {
    rt.free(blockPtr);
    fail(K, `${mask ? 'the mask' : 'x'} [${rows}, ${cols}] has ${count} non-empty 4×4 blocks, but nblocks = ${nblocks} was passed`);
  }
  const blockCol = rt.alloc(nblocks, 'i32', false);
  const values = rt.alloc(nblocks * 16, 'f32', false);
  (ex.denseToBsrFill as Fn)(px, rows, cols, pm, blockCol.ptr, values.ptr);
  return { rows, cols, nblocks, blockPtr, blockCol, values };
}

export function bsrToDenseWasm(rt: WasmRuntime, a: BsrStorage): Storage {
  const K = 'bsrToDense';
  const p = validateBsr(rt, K, a);
  const out = rt.alloc(a.rows * a.cols, 'f32', true);
  (rt.exports.bsrToDense as Fn)(a.rows, a.cols, p.blockPtr, p.blockCol, p.values, out.ptr);
  return out;
}

export function bsrSddmmWasm(rt: WasmRuntime, g: Storage, x: Storage, m: number, w: BsrStorage): Storage {
  const K = 'bsrSddmm';
  checkDim(K, 'm', m);
  const p = validateBsr(rt, K, w);
  checkSize(K, `G [${m}, ${w.rows}]`, g, m * w.rows, 'f32');
  checkSize(K, `X [${m}, ${w.cols}]`, x, m * w.cols, 'f32');
  const out = rt.alloc(16 * w.nblocks, 'f32', false);
  if (w.nblocks === 0) return out;
  const pg = rt.ptr(g, K);
  const px = rt.ptr(x, K);
  const nbr = Math.ceil(w.rows / 4);
  const bytes = (rt.exports.bsrSddmmWorkspaceBytes as Fn)(m, w.rows, w.cols);
  const T = threadsFor(rt, 16 * w.nblocks * m, MIN_SPARSE_MACS_PER_THREAD);
  rt.withTemp((tmp) => {
    // Block rows balanced by stored blocks (blockPtr is a row pointer over blocks).
    const parts = T <= 1 ? [[0, nbr] as [number, number]] : splitCsrRows(rt.i32(), p.blockPtr >>> 2, nbr, T);
    rt.parallel('bsrSddmm', parts.map(([b0, b1]) => (b1 > b0
      ? [b0, b1, m, w.rows, w.cols, pg, px, p.blockPtr, p.blockCol, out.ptr, tmp.bytes(Math.max(bytes, 16))]
      : null)));
  });
  return out;
}

export const bsrForwardFamily: KernelFamily = (rt) => ({
  denseBsrT: (x, m, w, bias) => denseBsrTWasm(rt, x, m, w, bias),
});

export const bsrFamily: KernelFamily = (rt) => ({
  denseToBsr: (x, rows, cols, nblocks, mask) => denseToBsrWasm(rt, x, rows, cols, nblocks, mask),
  bsrToDense: (a) => bsrToDenseWasm(rt, a),
  bsrSddmm: (g, x, m, w) => bsrSddmmWasm(rt, g, x, m, w),
});
