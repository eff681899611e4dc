/** wasm glue: avg/max pooling over the last axis (rows = product of the leading dims). */
import type { Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn, withF32 } from './util.ts';

function geometry(op: string, shape: readonly number[], k: number, stride: number, pad: number) {
  if (shape.length < 1) throw new Error(`${op}: x needs rank ≥ 1, got []`);
  if (!(Number.isInteger(k) && k >= 1 && Number.isInteger(stride) && stride >= 1 && Number.isInteger(pad) && pad >= 0)) {
    throw new Error(`${op}: window ${k}, stride ${stride}, pad ${pad} must be integers (k, stride ≥ 1; pad ≥ 0)`);
  }
  const l = shape[shape.length - 1]!;
  const rows = sizeOf(shape.slice(0, -1));
  const span = l + 2 * pad - k;
  return { rows, l, lout: span < 0 ? 0 : Math.floor(span / stride) + 1 };
}

export const poolFamily: KernelFamily = (rt) => {
  const avg = wasmFn(rt, 'avgPool1dRows');
  const avgB = wasmFn(rt, 'avgPool1dBackwardRows');
  const mx = wasmFn(rt, 'maxPool1dRows');
  const mxB = wasmFn(rt, 'maxPool1dBackwardRows');
  return {
    avgPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number): Storage {
      const { rows, l, lout } = geometry('avgPool1d', shape, k, stride, pad);
      inPtr(rt, 'avgPool1d', x, rows * l);
      const out = rt.alloc(rows * lout, 'f32', false);
      if (out.size > 0) withF32(rt, x, (xf) => avg(rt.ptr(xf), out.ptr, rows, l, lout, k, stride, pad));
      return out;
    },

    avgPool1dBackward(dy: Storage, dyShape: number[], xShape: number[], k: number, stride: number, pad: number): Storage {
      const op = 'avgPool1dBackward';
      const { rows, l, lout } = geometry(op, xShape, k, stride, pad);
      const dyL = dyShape[dyShape.length - 1];
      if (dyL !== lout || sizeOf(dyShape) !== rows * lout) {
        throw new Error(`${op}: dy shape [${dyShape.join(', ')}] does not match the forward output (rows ${rows}, length ${lout})`);
      }
      inPtr(rt, op, dy, rows * lout, 'dy');
      const dx = rt.alloc(rows * l, 'f32', false);
      if (dx.size > 0) withF32(rt, dy, (g) => avgB(rt.ptr(g), dx.ptr, rows, l, lout, k, stride, pad));
      return dx;
    },

    maxPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number) {
      const { rows, l, lout } = geometry('maxPool1d', shape, k, stride, pad);
      inPtr(rt, 'maxPool1d', x, rows * l);
      const values = rt.alloc(rows * lout, 'f32', false);
      const indices = rt.alloc(rows * lout, 'i32', false);
      if (values.size > 0) withF32(rt, x, (xf) => mx(rt.ptr(xf), values.ptr, indices.ptr, rows, l, lout, k, stride, pad));
      return { values, indices };
    },

    maxPool1dBackward(dy: Storage, indices: Storage, dyShape: number[], xShape: number[]): Storage {
      const op = 'maxPool1dBackward';
      if (xShape.length < 1) throw new Error(`${op}: x needs rank ≥ 1, got []`);
      const l = xShape[xShape.length - 1]!;
      const rows = sizeOf(xShape.slice(0, -1));
      const lout = dyShape.length === 0 ? 1 : dyShape[dyShape.length - 1]!;
      if (sizeOf(dyShape) !== rows * lout) {
        throw new Error(`${op}: dy shape [${dyShape.join(', ')}] does not have the ${rows} rows of x [${xShape.join(', ')}]`);
      }
      inPtr(rt, op, dy, rows * lout, 'dy');
      const pi = inPtr(rt, op, indices, rows * lout, 'indices', 'i32');
      // -1 marks an empty window (skipped); anything else must lie in [0, L).
      const v = rt.i32();
      for (let j = 0; j < rows * lout; j++) {
        const pos = v[(pi >>> 2) + j]!;
        if (pos !== -1 && !(pos >= 0 && pos < l)) {
          throw new Error(`${op}: index ${pos} at position ${j} is out of range [0, ${l})`);
        }
      }
      const dx = rt.alloc(rows * l, 'f32', false);
      if (dx.size === 0) return dx;
      withF32(rt, dy, (g) => rt.withTemp((tmp) => mxB(rt.ptr(g), pi, dx.ptr, rows, l, lout, tmp.bytes(8 * rows * l))));
      return dx;
    },
  };
};
