/** Reductions: sum / mean / max / min over any set of axes, and argmax along one axis. */
import type { Kernels, ReduceOp, Storage } from '../kernels.ts';
import { sizeOf, stridesOf } from '../../tensor/shape.ts';
import { input, type JsHeap } from './store.ts';
import { offsetsOf, splitAt } from './iter.ts';

export function reduceKernels(heap: JsHeap): Pick<Kernels, 'reduce' | 'argmax'> {
  return {
    reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
      const src = input('reduce', x, sizeOf(shape));
      for (const a of axes) {
        if (!Number.isInteger(a) || a < 0 || a >= shape.length) {
          throw new Error(`reduce: axis ${a} is out of range for rank ${shape.length}`);
        }
      }
      const strides = stridesOf(shape);
      const reduced = new Set(axes);
      // Offsets of the elements of one reduction (row-major over the reduced axes: the fixed summation
      // order), and the start offset of every output element (reduced axes held at 0).
      const redOffs = offsetsOf(axes.map((a) => shape[a]!), axes.map((a) => strides[a]!));
      const outShape = shape.map((d, i) => (reduced.has(i) ? 1 : d));
      const baseOffs = offsetsOf(outShape, strides.map((s, i) => (reduced.has(i) ? 0 : s)));
      const count = redOffs.length;
      const out = new Float32Array(baseOffs.length);
      for (let o = 0; o < baseOffs.length; o++) {
        const base = baseOffs[o]!;
        let acc: number;
        switch (op) {
          case 'sum':
          case 'mean': {
            acc = 0;
            for (let r = 0; r < count; r++) acc += src[base + redOffs[r]!]!;
            // mean of nothing is 0/0 = NaN, as in NumPy and PyTorch.
            if (op === 'mean') acc /= count;
            break;
          }
          case 'max': {
            // -∞ for an empty reduction; NaN propagates (Math.max).
            acc = -Infinity;
            for (let r = 0; r < count; r++) acc = Math.max(acc, src[base + redOffs[r]!]!);
            break;
          }
          case 'min': {
            acc = Infinity;
            for (let r = 0; r < count; r++) acc = Math.min(acc, src[base + redOffs[r]!]!);
            break;
          }
          default:
            throw new Error(`reduce: unknown op '${String(op)}'`);
        }
        out[o] = acc;
      }
      return heap.adopt(out);
    },

    argmax(x: Storage, shape: number[], axis: number): Storage {
      const src = input('argmax', x, sizeOf(shape));
      const { outer, n, inner } = splitAt(shape, axis);
      const out = new Int32Array(outer * inner);
      if (n === 0 && out.length > 0) {
        throw new Error(`argmax: axis ${axis} of shape [${shape.join(', ')}] is empty; there is no maximum`);
      }
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * n * inner + i;
          let best = 0;
          let bestV = src[base]!;
          // Strict > keeps the first maximum on ties. NaN counts as the largest value (first NaN wins),
          // as in PyTorch, so a NaN is never hidden.
          if (!Number.isNaN(bestV)) {
            for (let t = 1; t < n; t++) {
              const v = src[base + t * inner]!;
              if (Number.isNaN(v)) {
                best = t;
                break;
              }
              if (v > bestV) {
                best = t;
                bestV = v;
              }
            }
          }
          out[o * inner + i] = best;
        }
      }
      return heap.adopt(out);
    },
  };
}
