/** Softmax and log-softmax over the last axis, numerically stable (the row maximum is subtracted first). */
import type { Kernels, Storage } from '../kernels.ts';
import { sizeOf } from '../../tensor/shape.ts';
import { input, type JsHeap } from './store.ts';

/** Row maximum; NaN propagates so a NaN row gives NaN outputs instead of a silent wrong answer. */
function rowMax(src: ArrayLike<number>, base: number, d: number): number {
  let m = -Infinity;
  for (let j = 0; j < d; j++) m = Math.max(m, src[base + j]!);
  return m;
}

export function softmaxKernels(heap: JsHeap): Pick<Kernels, 'softmax' | 'logSoftmax'> {
  return {
    softmax(x: Storage, shape: number[]): Storage {
      const src = input('softmax', x, sizeOf(shape));
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const out = new Float32Array(src.length);
      if (d === 0) return heap.adopt(out);
      const rows = src.length / d;
      const e = new Float64Array(d);
      for (let r = 0; r < rows; r++) {
        const base = r * d;
        const m = rowMax(src, base, d);
        let sum = 0;
        for (let j = 0; j < d; j++) {
          e[j] = Math.exp(src[base + j]! - m);
          sum += e[j]!;
        }
        for (let j = 0; j < d; j++) out[base + j] = e[j]! / sum;
      }
      return heap.adopt(out);
    },

    logSoftmax(x: Storage, shape: number[]): Storage {
      const src = input('logSoftmax', x, sizeOf(shape));
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const out = new Float32Array(src.length);
      if (d === 0) return heap.adopt(out);
      const rows = src.length / d;
      for (let r = 0; r < rows; r++) {
        const base = r * d;
        const m = rowMax(src, base, d);
        let sum = 0;
        for (let j = 0; j < d; j++) sum += Math.exp(src[base + j]! - m);
        // (x − m) − log Σ e^{x−m}: x − m is exact in f64 for f32 inputs, so only the log rounds.
        const logSum = Math.log(sum);
        for (let j = 0; j < d; j++) out[base + j] = src[base + j]! - m - logSum;
      }
      return heap.adopt(out);
    },
  };
}
