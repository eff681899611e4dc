/**
 * WebGPU glue for the CSR kernels: spmm, denseCsrT, sddmm, csrToDense, and `denseToCsrAsync`.
 *
 * The contract's `denseToCsr` is synchronous and returns nnz, which on WebGPU is only known after a
 * readback; so the kernel table's `denseToCsr` throws, and `denseToCsrAsync` (count rows, scan, read the
 * row pointers, then fill) does the work on the GPU with one readback of rows + 1 integers.
 */
import type { CsrStorage, Kernels, Storage } from '../../kernels.ts';
import { Params, type WebGpuRuntime } from '../runtime.ts';
import { groups } from './util.ts';

const WG = 64;

export function sparseKernels(rt: WebGpuRuntime): Pick<Kernels, 'spmm' | 'denseCsrT' | 'sddmm' | 'csrToDense'> {
  const csr = (a: CsrStorage, op: string) => [rt.check(a.rowPtr, op), rt.check(a.colIdx, op), rt.check(a.values, op)] as const;
  return {
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

/** Dense [rows, cols] → CSR on the GPU, keeping mask != 0 (u8) or x != 0 (NaN kept) without a mask. */
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
  } catch (e) {
    rt.free(rowPtr);
    throw e;
  }
  const colIdx = rt.alloc(nnz, 'i32', false, op);
  const values = rt.alloc(nnz, 'f32', false, op);
  if (nnz > 0) {
    rt.dispatch({
      family: 'sparse', entry: 'csr_fill', spec, params: p, buffers: [xs, ms ?? rt.dummy(), rowPtr, colIdx, values],
      groups: groups(rows, WG),
    });
  }
  return { rows, cols, nnz, rowPtr, colIdx, values };
}
