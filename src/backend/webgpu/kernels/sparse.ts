/**
 * WebGPU glue for the CSR kernels: spmm, denseCsrT, sddmm, csrToDense, denseToCsr, and `denseToCsrAsync`.
 *
 * The contract's `denseToCsr` takes the number of stored entries from the caller, so every output size is
 * known when it is recorded: it is three ordinary dispatches, and the real count is checked against `nnz` at
 * the next read. `denseToCsrAsync` is for callers that do not know nnz (one readback of the count first).
 */
import type { CsrStorage, Kernels, Storage } from '../../kernels.ts';
import { Params, type WebGpuRuntime } from '../runtime.ts';
import { groups } from './util.ts';

const WG = 64;

export function sparseKernels(rt: WebGpuRuntime): Pick<Kernels, 'spmm' | 'denseCsrT' | 'sddmm' | 'csrToDense' | 'denseToCsr'> {
  const csr = (a: CsrStorage, op: string) => [rt.check(a.rowPtr, op), rt.check(a.colIdx, op), rt.check(a.values, op)] as const;
  return {
    denseToCsr(x: Storage, rows: number, cols: number, nnz: number, mask?: Storage): CsrStorage {
      return denseToCsrGpu(rt, x, rows, cols, nnz, mask);
    },

    spmm(a: CsrStorage, b: Storage, n: number): Storage {
      const size = a.rows * n;
      const out = rt.alloc(size, 'f32', false, 'spmm');
      rt.dispatch({
        family: 'sparse', entry: 'spmm', params: new Params().setAll(0, [size, n]),
        buffers: [...csr(a, 'spmm'), rt.check(b, 'spmm'), out], groups: groups(size, WG),
      });
      return out;
    },

    denseCsrT(x: Storage, m: number, w: CsrStorage): Storage {
      const size = m * w.rows;
      const out = rt.alloc(size, 'f32', false, 'denseCsrT');
      rt.dispatch({
        family: 'sparse', entry: 'dense_csrt', params: new Params().setAll(0, [size, w.rows, w.cols]),
        buffers: [...csr(w, 'denseCsrT'), rt.check(x, 'denseCsrT'), out], groups: groups(size, WG),
      });
      return out;
    },

    sddmm(a: Storage, aShape: [number, number], transA: boolean, b: Storage, bShape: [number, number], transB: boolean, pattern: CsrStorage): Storage {
      const [ar, ac] = aShape;
      const [br, bc] = bShape;
      const m = transA ? ac : ar;
      const k = transA ? ar : ac;
      const kb = transB ? bc : br;
      const n = transB ? br : bc;
      if (k !== kb || pattern.rows !== m || pattern.cols !== n) {
        throw new Error(`sddmm: op(A) [${m}, ${k}] · op(B) [${kb}, ${n}] does not fit the pattern [${pattern.rows}, ${pattern.cols}]`);
      }
      const out = rt.alloc(pattern.nnz, 'f32', false, 'sddmm');
      const p = new Params().setAll(0, [
        pattern.nnz, pattern.rows, k, transA ? 1 : ac, transA ? ac : 1, transB ? 1 : bc, transB ? bc : 1,
      ]);
      rt.dispatch({
        family: 'sparse', entry: 'sddmm', params: p,
        buffers: [rt.check(pattern.rowPtr, 'sddmm'), rt.check(pattern.colIdx, 'sddmm'), rt.check(a, 'sddmm'), rt.check(b, 'sddmm'), out],
        groups: groups(pattern.nnz, WG),
      });
      return out;
    },

    csrToDense(a: CsrStorage): Storage {
      const out = rt.alloc(a.rows * a.cols, 'f32', true, 'csrToDense');
      const [rp, ci, v] = csr(a, 'csrToDense');
      rt.dispatch({
        family: 'sparse', entry: 'csr_scatter', params: new Params().setAll(0, [a.nnz, a.rows, a.cols]),
        buffers: [rp, ci, v, null, out], groups: groups(a.nnz, WG),
      });
      return out;
    },
  };
}

