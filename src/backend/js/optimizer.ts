/** Optimizer kernels: the fused Adam update, rounding to f32 after every operation as the wasm kernel does. */
import type { AdamHyper, Kernels, Storage } from '../kernels.ts';
import { input, type JsHeap } from './store.ts';

export function optimizerKernels(heap: JsHeap): Pick<Kernels, 'adam'> {
  return {
    adam(p: Storage, g: Storage, m: Storage, v: Storage, size: number, h: AdamHyper) {
      const op = 'adam';
      const P = input(op, p, size, 'f32', 'p');
      const G = input(op, g, size, 'f32', 'grad');
      const M = input(op, m, size, 'f32', 'm');
      const V = input(op, v, size, 'f32', 'v');
      const f = Math.fround;
      const b1 = f(h.beta1), c1 = f(1 - h.beta1), b2 = f(h.beta2), c2 = f(1 - h.beta2);
      const bc2 = f(h.bc2Sqrt), eps = f(h.eps), step = f(h.stepSize);
      const pOut = new Float32Array(size);
      const mOut = new Float32Array(size);
      const vOut = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const gi = G[i]!;
        const mi = f(f(M[i]! * b1) + f(gi * c1));
        const vi = f(f(V[i]! * b2) + f(f(gi * gi) * c2));
        const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
        pOut[i] = P[i]! - f(f(mi / denom) * step);
        mOut[i] = mi;
        vOut[i] = vi;
      }
      return { p: heap.adopt(pOut), m: heap.adopt(mOut), v: heap.adopt(vOut) };
    },
  };
}
