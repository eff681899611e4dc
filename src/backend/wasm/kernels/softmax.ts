/** wasm glue: softmax and log-softmax over the last axis. */
import type { Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn, withF32 } from './util.ts';

export const softmaxFamily: KernelFamily = (rt) => {
  const softmaxRows = wasmFn(rt, 'softmaxRows');
  const logSoftmaxRows = wasmFn(rt, 'logSoftmaxRows');
  const run = (op: 'softmax' | 'logSoftmax', x: Storage, shape: number[]): Storage => {
    const size = sizeOf(shape);
    inPtr(rt, op, x, size);
    const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    const out = rt.alloc(size, 'f32', false);
    if (size === 0) return out;
    const rows = size / d;
    withF32(rt, x, (xf) => {
      if (op === 'softmax') rt.withTemp((tmp) => softmaxRows(rt.ptr(xf), out.ptr, rows, d, tmp.bytes(d * 8)));
      else logSoftmaxRows(rt.ptr(xf), out.ptr, rows, d);
    });
    return out;
  };
  return {
    softmax: (x, shape) => run('softmax', x, shape),
    logSoftmax: (x, shape) => run('logSoftmax', x, shape),
  };
};
