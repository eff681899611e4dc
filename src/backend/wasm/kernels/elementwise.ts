/**
 * wasm glue: unary, gelu's gradient, broadcasting binary, compare, where. Dimensions are merged so the innermost one is
 * contiguous or broadcast for every operand (SIMD rows); outer dims are walked by strides in the kernel.
 *
 * Threads: unary and geluBackward split their elements, binary the outermost merged dimension (or the elements, when
 * everything merged into one dimension); every element is computed exactly as on one thread.
 */
import type { BinaryOp, CompareOp, Storage, UnaryOp } from '../../kernels.ts';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS } from '../../kernels.ts';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../tensor/shape.ts';
import type { WasmRuntime } from '../runtime.ts';
import type { KernelFamily } from './index.ts';
import { convert, inPtr, mergeDims, wasmFn } from './util.ts';
import { MIN_ELEMENTS_PER_THREAD, MIN_HEAVY_ELEMENTS_PER_THREAD, splitRange, threadsFor } from './parallel.ts';

const INT_BINARY = new Set<BinaryOp>(['add', 'sub', 'mul', 'max', 'min']);
/** Unary ops that cost a polynomial or more per element: worth splitting at smaller sizes. */
const HEAVY_UNARY = new Set<UnaryOp>(['exp', 'log', 'tanh', 'sigmoid', 'gelu', 'elu', 'sin', 'cos', 'erf']);
/** Chunk boundaries are multiples of 16 elements (64 bytes): SIMD-aligned, no cache line written by two threads. */
const ALIGN = 16;

/** Convert the listed storages to `dtype` where they differ; returns the storages to use and a cleanup. */
function asDtype(rt: WasmRuntime, xs: Storage[], dtype: 'f32' | 'i32'): { s: Storage[]; done: () => void } {
  const temps: Storage[] = [];
  const s = xs.map((x) => {
    if (x.dtype === dtype) return x;
    const t = convert(rt, x, dtype);
    temps.push(t);
    return t;
  });
  return { s, done: () => temps.forEach((t) => rt.free(t)) };
}

