/**
 * 1-d pooling over the last axis of x [N, C, L] (rows = N·C): window k, stride, `pad` on both sides.
 * Lout = floor((L + 2·pad − k) / stride) + 1 (PyTorch, ceil_mode = false).
 * avg divides by k, counting padded zeros (count_include_pad = true); max ignores padding and records
 * the i32 position in L of the first maximum.
 */
import type { Kernels, Storage } from '../kernels.ts';
import { sizeOf } from '../../tensor/shape.ts';
import { input, type JsHeap } from './store.ts';

export function poolOutLength(l: number, k: number, stride: number, pad: number): number {
  const span = l + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

function geometry(op: string, shape: readonly number[], k: number, stride: number, pad: number) {
  if (shape.length < 1) throw new Error(`${op}: x needs rank ≥ 1, got []`);
  if (!(Number.isInteger(k) && k >= 1 && Number.isInteger(stride) && stride >= 1 && Number.isInteger(pad) && pad >= 0)) {
    throw new Error(`${op}: window ${k}, stride ${stride}, pad ${pad} must be integers (k, stride ≥ 1; pad ≥ 0)`);
  }
  const l = shape[shape.length - 1]!;
  const rows = sizeOf(shape.slice(0, -1));
  return { rows, l, lout: poolOutLength(l, k, stride, pad) };
}

export function poolKernels(
  heap: JsHeap,
): Pick<Kernels, 'avgPool1d' | 'avgPool1dBackward' | 'maxPool1d' | 'maxPool1dBackward'> {
  return {
    avgPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number): Storage {
      const { rows, l, lout } = geometry('avgPool1d', shape, k, stride, pad);
      const src = input('avgPool1d', x, rows * l);
      const out = new Float32Array(rows * lout);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < lout; o++) {
          const start = o * stride - pad;
          let acc = 0;
          for (let t = 0; t < k; t++) {
            const pos = start + t;
            if (pos >= 0 && pos < l) acc += src[r * l + pos]!; // padding adds 0 but still counts in k
          }
          out[r * lout + o] = acc / k;
        }
      }
      return heap.adopt(out);
    },

    avgPool1dBackward(dy: Storage, dyShape: number[], xShape: number[], k: number, stride: number, pad: number): Storage {
      const op = 'avgPool1dBackward';
      const { rows, l, lout } = geometry(op, xShape, k, stride, pad);
      const dyL = dyShape[dyShape.length - 1];
      if (dyL !== lout || sizeOf(dyShape) !== rows * lout) {
        throw new Error(`${op}: dy shape [${dyShape.join(', ')}] does not match the forward output (rows ${rows}, length ${lout})`);
      }
      const g = input(op, dy, rows * lout, undefined, 'dy');
      const dx = new Float32Array(rows * l);
      for (let r = 0; r < rows; r++) {
        for (let pos = 0; pos < l; pos++) {
          // Windows o that cover pos: o·stride − pad ≤ pos < o·stride − pad + k; summed in increasing o.
          const oMin = Math.max(0, Math.ceil((pos + pad - k + 1) / stride));
          const oMax = Math.min(lout - 1, Math.floor((pos + pad) / stride));
          let acc = 0;
          for (let o = oMin; o <= oMax; o++) acc += g[r * lout + o]!;
          dx[r * l + pos] = acc / k;
        }
      }
      return heap.adopt(dx);
    },

    maxPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number) {
      const { rows, l, lout } = geometry('maxPool1d', shape, k, stride, pad);
      const src = input('maxPool1d', x, rows * l);
      const values = new Float32Array(rows * lout);
      const indices = new Int32Array(rows * lout);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < lout; o++) {
          const start = o * stride - pad;
          // A window lying wholly in padding (possible only when pad ≥ k) has no element: -∞ and index -1,
          // which the backward pass skips.
          let best = -1;
          let bestV = -Infinity;
          for (let t = 0; t < k; t++) {
            const pos = start + t;
            if (pos < 0 || pos >= l) continue;
            const v = src[r * l + pos]!;
            // Strict > keeps the first maximum; NaN wins (first NaN) so it propagates as in PyTorch.
            if (best < 0 || v > bestV || (Number.isNaN(v) && !Number.isNaN(bestV))) {
              best = pos;
              bestV = v;
            }
          }
          values[r * lout + o] = bestV;
          indices[r * lout + o] = best;
        }
      }
      return { values: heap.adopt(values), indices: heap.adopt(indices) };
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
      const g = input(op, dy, rows * lout, undefined, 'dy');
      const idx = input(op, indices, rows * lout, 'i32', 'indices');
      // Scatter in increasing output position, accumulating in f64 (windows overlap when stride < k).
      const acc = new Float64Array(rows * l);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < lout; o++) {
          const pos = idx[r * lout + o]!;
          if (pos === -1) continue; // empty window, see maxPool1d
          if (!(pos >= 0 && pos < l)) {
            throw new Error(`${op}: index ${pos} at position ${r * lout + o} is out of range [0, ${l})`);
          }
          acc[r * l + pos]! += g[r * lout + o]!;
        }
      }
      return heap.adopt(Float32Array.from(acc));
    },
  };
}
