/**
 * wasm glue: reduce (sum / mean / max / min over any axes) and argmax. Adjacent reduced (or kept) axes are
 * merged, then each reduced group is removed innermost first with one [outer, r, inner] kernel call.
 */
import type { ReduceOp, Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import type { WasmStorage } from '../runtime.ts';
import type { KernelFamily } from './index.ts';
import { checkAxis, inPtr, splitAt, wasmFn, withF32 } from './util.ts';

const OP_CODE: Record<ReduceOp, number> = { sum: 0, mean: 0, max: 2, min: 3 };
const EMPTY_VALUE: Record<ReduceOp, number> = { sum: 0, mean: NaN, max: -Infinity, min: Infinity };

export const reduceFamily: KernelFamily = (rt) => {
  const reduce3 = wasmFn(rt, 'reduce3');
  const divScalar = wasmFn(rt, 'divScalar');
  const fill32 = wasmFn(rt, 'fill32');
  const argmax3 = wasmFn(rt, 'argmax3');
  const bits = new Float32Array(1);
  const bitsI = new Int32Array(bits.buffer);

  return {
    reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
      if (!(op in OP_CODE)) throw new Error(`reduce: unknown op '${String(op)}'`);
      inPtr(rt, 'reduce', x, sizeOf(shape));
      const red = new Set<number>();
      for (const a of axes) {
        checkAxis('reduce', a, shape.length);
        red.add(a);
      }
      let count = 1;
      for (const a of red) count *= shape[a]!;
      const outSize = sizeOf(shape.filter((_, i) => !red.has(i)));
      const out = rt.alloc(outSize, 'f32', false);
      if (outSize === 0) return out;
      if (count === 0) {
        bits[0] = EMPTY_VALUE[op];
        fill32(out.ptr, outSize, bitsI[0]!);
        return out;
      }
      // Groups of merged dims: [size, reduced?], size-1 dims dropped.
      const groups: { n: number; r: boolean }[] = [];
      shape.forEach((n, i) => {
        if (n === 1) return;
        const r = red.has(i);
        const last = groups[groups.length - 1];
        if (last && last.r === r) last.n *= n;
        else groups.push({ n, r });
      });
      withF32(rt, x, (xf) => {
        let cur: Storage = xf;
        const temps: WasmStorage[] = [];
        try {
          let steps = groups.filter((g) => g.r).length;
          if (steps === 0) {
            rt.u8().copyWithin(out.ptr, rt.ptr(cur), rt.ptr(cur) + outSize * 4);
          }
          for (let gi = groups.length - 1; gi >= 0; gi--) {
            const g = groups[gi]!;
            if (!g.r) continue;
            let outer = 1;
            let inner = 1;
            for (let j = 0; j < gi; j++) outer *= groups[j]!.n;
            for (let j = gi + 1; j < groups.length; j++) inner *= groups[j]!.n;
            steps--;
            const dst = steps === 0 ? out : rt.alloc(outer * inner, 'f32', false);
            if (steps > 0) temps.push(dst);
            reduce3(OP_CODE[op], rt.ptr(cur), dst.ptr, outer, g.n, inner);
            cur = dst;
            groups.splice(gi, 1);
          }
        } finally {
          temps.forEach((t) => rt.free(t));
        }
      });
      if (op === 'mean') divScalar(out.ptr, outSize, count);
      return out;
    },

    argmax(x: Storage, shape: number[], axis: number): Storage {
      inPtr(rt, 'argmax', x, sizeOf(shape));
      checkAxis('argmax', axis, shape.length);
      const { outer, n, inner } = splitAt(shape, axis);
      const out = rt.alloc(outer * inner, 'i32', false);
      if (outer * inner === 0) return out;
      if (n === 0) {
        rt.free(out);
        throw new Error(`argmax: axis ${axis} of shape [${shape.join(', ')}] is empty; there is no maximum`);
      }
      withF32(rt, x, (xf) => argmax3(rt.ptr(xf), out.ptr, outer, n, inner));
      return out;
    },
  };
};
