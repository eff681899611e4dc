/**
 * The bias of the sparse Linear products (denseCsrT, denseBsrT, denseFanInT) on WebGPU. Their WGSL shaders
 * compute X·Wᵀ; the bias [n] is then added by the elementwise add shader in a second dispatch, which is the
 * contract's result exactly (the bias added once to each finished f32 sum). Why not inside each shader: three
 * shaders would each need a bias binding and a flag for a gain of one pass over the output, on a backend where
 * sparse execution's speed is not what is measured here (the CPU backends fuse it: js and wasm).
 */
import type { Kernels, Storage } from '../../kernels.ts';

type SparseProducts = Pick<Kernels, 'denseCsrT' | 'denseBsrT' | 'denseFanInT'>;

export function withSparseBias(k: SparseProducts & Pick<Kernels, 'binary'>, free: (s: Storage) => void): SparseProducts {
  const addBias = (op: string, y: Storage, m: number, n: number, bias: Storage | undefined): Storage => {
    if (!bias) return y;
    if (bias.dtype !== 'f32' || bias.size !== n) {
      free(y);
      throw new Error(`${op}: bias must be f32[${n}] (one per output column), got ${bias.dtype}[${bias.size}]`);
    }
    const out = k.binary('add', y, [m, n], bias, [n]);
    free(y);
    return out;
  };
  const { denseCsrT, denseBsrT, denseFanInT } = k;
  return {
    denseCsrT: (x, m, w, bias) => addBias('denseCsrT', denseCsrT(x, m, w), m, w.rows, bias),
    denseBsrT: (x, m, w, bias) => addBias('denseBsrT', denseBsrT(x, m, w), m, w.rows, bias),
    denseFanInT: (x, m, w, bias) => addBias('denseFanInT', denseFanInT(x, m, w), m, w.rows, bias),
  };
}
