/**
 * wasm glue: indexSelect, gather, scatterAdd, topk, oneHot. Every index is read and range-checked here
 * before a kernel runs, so a bad index is an Error naming the kernel, the index and its position.
 */
import type { Storage } from '../../kernels.ts';
import { sizeOf, stridesOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { checkAxis, checkIndices, elemBytes, inPtr, MAX_RANK, splitAt, wasmFn, withF32 } from './util.ts';

function checkIndexShape(op: string, indexShape: readonly number[], dataShape: readonly number[], axis: number): void {
  const ok = indexShape.length === dataShape.length && indexShape.every((d, i) => i === axis || d <= dataShape[i]!);
  if (!ok) {
    throw new Error(`${op}: index shape [${indexShape.join(', ')}] does not fit data shape [${dataShape.join(', ')}] off axis ${axis}`);
  }
}

export const indexingFamily: KernelFamily = (rt) => {
  const indexSelect3 = wasmFn(rt, 'indexSelect3');
  const gatherND = wasmFn(rt, 'gatherND');
  const scatterAddND = wasmFn(rt, 'scatterAddND');
  const topkRows = wasmFn(rt, 'topkRows');
  const oneHotRows = wasmFn(rt, 'oneHotRows');

  /** Shapes and walk strides for gather/scatterAdd (a scalar becomes [1]). */
  const walkOf = (shape: number[], indexShape: number[], axis: number) => {
    if (shape.length > MAX_RANK) throw new Error(`gather/scatterAdd: rank ${shape.length} exceeds the wasm limit of ${MAX_RANK}`);
    const strides = stridesOf(shape);
    const walk = strides.map((s, d) => (d === axis ? 0 : s));
    return {
      ishape: indexShape.length === 0 ? [1] : indexShape,
      walk: walk.length === 0 ? [0] : walk,
      axisStride: strides[axis] ?? 1,
    };
  };

  return {
    indexSelect(x: Storage, shape: number[], axis: number, indices: Storage, n: number): Storage {
      const op = 'indexSelect';
      const px = inPtr(rt, op, x, sizeOf(shape));
      const pi = inPtr(rt, op, indices, n, 'indices', 'i32');
      checkAxis(op, axis, shape.length);
      const { outer, n: len, inner } = splitAt(shape, axis);
      checkIndices(rt, op, pi, n, len);
      const out = rt.alloc(outer * n * inner, x.dtype, false);
      if (outer * n * inner > 0) indexSelect3(px, pi, out.ptr, outer, len, inner, n, elemBytes(x.dtype));
      return out;
    },

    gather(x: Storage, shape: number[], axis: number, indices: Storage, indexShape: number[]): Storage {
      const op = 'gather';
      const px = inPtr(rt, op, x, sizeOf(shape));
      const size = sizeOf(indexShape);
      const pi = inPtr(rt, op, indices, size, 'indices', 'i32');
      checkIndexShape(op, indexShape, shape, axis);
      if (shape.length > 0) checkAxis(op, axis, shape.length);
      checkIndices(rt, op, pi, size, shape.length === 0 ? 1 : shape[axis]!);
      const out = rt.alloc(size, x.dtype, false);
      if (size === 0) return out;
      const w = walkOf(shape, indexShape, axis);
      rt.withTemp((tmp) => {
        gatherND(px, pi, out.ptr, elemBytes(x.dtype), w.ishape.length, tmp.ints(w.ishape), tmp.ints(w.walk), w.axisStride);
      });
      return out;
    },

    scatterAdd(src: Storage, indices: Storage, indexShape: number[], axis: number, outShape: number[]): Storage {
      const op = 'scatterAdd';
      const size = sizeOf(indexShape);
      inPtr(rt, op, src, size, 'src');
      const pi = inPtr(rt, op, indices, size, 'indices', 'i32');
      checkIndexShape(op, indexShape, outShape, axis);
      if (outShape.length > 0) checkAxis(op, axis, outShape.length);
      checkIndices(rt, op, pi, size, outShape.length === 0 ? 1 : outShape[axis]!);
      const outSize = sizeOf(outShape);
      const out = rt.alloc(outSize, 'f32', true);
      if (outSize === 0 || size === 0) return out;
      const w = walkOf(outShape, indexShape, axis);
      withF32(rt, src, (sf) => {
        rt.withTemp((tmp) => {
          const acc = tmp.bytes(outSize * 8);
          scatterAddND(rt.ptr(sf), pi, acc, out.ptr, outSize, w.ishape.length, tmp.ints(w.ishape), tmp.ints(w.walk), w.axisStride);
        });
      });
      return out;
    },

    topk(x: Storage, shape: number[], k: number, largest: boolean) {
      const op = 'topk';
      inPtr(rt, op, x, sizeOf(shape));
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      if (!Number.isInteger(k) || k < 0 || k > d) throw new Error(`topk: k = ${k} is out of range for a last axis of size ${d}`);
      const rows = d === 0 ? sizeOf(shape.slice(0, -1)) : x.size / d;
      const values = rt.alloc(rows * k, 'f32', false);
      const indices = rt.alloc(rows * k, 'i32', false);
      if (rows * k === 0) return { values, indices };
      withF32(rt, x, (xf) => {
        rt.withTemp((tmp) => topkRows(rt.ptr(xf), values.ptr, indices.ptr, rows, d, k, largest ? 1 : 0, tmp.bytes(4 * k)));
      });
      return { values, indices };
    },

    oneHot(indices: Storage, n: number, depth: number): Storage {
      const pi = inPtr(rt, 'oneHot', indices, n, 'indices', 'i32');
      if (!(Number.isInteger(depth) && depth >= 0)) throw new Error(`oneHot: depth ${depth} must be an integer ≥ 0`);
      const out = rt.alloc(n * depth, 'f32', false);
      if (n * depth > 0) oneHotRows(pi, out.ptr, n, depth);
      return out;
    },
  };
};
