/** wasm glue: the fused Adam update (one pass, single thread: a parameter is a few hundred KB at most). */
import type { AdamHyper, Storage } from '../../kernels.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn } from './util.ts';

/** Installed with the training families only (FAMILIES), on modules that have the export. */
export const optimizerFamily: KernelFamily = (rt) => {
  const update = wasmFn(rt, 'adamUpdate');
  return {
    adam(p: Storage, g: Storage, m: Storage, v: Storage, size: number, h: AdamHyper) {
      const op = 'adam';
      const pp = inPtr(rt, op, p, size, 'p', 'f32');
      const pg = inPtr(rt, op, g, size, 'grad', 'f32');
      const pm = inPtr(rt, op, m, size, 'm', 'f32');
      const pv = inPtr(rt, op, v, size, 'v', 'f32');
      const pOut = rt.alloc(size, 'f32', false);
      const mOut = rt.alloc(size, 'f32', false);
      const vOut = rt.alloc(size, 'f32', false);
      update(pp, pg, pm, pv, pOut.ptr, mOut.ptr, vOut.ptr, size, h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.bc2Sqrt, h.eps, h.stepSize);
      return { p: pOut, m: mOut, v: vOut };
    },
  };
};
