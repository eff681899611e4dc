/** Batched matmul with transpose flags, NumPy broadcasting over batch dims, and an optional fused bias. */
import type { Kernels, MatmulArgs, Storage } from '../kernels.ts';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../tensor/shape.ts';
import { input, type JsHeap } from './store.ts';
import { offsetsOf } from './iter.ts';

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

export function matmulKernels(heap: JsHeap): Pick<Kernels, 'matmul'> {
  return {
    matmul(args: MatmulArgs): Storage {
      const { aShape, bShape, transA, transB } = args;
      if (aShape.length < 2 || bShape.length < 2) {
        throw new Error(`matmul: operands need rank ≥ 2, got ${shapeStr(aShape)} and ${shapeStr(bShape)}`);
      }
      const a = input('matmul', args.a, sizeOf(aShape), undefined, 'a');
      const b = input('matmul', args.b, sizeOf(bShape), undefined, 'b');
      const aRows = aShape[aShape.length - 2]!;
      const aCols = aShape[aShape.length - 1]!;
      const bRows = bShape[bShape.length - 2]!;
      const bCols = bShape[bShape.length - 1]!;
      const m = transA ? aCols : aRows;
      const k = transA ? aRows : aCols;
      const kb = transB ? bCols : bRows;
      const n = transB ? bRows : bCols;
      if (k !== kb) {
        throw new Error(
          `matmul: inner dimensions differ (${k} vs ${kb}) for ${shapeStr(aShape)}${transA ? 'ᵀ' : ''} · ${shapeStr(bShape)}${transB ? 'ᵀ' : ''}`,
        );
      }
      const bias = args.bias ? input('matmul', args.bias, n, undefined, 'bias') : undefined;

      // Batch dims broadcast; the start of each batch's matrix is found through broadcast strides
      // (0 on stretched dims) scaled by the matrix size.
      const aBatch = aShape.slice(0, -2);
      const bBatch = bShape.slice(0, -2);
      const batch = broadcastShapes('matmul', aBatch, bBatch);
      const aStarts = offsetsOf(batch, broadcastStrides(aBatch, batch).map((s) => s * aRows * aCols));
      const bStarts = offsetsOf(batch, broadcastStrides(bBatch, batch).map((s) => s * bRows * bCols));

      const out = new Float32Array(aStarts.length * m * n);
      // op(A) as rows [m, k] and op(B) as columns [n, k], both contiguous in f64, so every output is a dot
      // product of two contiguous vectors summed in increasing t (the fixed order). Products of two f32
      // are exact in f64; only the additions round.
      const rowsA = new Float64Array(m * k);
      const colsB = new Float64Array(n * k);
      for (let bi = 0; bi < aStarts.length; bi++) {
        const sa = aStarts[bi]!;
        const sb = bStarts[bi]!;
        for (let i = 0; i < m; i++) {
          for (let t = 0; t < k; t++) rowsA[i * k + t] = transA ? a[sa + t * aCols + i]! : a[sa + i * aCols + t]!;
        }
        for (let j = 0; j < n; j++) {
          for (let t = 0; t < k; t++) colsB[j * k + t] = transB ? b[sb + j * bCols + t]! : b[sb + t * bCols + j]!;
        }
        const so = bi * m * n;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let t = 0; t < k; t++) acc += rowsA[i * k + t]! * colsB[j * k + t]!;
            if (bias) acc += bias[j]!;
            out[so + i * n + j] = acc;
          }
        }
      }
      return heap.adopt(out);
    },
  };
}