export const elementwiseFamily: KernelFamily = (rt) => {
  const unaryF32 = wasmFn(rt, 'unaryF32');
  const binaryF32 = wasmFn(rt, 'binaryF32');
  const binaryI32 = wasmFn(rt, 'binaryI32');
  const compare32 = wasmFn(rt, 'compare32');
  const where32 = wasmFn(rt, 'where32');
  const geluBackwardF32 = wasmFn(rt, 'geluBackwardF32');

  return {
    unary(op: UnaryOp, x: Storage): Storage {
      const code = UNARY_OPS.indexOf(op);
      if (code < 0) throw new Error(`unary: unknown op '${String(op)}'`);
      inPtr(rt, 'unary', x);
      const { s, done } = asDtype(rt, [x], 'f32');
      try {
        const out = rt.alloc(x.size, 'f32', false);
        if (x.size === 0) return out;
        const px = rt.ptr(s[0]!);
        const T = threadsFor(rt, x.size, HEAVY_UNARY.has(op) ? MIN_HEAVY_ELEMENTS_PER_THREAD : MIN_ELEMENTS_PER_THREAD);
        if (T <= 1) unaryF32(code, px, out.ptr, x.size);
        else {
          rt.parallel('unaryF32', splitRange(x.size, T, ALIGN).map(([i0, i1]) => (i1 > i0
            ? [code, px + 4 * i0, out.ptr + 4 * i0, i1 - i0]
            : null)));
        }
        return out;
      } finally {
        done();
      }
    },

    geluBackward(dy: Storage, x: Storage): Storage {
      const px = inPtr(rt, 'geluBackward', x, undefined, 'x', 'f32');
      const pd = inPtr(rt, 'geluBackward', dy, x.size, 'dy', 'f32');
      const n = x.size;
      const out = rt.alloc(n, 'f32', false);
      if (n === 0) return out;
      const T = threadsFor(rt, n, MIN_HEAVY_ELEMENTS_PER_THREAD);
      if (T <= 1) geluBackwardF32(pd, px, out.ptr, n);
      else {
        rt.parallel('geluBackwardF32', splitRange(n, T, ALIGN).map(([i0, i1]) => (i1 > i0
          ? [pd + 4 * i0, px + 4 * i0, out.ptr + 4 * i0, i1 - i0]
          : null)));
      }
      return out;
    },

    binary(op: BinaryOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const code = BINARY_OPS.indexOf(op);
      if (code < 0) throw new Error(`binary: unknown op '${String(op)}'`);
      const outShape = broadcastShapes('binary', aShape, bShape);
      inPtr(rt, 'binary', a, sizeOf(aShape), 'a');
      inPtr(rt, 'binary', b, sizeOf(bShape), 'b');
      const isInt = a.dtype === 'i32' && b.dtype === 'i32' && INT_BINARY.has(op);
      const n = sizeOf(outShape);
      const out = rt.alloc(n, isInt ? 'i32' : 'f32', false);
      if (n === 0) return out;
      const { s, done } = asDtype(rt, [a, b], isInt ? 'i32' : 'f32');
      try {
        const m = mergeDims('binary', outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
        rt.withTemp((tmp) => {
          const pa = rt.ptr(s[0]!);
          const pb = rt.ptr(s[1]!);
          const sa = tmp.ints(m.strides[0]!);
          const sb = tmp.ints(m.strides[1]!);
          const T = threadsFor(rt, n, op === 'pow' ? MIN_HEAVY_ELEMENTS_PER_THREAD : MIN_ELEMENTS_PER_THREAD);
          if (T <= 1) {
            (isInt ? binaryI32 : binaryF32)(code, pa, pb, out.ptr, m.shape.length, tmp.ints(m.shape), sa, sb);
            return;
          }
          // Split the outermost merged dim: thread t takes its indices [i0, i1), operands offset by their
          // strides along it, its own shape array with that dim shortened. One merged dim: split elements.
          const d0 = m.shape[0]!;
          const inner = n / d0;
          const ranges = splitRange(d0, T, m.shape.length === 1 ? ALIGN : 1);
          rt.parallel(isInt ? 'binaryI32' : 'binaryF32', ranges.map(([i0, i1]) => (i1 > i0
            ? [code, pa + 4 * i0 * m.strides[0]![0]!, pb + 4 * i0 * m.strides[1]![0]!, out.ptr + 4 * i0 * inner,
              m.shape.length, tmp.ints([i1 - i0, ...m.shape.slice(1)]), sa, sb]
            : null)));
        });
        return out;
      } finally {
        done();
      }
    },

    compare(op: CompareOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const code = COMPARE_OPS.indexOf(op);
      if (code < 0) throw new Error(`compare: unknown op '${String(op)}'`);
      const outShape = broadcastShapes('compare', aShape, bShape);
      inPtr(rt, 'compare', a, sizeOf(aShape), 'a');
      inPtr(rt, 'compare', b, sizeOf(bShape), 'b');
      const n = sizeOf(outShape);
      const out = rt.alloc(n, 'u8', false);
      if (n === 0) return out;
      // Integers (i32, u8) compare exactly as i32; anything with an f32 side compares as f32.
      const isInt = a.dtype !== 'f32' && b.dtype !== 'f32';
      const { s, done } = asDtype(rt, [a, b], isInt ? 'i32' : 'f32');
      try {
        const m = mergeDims('compare', outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
        rt.withTemp((tmp) => {
          compare32(
            code, isInt ? 1 : 0, rt.ptr(s[0]!), rt.ptr(s[1]!), out.ptr, m.shape.length,
            tmp.ints(m.shape), tmp.ints(m.strides[0]!), tmp.ints(m.strides[1]!),
          );
        });
        return out;
      } finally {
        done();
      }
    },

    where(cond: Storage, condShape: number[], a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const outShape = broadcastShapes('where', condShape, aShape, bShape);
      inPtr(rt, 'where', cond, sizeOf(condShape), 'cond');
      inPtr(rt, 'where', a, sizeOf(aShape), 'a');
      inPtr(rt, 'where', b, sizeOf(bShape), 'b');
      const dtype = a.dtype === b.dtype ? a.dtype : 'f32';
      const n = sizeOf(outShape);
      const out = rt.alloc(n, dtype, false);
      if (n === 0) return out;
      const temps: Storage[] = [];
      const use = (x: Storage, d: typeof dtype): Storage => {
        if (x.dtype === d) return x;
        const t = convert(rt, x, d);
        temps.push(t);
        return t;
      };
      try {
        const c = use(cond, 'u8');
        const sa = use(a, dtype);
        const sb = use(b, dtype);
        const m = mergeDims('where', outShape, [
          broadcastStrides(condShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape),
        ]);
        rt.withTemp((tmp) => {
          where32(
            rt.ptr(c), rt.ptr(sa), rt.ptr(sb), out.ptr, dtype === 'u8' ? 1 : 4, m.shape.length,
            tmp.ints(m.shape), tmp.ints(m.strides[0]!), tmp.ints(m.strides[1]!), tmp.ints(m.strides[2]!),
          );
        });
        return out;
      } finally {
        temps.forEach((t) => rt.free(t));
      }
    },
  };
};
