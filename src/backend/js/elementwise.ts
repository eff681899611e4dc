/**
 * Elementwise kernels: unary, broadcasting binary, compare, where, dropout's mask and gelu's gradient. Values are computed in f64 (JS
 * numbers) and rounded once when stored into the f32 output.
 */
import type { AnyTypedArray, BinaryOp, CompareOp, Kernels, Storage, UnaryOp } from '../kernels.ts';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../tensor/shape.ts';
import { input, newArray, type JsHeap } from './store.ts';
import { forEachRow, lastStride } from './iter.ts';
import { erf, gelu, geluGrad } from './math.ts';

type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

const UNARY: Record<UnaryOp, Fn1> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  // sign(±0) = 0 and sign(NaN) = NaN.
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
  tanh: Math.tanh,
  // 1/(1+e^{-x}) never overflows to NaN: e^{-x} = ∞ gives 0, which is the right limit.
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  // relu = max(x, 0) with max's NaN propagation.
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? NaN : 0),
  gelu,
  // alpha = 1; expm1 keeps precision for small negative x.
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  sin: Math.sin,
  cos: Math.cos,
  erf,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
};

const BINARY_F32: Record<BinaryOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  // Math.max/min propagate NaN, as the contract wants.
  max: Math.max,
  min: Math.min,
};

/** i32 arithmetic wraps modulo 2^32, as i32 does in wasm and WGSL. */
const BINARY_I32: Partial<Record<BinaryOp, Fn2>> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: Math.imul,
  max: Math.max,
  min: Math.min,
};

const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
};

/** Apply a two-input function with NumPy broadcasting into `out`. */
function broadcast2(
  a: AnyTypedArray, aShape: readonly number[], b: AnyTypedArray, bShape: readonly number[],
  outShape: readonly number[], out: AnyTypedArray, f: Fn2,
): void {
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const la = lastStride(sa);
  const lb = lastStride(sb);
  const n = outShape.length === 0 ? 1 : outShape[outShape.length - 1]!;
  forEachRow(outShape, [sa, sb], (o, offs) => {
    const ia = offs[0]!;
    const ib = offs[1]!;
    for (let j = 0; j < n; j++) out[o + j] = f(a[ia + j * la]!, b[ib + j * lb]!);
  });
}

export function elementwiseKernels(heap: JsHeap): Pick<Kernels, 'unary' | 'binary' | 'compare' | 'where' | 'dropoutMask' | 'geluBackward'> {
  return {
    unary(op: UnaryOp, x: Storage): Storage {
      const f = UNARY[op];
      if (!f) throw new Error(`unary: unknown op '${String(op)}'`);
      const src = input('unary', x);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
      return heap.adopt(out);
    },

    binary(op: BinaryOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const outShape = broadcastShapes('binary', aShape, bShape);
      const da = input('binary', a, sizeOf(aShape), undefined, 'a');
      const db = input('binary', b, sizeOf(bShape), undefined, 'b');
      // Two i32 inputs stay i32 for the ops i32 supports; everything else is f32.
      const intOp = a.dtype === 'i32' && b.dtype === 'i32' ? BINARY_I32[op] : undefined;
      const f = intOp ?? BINARY_F32[op];
      if (!f) throw new Error(`binary: unknown op '${String(op)}'`);
      const out = newArray(intOp ? 'i32' : 'f32', sizeOf(outShape));
      broadcast2(da, aShape, db, bShape, outShape, out, f);
      return heap.adopt(out);
    },

    compare(op: CompareOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const outShape = broadcastShapes('compare', aShape, bShape);
      const da = input('compare', a, sizeOf(aShape), undefined, 'a');
      const db = input('compare', b, sizeOf(bShape), undefined, 'b');
      const test = COMPARE[op];
      if (!test) throw new Error(`compare: unknown op '${String(op)}'`);
      const out = new Uint8Array(sizeOf(outShape));
      broadcast2(da, aShape, db, bShape, outShape, out, (x, y) => (test(x, y) ? 1 : 0));
      return heap.adopt(out);
    },

    where(cond: Storage, condShape: number[], a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const outShape = broadcastShapes('where', condShape, aShape, bShape);
      const dc = input('where', cond, sizeOf(condShape), undefined, 'cond');
      const da = input('where', a, sizeOf(aShape), undefined, 'a');
      const db = input('where', b, sizeOf(bShape), undefined, 'b');
      const sc = broadcastStrides(condShape, outShape);
      const sa = broadcastStrides(aShape, outShape);
      const sb = broadcastStrides(bShape, outShape);
      const [lc, la, lb] = [lastStride(sc), lastStride(sa), lastStride(sb)];
      // a and b normally share a dtype; when they do not, the result is f32.
      const out = newArray(a.dtype === b.dtype ? a.dtype : 'f32', sizeOf(outShape));
      const n = outShape.length === 0 ? 1 : outShape[outShape.length - 1]!;
      forEachRow(outShape, [sc, sa, sb], (o, offs) => {
        const [ic, ia, ib] = [offs[0]!, offs[1]!, offs[2]!];
        for (let j = 0; j < n; j++) {
          out[o + j] = dc[ic + j * lc]! !== 0 ? da[ia + j * la]! : db[ib + j * lb]!;
        }
      });
      return heap.adopt(out);
    },

    dropoutMask(x: Storage, keep: Storage, scale: number): Storage {
      const xs = input('dropoutMask', x, undefined, 'f32', 'x');
      const k = input('dropoutMask', keep, xs.length, 'u8', 'keep');
      const s = Math.fround(scale);
      const out = new Float32Array(xs.length);
      for (let i = 0; i < xs.length; i++) out[i] = xs[i]! * (k[i] !== 0 ? s : 0);
      return heap.adopt(out);
    },

    geluBackward(dy: Storage, x: Storage): Storage {
      const xs = input('geluBackward', x, undefined, 'f32', 'x');
      const g = input('geluBackward', dy, xs.length, 'f32', 'dy');
      const out = new Float32Array(xs.length);
      for (let i = 0; i < xs.length; i++) out[i] = g[i]! * geluGrad(xs[i]!);
      return heap.adopt(out);
    },
  };
}
