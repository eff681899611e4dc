/** wasm glue: softmax and log-softmax over the last axis (rows split across threads when large). */
import type { Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, withF32 } from './util.ts';
import { MIN_ROW_ELEMENTS_PER_THREAD, splitRange, threadsFor } from './parallel.ts';

export const softmaxFamily: KernelFamily = (rt) => {
  const run = (op: 'softmax' | 'logSoftmax', x: Storage, shape: number[]): Storage => {
    const size = sizeOf(shape);
    inPtr(rt, op, x, size);
    const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    const out = rt.alloc(size, 'f32', false);
    if (size === 0) return out;
    const rows = size / d;
    withF32(rt, x, (xf) => {
      const px = rt.ptr(xf);
      const T = threadsFor(rt, size, MIN_ROW_ELEMENTS_PER_THREAD);
      // Rows are independent: thread t normalises rows [r0, r1). (softmaxRows ignores its workspace argument.)
      rt.parallel(op === 'softmax' ? 'softmaxRows' : 'logSoftmaxRows', splitRange(rows, T).map(([r0, r1]) => {
        if (r1 <= r0) return null;
        const args = [px + 4 * r0 * d, out.ptr + 4 * r0 * d, r1 - r0, d];
        return op === 'softmax' ? [...args, 0] : args;
      }));
    });
    return out;
  };
  return {
    softmax: (x, shape) => run('softmax', x, shape),
    logSoftmax: (x, shape) => run('logSoftmax', x, shape),
  };
};
