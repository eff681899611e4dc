/**
 * WebGPU glue for the CSR kernels: spmm, denseCsrT, sddmm, csrToDense. `denseToCsr` is not provided: its
 * result's nnz must be known synchronously, which on WebGPU needs a readback (the contract would need an
 * async variant, or the caller passes the count).
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
