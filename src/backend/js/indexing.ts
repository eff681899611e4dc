/** Indexing kernels: indexSelect, gather, scatterAdd, topk, oneHot, maskedTopK. */
import type { Kernels, Storage } from '../kernels.ts';
import { sizeOf, stridesOf } from '../../tensor/shape.ts';
import { input, newArray, dtypeOf, type JsHeap } from './store.ts';
import { forEachRow, lastStride, splitAt } from './iter.ts';

/**
 * Order used by the top-k kernels: ordinary numeric order with NaN above +∞ (as PyTorch's topk/sort),
 * so a NaN is selected rather than silently dropped. Returns > 0 when a ranks above b, 0 when equal.
 */
export function rankCompare(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return (an ? 1 : 0) - (bn ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkIndex(op: string, v: number, limit: number, where: number): void {
  if (!(v >= 0 && v < limit)) {
    throw new Error(`${op}: index ${v} at position ${where} is out of range [0, ${limit})`);
  }
}

/** For gather/scatterAdd: the index tensor may be smaller than the data on non-axis dims (torch rule). */
function checkIndexShape(op: string, indexShape: readonly number[], dataShape: readonly number[], axis: number): void {
  const ok =
    indexShape.length === dataShape.length &&
    indexShape.every((d, i) => i === axis || d <= dataShape[i]!);
  if (!ok) {
    throw new Error(
      `${op}: index shape [${indexShape.join(', ')}] does not fit data shape [${dataShape.join(', ')}] off axis ${axis}`,
    );
  }
}

export function indexingKernels(
  heap: JsHeap,
): Pick<Kernels, 'indexSelect' | 'gather' | 'scatterAdd' | 'topk' | 'oneHot' | 'maskedTopK'> {
  return {
    indexSelect(x: Storage, shape: number[], axis: number, indices: Storage, n: number): Storage {
      const src = input('indexSelect', x, sizeOf(shape));
      const idx = input('indexSelect', indices, n, 'i32', 'indices');
      const { outer, n: len, inner } = splitAt(shape, axis);
      for (let j = 0; j < n; j++) checkIndex('indexSelect', idx[j]!, len, j);
      const out = newArray(dtypeOf(src), outer * n * inner);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < n; j++) {
          const from = (o * len + idx[j]!) * inner;
          const to = (o * n + j) * inner;
          for (let i = 0; i < inner; i++) out[to + i] = src[from + i]!;
        }
      }
      return heap.adopt(out);
    },

    gather(x: Storage, shape: number[], axis: number, indices: Storage, indexShape: number[]): Storage {
      const src = input('gather', x, sizeOf(shape));
      const idx = input('gather', indices, sizeOf(indexShape), 'i32', 'indices');
      checkIndexShape('gather', indexShape, shape, axis);
      const strides = stridesOf(shape);
      const axisStride = strides[axis]!;
      const limit = shape[axis]!;
      // Walk the index tensor; x's offset follows every coordinate except `axis`, which comes from idx.
      const walk = strides.map((s, d) => (d === axis ? 0 : s));
      const ls = lastStride(walk);
      const rowLen = indexShape.length === 0 ? 1 : indexShape[indexShape.length - 1]!;
      const out = newArray(dtypeOf(src), idx.length);
      forEachRow(indexShape, [walk], (o, offs) => {
        for (let j = 0; j < rowLen; j++) {
          const v = idx[o + j]!;
          checkIndex('gather', v, limit, o + j);
          out[o + j] = src[offs[0]! + j * ls + v * axisStride]!;
        }
      });
      return heap.adopt(out);
    },

    scatterAdd(src: Storage, indices: Storage, indexShape: number[], axis: number, outShape: number[]): Storage {
      const vals = input('scatterAdd', src, sizeOf(indexShape), undefined, 'src');
      const idx = input('scatterAdd', indices, sizeOf(indexShape), 'i32', 'indices');
      checkIndexShape('scatterAdd', indexShape, outShape, axis);
      const strides = stridesOf(outShape);
      const axisStride = strides[axis]!;
      const limit = outShape[axis]!;
      const walk = strides.map((s, d) => (d === axis ? 0 : s));
      const ls = lastStride(walk);
      const rowLen = indexShape.length === 0 ? 1 : indexShape[indexShape.length - 1]!;
      // Accumulate in f64, visiting src in increasing flat index (the contract's order), round once.
      const acc = new Float64Array(sizeOf(outShape));
      forEachRow(indexShape, [walk], (o, offs) => {
        for (let j = 0; j < rowLen; j++) {
          const v = idx[o + j]!;
          checkIndex('scatterAdd', v, limit, o + j);
          acc[offs[0]! + j * ls + v * axisStride]! += vals[o + j]!;
        }
      });
      return heap.adopt(Float32Array.from(acc));
    },

    topk(x: Storage, shape: number[], k: number, largest: boolean) {
      const src = input('topk', x, sizeOf(shape));
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      if (!Number.isInteger(k) || k < 0 || k > d) {
        throw new Error(`topk: k = ${k} is out of range for a last axis of size ${d}`);
      }
      const rows = d === 0 ? sizeOf(shape.slice(0, -1)) : src.length / d;
      const values = new Float32Array(rows * k);
      const indices = new Int32Array(rows * k);
      const order = new Array<number>(d);
      for (let r = 0; r < rows; r++) {
        const base = r * d;
        for (let j = 0; j < d; j++) order[j] = j;
        // Full sort with an explicit index tie-break: the lower index always comes first.
        order.sort((p, q) => {
          const c = rankCompare(src[base + p]!, src[base + q]!);
          return (largest ? -c : c) || p - q;
        });
        for (let j = 0; j < k; j++) {
          values[r * k + j] = src[base + order[j]!]!;
          indices[r * k + j] = order[j]!;
        }
      }
      return { values: heap.adopt(values), indices: heap.adopt(indices) };
    },

    oneHot(indices: Storage, n: number, depth: number): Storage {
      const idx = input('oneHot', indices, n, 'i32', 'indices');
      const out = new Float32Array(n * depth);
      for (let i = 0; i < n; i++) {
        const v = idx[i]!;
        // Out-of-range indices (negative included) leave the row all zero, as the contract says.
        if (v >= 0 && v < depth) out[i * depth + v] = 1;
      }
      return heap.adopt(out);
    },

    maskedTopK(x: Storage, candidates: Storage, k: number): Storage {
      const src = input('maskedTopK', x);
      const cand = input('maskedTopK', candidates, src.length, undefined, 'candidates');
      const pool: number[] = [];
      for (let i = 0; i < src.length; i++) if (cand[i] !== 0) pool.push(i);
      if (!Number.isInteger(k) || k < 0 || k > pool.length) {
        throw new Error(`maskedTopK: k = ${k} but there are ${pool.length} candidates`);
      }
      // Largest |x| first (NaN above everything), lower flat index first on ties.
      pool.sort((p, q) => -rankCompare(Math.abs(src[p]!), Math.abs(src[q]!)) || p - q);
      const out = new Uint8Array(src.length);
      for (let j = 0; j < k; j++) out[pool[j]!] = 1;
      return heap.adopt(out);
    },
  };
}
