/** WebGPU glue for fill, cast, random, unary, geluBackward, dropoutMask, binary, compare and where (shaders elementwise, compare, random). */
import type { BinaryOp, CompareOp, DType, Kernels, Storage, UnaryOp } from '../../kernels.ts';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS } from '../../kernels.ts';
import { broadcastShapes, sizeOf } from '../../../tensor/shape.ts';
import { seedKey } from '../../../tensor/random.ts';
import { Params, f32bits, type WebGpuRuntime } from '../runtime.ts';
import { groups, setBroadcast, wgslType } from './util.ts';

const WG = 64;

/** The 32-bit pattern a storage of `dtype` holds for `value` (the contract's cast rules). */
function fillBits(value: number, dtype: DType): number {
  switch (dtype) {
    case 'f32':
      return f32bits(value);
    case 'i32': {
      if (Number.isNaN(value)) return 0;
      if (value >= 2147483647) return 2147483647;
      if (value <= -2147483648) return 0x80000000;
      return Math.trunc(value) >>> 0;
    }
    case 'u8':
      return value !== 0 ? 1 : 0;
  }
}

export function elementwiseKernels(
  rt: WebGpuRuntime,
): Pick<Kernels, 'fill' | 'cast' | 'random' | 'unary' | 'geluBackward' | 'dropoutMask' | 'binary' | 'compare' | 'where'> {
  return {
    fill(size: number, dtype: DType, value: number): Storage {
      const out = rt.alloc(size, dtype, false, 'fill');
      rt.dispatch({
        family: 'elementwise', entry: 'fill', params: new Params().set(0, size).set(1, fillBits(value, dtype)),
        buffers: [out], groups: groups(size, WG),
      });
      return out;
    },

    cast(x: Storage, dtype: DType): Storage {
      const xs = rt.check(x, 'cast');
      const out = rt.alloc(xs.size, dtype, false, 'cast');
      if (xs.dtype === dtype) {
        rt.copy(xs, 0, out, 0, xs.size);
        return out;
      }
      rt.dispatch({
        family: 'elementwise', entry: 'cast_',
        spec: { TX: wgslType(xs.dtype), TO: wgslType(dtype), OP: dtype === 'f32' ? 0 : dtype === 'i32' ? 1 : 2 },
        params: new Params().set(0, xs.size), buffers: [xs, out], groups: groups(xs.size, WG),
      });
      return out;
    },

    random(size: number, dist: 'uniform' | 'normal' | 'bernoulli', seed: number, offset: number, p: number): Storage {
      const [k0, k1] = seedKey(seed);
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new Error(`random: offset must be a non-negative safe integer, got ${offset}`);
      }
      const code = { uniform: 0, bernoulli: 1, normal: 2 }[dist];
      if (code === undefined) throw new Error(`random: unknown distribution '${String(dist)}'`);
      const out = rt.alloc(size, dist === 'bernoulli' ? 'u8' : 'f32', false, 'random');
      const params = new Params()
        .set(0, size).set(1, k0).set(2, k1)
        .set(3, offset % 4294967296).set(4, Math.floor(offset / 4294967296))
        .setF(5, p);
      rt.dispatch({ family: 'random', entry: 'random', spec: { DIST: code }, params, buffers: [out], groups: groups(size, WG) });
      return out;
    },

    unary(op: UnaryOp, x: Storage): Storage {
      const code = UNARY_OPS.indexOf(op);
      if (code < 0) throw new Error(`unary: unknown op '${String(op)}'`);
      const xs = rt.check(x, 'unary');
      const out = rt.alloc(xs.size, 'f32', false, 'unary');
      rt.dispatch({
        family: 'elementwise', entry: 'unary', spec: { TX: wgslType(xs.dtype), TO: 'f32', OP: code },
        params: new Params().set(0, xs.size), buffers: [xs, out], groups: groups(xs.size, WG),
      });
      return out;
    },

    geluBackward(dy: Storage, x: Storage): Storage {
      const ds = rt.check(dy, 'geluBackward');
      const xs = rt.check(x, 'geluBackward');
      for (const [s, what] of [[xs, 'x'], [ds, 'dy']] as const) {
        if (s.dtype !== 'f32') throw new Error(`geluBackward: ${what} has dtype ${s.dtype}; expected f32`);
      }
      if (ds.size !== xs.size) {
        throw new Error(`geluBackward: dy storage holds ${ds.size} elements, but its shape needs ${xs.size}`);
      }
      const out = rt.alloc(xs.size, 'f32', false, 'geluBackward');
      rt.dispatch({
        family: 'elementwise', entry: 'gelu_backward', params: new Params().set(0, xs.size),
        buffers: [ds, xs, out], groups: groups(xs.size, WG),
      });
      return out;
    },

    dropoutMask(x: Storage, keep: Storage, scale: number): Storage {
      const op = 'dropoutMask';
      const xs = rt.check(x, op);
      const ks = rt.check(keep, op);
      if (xs.dtype !== 'f32') throw new Error(`${op}: x has dtype ${xs.dtype}; expected f32`);
      if (ks.dtype !== 'u8') throw new Error(`${op}: keep has dtype ${ks.dtype}; expected u8`);
      if (ks.size !== xs.size) throw new Error(`${op}: keep storage holds ${ks.size} elements, but x has ${xs.size}`);
      const out = rt.alloc(xs.size, 'f32', false, op);
      rt.dispatch({
        family: 'elementwise', entry: 'dropout_mask', spec: { TB: 'u32' }, params: new Params().set(0, xs.size).setF(1, scale),
        buffers: [xs, ks, out], groups: groups(xs.size, WG),
      });
      return out;
    },

    binary(op: BinaryOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const code = BINARY_OPS.indexOf(op);
      if (code < 0) throw new Error(`binary: unknown op '${String(op)}'`);
      const as = rt.check(a, 'binary');
      const bs = rt.check(b, 'binary');
      const outShape = broadcastShapes('binary', aShape, bShape);
      const n = sizeOf(outShape);
      const intOp = as.dtype === 'i32' && bs.dtype === 'i32' && op !== 'div' && op !== 'pow';
      const out = rt.alloc(n, intOp ? 'i32' : 'f32', false, 'binary');
      const params = new Params().set(0, n);
      setBroadcast(params, 'binary', outShape, [aShape, bShape]);
      rt.dispatch({
        family: 'elementwise', entry: intOp ? 'binary_int' : 'binary',
        spec: { TA: wgslType(as.dtype), TB: wgslType(bs.dtype), TO: intOp ? 'i32' : 'f32', OP: code },
        params, buffers: [as, bs, out], groups: groups(n, WG),
      });
      return out;
    },

    compare(op: CompareOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const code = COMPARE_OPS.indexOf(op);
      if (code < 0) throw new Error(`compare: unknown op '${String(op)}'`);
      const as = rt.check(a, 'compare');
      const bs = rt.check(b, 'compare');
      const outShape = broadcastShapes('compare', aShape, bShape);
      const n = sizeOf(outShape);
      const out = rt.alloc(n, 'u8', false, 'compare');
      const params = new Params().set(0, n);
      setBroadcast(params, 'compare', outShape, [aShape, bShape]);
      const intOp = as.dtype === 'i32' && bs.dtype === 'i32';
      rt.dispatch({
        family: 'compare', entry: intOp ? 'compare_int' : 'compare',
        spec: { TA: wgslType(as.dtype), TB: wgslType(bs.dtype), OP: code },
        params, buffers: [as, bs, out], groups: groups(n, WG),
      });
      return out;
    },

    where(cond: Storage, condShape: number[], a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage {
      const cs = rt.check(cond, 'where');
      const as = rt.check(a, 'where');
      const bs = rt.check(b, 'where');
      const outShape = broadcastShapes('where', condShape, aShape, bShape);
      const n = sizeOf(outShape);
      const same = as.dtype === bs.dtype;
      const out = rt.alloc(n, same ? as.dtype : 'f32', false, 'where');
      const params = new Params().set(0, n);
      setBroadcast(params, 'where', outShape, [aShape, bShape, condShape]);
      const spec = same
        ? { TA: 'u32', TB: 'u32', TO: 'u32' }
        : { TA: wgslType(as.dtype), TB: wgslType(bs.dtype), TO: 'f32' };
      rt.dispatch({ family: 'compare', entry: 'where_', spec, params, buffers: [cs, as, bs, out], groups: groups(n, WG) });
      return out;
    },
  };
}
