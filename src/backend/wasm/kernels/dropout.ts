/** wasm glue: dropoutMask (training only; the inference module has no dropout). */
import type { Storage } from '../../kernels.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn } from './util.ts';

export const dropoutFamily: KernelFamily = (rt) => {
  const apply = wasmFn(rt, 'dropoutMask');
  return {
    dropoutMask(x: Storage, keep: Storage, scale: number): Storage {
      const op = 'dropoutMask';
      const px = inPtr(rt, op, x, undefined, 'x', 'f32');
      const pk = inPtr(rt, op, keep, x.size, 'keep', 'u8');
      const out = rt.alloc(x.size, 'f32', false);
      if (x.size > 0) apply(px, pk, out.ptr, x.size, Math.fround(scale));
      return out;
    },
  };
};
