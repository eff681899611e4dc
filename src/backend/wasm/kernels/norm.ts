/** wasm glue: layerNorm, layerNormBackward (f32x4, dgamma/dbeta totals in f64), batchNormStats (f64x2). */
import type { Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn } from './util.ts';
import { MIN_ROW_ELEMENTS_PER_THREAD, splitRange, threadsFor } from './parallel.ts';

export const normFamily: KernelFamily = (rt) => {
  const lnB = wasmFn(rt, 'layerNormBackwardRows');
  const bns = wasmFn(rt, 'batchNormStats3');
  const f32 = (op: string, s: Storage, size: number, what: string): number => inPtr(rt, op, s, size, what, 'f32');
  return {
    layerNorm(x: Storage, shape: number[], gamma: Storage, beta: Storage, eps: number) {
      const op = 'layerNorm';
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const px = f32(op, x, rows * d, 'x');
      const pg = f32(op, gamma, d, 'gamma');
      const pb = f32(op, beta, d, 'beta');
      const y = rt.alloc(rows * d, 'f32', false);
      const mean = rt.alloc(rows, 'f32', false);
      const rstd = rt.alloc(rows, 'f32', false);
      // Rows are independent: thread t normalises rows [r0, r1) (forward only; the backward sums dgamma and
      // dbeta over rows, which one thread does so the order stays fixed).
      const T = threadsFor(rt, rows * d, MIN_ROW_ELEMENTS_PER_THREAD);
      rt.parallel('layerNormRows', splitRange(rows, T).map(([r0, r1]) => (r1 > r0
        ? [px + 4 * r0 * d, pg, pb, y.ptr + 4 * r0 * d, mean.ptr + 4 * r0, rstd.ptr + 4 * r0, r1 - r0, d, eps]
        : null)));
      return { y, mean, rstd };
    },

    layerNormBackward(dy: Storage, x: Storage, shape: number[], gamma: Storage, mean: Storage, rstd: Storage) {
      const op = 'layerNormBackward';
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const pdy = f32(op, dy, rows * d, 'dy');
      const px = f32(op, x, rows * d, 'x');
      const pg = f32(op, gamma, d, 'gamma');
      const pm = f32(op, mean, rows, 'mean');
      const pr = f32(op, rstd, rows, 'rstd');
      const dx = rt.alloc(rows * d, 'f32', false);
      const dgamma = rt.alloc(d, 'f32', false);
      const dbeta = rt.alloc(d, 'f32', false);
      rt.withTemp((tmp) => lnB(pdy, px, pg, pm, pr, dx.ptr, dgamma.ptr, dbeta.ptr, rows, d, tmp.bytes(24 * d)));
      return { dx, dgamma, dbeta };
    },

    batchNormStats(x: Storage, shape: [number, number, number]) {
      const [outer, c, inner] = shape;
      const px = f32('batchNormStats', x, outer * c * inner, 'x');
      const mean = rt.alloc(c, 'f32', false);
      const variance = rt.alloc(c, 'f32', false);
      if (c > 0) rt.withTemp((tmp) => bns(px, mean.ptr, variance.ptr, outer, c, inner, tmp.bytes(16 * c)));
      return { mean, variance };
    },
  };
};