/**
 * Dense [rows, cols] → CSR on the GPU, keeping mask != 0 (u8) or x != 0 (NaN kept) without a mask: three
 * recorded dispatches (count per row, one-workgroup scan, fill), no readback. `nnz` is the caller's count; the
 * real one (rowPtr[rows]) is checked at the next read/sync (runtime.expectWord), and the fill never writes past
 * `nnz`.
 */
export function denseToCsrGpu(
  rt: WebGpuRuntime, x: Storage, rows: number, cols: number, nnz: number, mask?: Storage,
): CsrStorage {
  const op = 'denseToCsr';
  const xs = rt.check(x, op);
  for (const [what, v] of [['rows', rows], ['cols', cols], ['nnz', nnz]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${op}: ${what} must be a non-negative integer, got ${v}`);
  }
  if (xs.size !== rows * cols) throw new Error(`${op}: x holds ${xs.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
  const ms = mask ? rt.check(mask, op) : null;
  if (ms && ms.size !== rows * cols) throw new Error(`${op}: mask holds ${ms.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
  if (nnz > rows * cols) throw new Error(`${op}: nnz = ${nnz} exceeds the ${rows * cols} positions of [${rows}, ${cols}]`);
  const spec = { HAS_MASK: ms ? 1 : 0 };
  const rowPtr = rt.alloc(rows + 1, 'i32', true, op);
  const colIdx = rt.alloc(nnz, 'i32', false, op);
  const values = rt.alloc(nnz, 'f32', false, op);
  const p = new Params().setAll(0, [rows, cols, nnz]);
  rt.dispatch({ family: 'sparse', entry: 'csr_count', spec, params: p, buffers: [xs, ms ?? rt.dummy(), rowPtr], groups: groups(Math.max(rows, 1), WG) });
  if (rows > 0) rt.dispatch({ family: 'sparse', entry: 'csr_scan', spec, params: p, buffers: [null, null, rowPtr], groups: 1 });
  if (nnz > 0) {
    rt.dispatch({
      family: 'sparse', entry: 'csr_fill', spec, params: p, buffers: [xs, ms ?? rt.dummy(), rowPtr, colIdx, values],
      groups: groups(rows, WG),
    });
  }
  const what = ms ? 'the mask' : 'x';
  rt.expectWord(rowPtr, rows, nnz, (count) =>
    `${op}: ${what} [${rows}, ${cols}] has ${count} stored entries, but nnz = ${nnz} was passed (webgpu: detected at the next read)`);
  return { rows, cols, nnz, rowPtr, colIdx, values };
}

/**
 * Dense → CSR when the caller does not know nnz: count and scan on the GPU, read rowPtr[rows] (one readback),
 * then fill. The ops layer's `denseToCsrAsync` uses the kernel with a count it reads itself; this stays for
 * direct kernel users.
 */
export async function denseToCsrAsync(
  rt: WebGpuRuntime, x: Storage, rows: number, cols: number, mask?: Storage,
): Promise<CsrStorage> {
  const op = 'denseToCsr';
  const xs = rt.check(x, op);
  if (xs.size !== rows * cols) throw new Error(`${op}: x holds ${xs.size} elements, but [${rows}, ${cols}] needs ${rows * cols}`);
  const ms = mask ? rt.check(mask, op) : null;
  const spec = { HAS_MASK: ms ? 1 : 0 };
  const rowPtr = rt.alloc(rows + 1, 'i32', true, op);
  const p = new Params().setAll(0, [rows, cols]);
  rt.dispatch({ family: 'sparse', entry: 'csr_count', spec, params: p, buffers: [xs, ms ?? rt.dummy(), rowPtr], groups: groups(Math.max(rows, 1), WG) });
  if (rows > 0) rt.dispatch({ family: 'sparse', entry: 'csr_scan', spec, params: p, buffers: [null, null, rowPtr], groups: 1 });
  let nnz: number;
  try {
    const ptr = (await rt.read(rowPtr)) as Int32Array;
    nnz = ptr[rows]!;
  } finally {
    rt.free(rowPtr);
  }
  return denseToCsrGpu(rt, x, rows, cols, nnz, mask);
}
