/** WebGPU glue for the fused Adam update (shader optimizer.wgsl). */
import type { AdamHyper, Kernels, Storage } from '../../kernels.ts';
import { Params, f32bits, type WebGpuRuntime } from '../runtime.ts';
import { groups } from './util.ts';

const WG = 64;

export function optimizerKernels(rt: WebGpuRuntime): Pick<Kernels, 'adam'> {
  return {
    adam(p: Storage, g: Storage, m: Storage, v: Storage, size: number, h: AdamHyper) {
      const op = 'adam';
      const ins = ([[p, 'p'], [g, 'grad'], [m, 'm'], [v, 'v']] as const).map(([s, what]) => {
        const c = rt.check(s, op);
        if (c.size !== size) throw new Error(`${op}: ${what} storage holds ${c.size} elements, but its shape needs ${size}`);
        if (c.dtype !== 'f32') throw new Error(`${op}: ${what} has dtype ${c.dtype}; expected f32`);
        return c;
      });
      const pOut = rt.alloc(size, 'f32', false, op);
      const mOut = rt.alloc(size, 'f32', false, op);
      const vOut = rt.alloc(size, 'f32', false, op);
      rt.dispatch({
        family: 'optimizer', entry: 'adam',
        params: new Params().set(0, size).setAll(1, [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.bc2Sqrt, h.eps, h.stepSize].map(f32bits)),
        buffers: [...ins, pOut, mOut, vOut], groups: groups(size, WG),
      });
      return { p: pOut, m: mOut, v: vOut };
    },
  };
}
