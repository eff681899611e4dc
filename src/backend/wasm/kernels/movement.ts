/** wasm glue: cumsum, roll, pad, concat, slice, permute. Outputs keep the input's dtype (cumsum: f32). */
import type { PadMode, Storage } from '../../kernels.ts';
import { sizeOf, stridesOf } from '../../../tensor/shape.ts';
import type { KernelFamily } from './index.ts';
import { checkAxis, elemBytes, inPtr, mergeDims, MAX_RANK, splitAt, wasmFn, withF32 } from './util.ts';
import { MIN_ELEMENTS_PER_THREAD, splitRange, threadsFor } from './parallel.ts';

const PAD_CODE: Record<PadMode, number> = { zero: 0, circular: 1, replicate: 2 };

export const movementFamily: KernelFamily = (rt) => {
  const cumsum3 = wasmFn(rt, 'cumsum3');
  const roll3 = wasmFn(rt, 'roll3');
  const padND = wasmFn(rt, 'padND');
  const copy2d = wasmFn(rt, 'copy2d');
  const stridedCopy = wasmFn(rt, 'stridedCopy');
  const transpose3 = wasmFn(rt, 'transpose3');

  const copyAll = (src: number, dst: number, bytes: number) => rt.u8().copyWithin(dst, src, src + bytes);

  return {
    cumsum(x: Storage, shape: number[], axis: number, reverse: boolean): Storage {
      inPtr(rt, 'cumsum', x, sizeOf(shape));
      checkAxis('cumsum', axis, shape.length);
      const { outer, n, inner } = splitAt(shape, axis);
      const out = rt.alloc(x.size, 'f32', false);
      if (x.size === 0) return out;
      withF32(rt, x, (xf) => {
        rt.withTemp((tmp) => cumsum3(rt.ptr(xf), out.ptr, outer, n, inner, reverse ? 1 : 0, tmp.bytes(8 * inner)));
      });
      return out;
    },

    roll(x: Storage, shape: number[], axis: number, shift: number): Storage {
      const px = inPtr(rt, 'roll', x, sizeOf(shape));
      checkAxis('roll', axis, shape.length);
      if (!Number.isInteger(shift)) throw new Error(`roll: shift ${shift} must be an integer`);
      const { outer, n, inner } = splitAt(shape, axis);
      const out = rt.alloc(x.size, x.dtype, false);
      if (x.size === 0) return out;
      const s = ((shift % n) + n) % n;
      roll3(px, out.ptr, outer, n, inner, s, elemBytes(x.dtype));
      return out;
    },

    pad(x: Storage, shape: number[], pads: Array<[number, number]>, mode: PadMode): Storage {
      const px = inPtr(rt, 'pad', x, sizeOf(shape));
      const code = PAD_CODE[mode];
      if (code === undefined) throw new Error(`pad: unknown mode '${String(mode)}'`);
      const before = shape.map((_, d) => pads[d]?.[0] ?? 0);
      const outShape = shape.map((n, d) => n + (pads[d]?.[0] ?? 0) + (pads[d]?.[1] ?? 0));
      if (outShape.some((n) => n < 0) || before.some((b) => !Number.isInteger(b))) {
        throw new Error(`pad: pads ${JSON.stringify(pads)} give a negative size for shape [${shape.join(', ')}]`);
      }
      const outSize = sizeOf(outShape);
      const out = rt.alloc(outSize, x.dtype, false);
      if (outSize === 0) return out;
      if (code !== 0) {
        const d = shape.findIndex((n) => n === 0);
        if (d >= 0) {
          rt.free(out);
          throw new Error(`pad: ${mode} padding of an empty axis ${d} has nothing to copy`);
        }
      }
      if (shape.length === 0) {
        copyAll(px, out.ptr, elemBytes(x.dtype));
        return out;
      }
      if (shape.length > MAX_RANK) throw new Error(`pad: rank ${shape.length} exceeds the wasm limit of ${MAX_RANK}`);
      rt.withTemp((tmp) => {
        padND(px, out.ptr, elemBytes(x.dtype), shape.length, tmp.ints(shape), tmp.ints(outShape), tmp.ints(before), code);
      });
      return out;
    },

    concat(xs: Storage[], shapes: number[][], axis: number): Storage {
      if (xs.length === 0 || xs.length !== shapes.length) {
        throw new Error(`concat: got ${xs.length} storages and ${shapes.length} shapes; need the same, at least one`);
      }
      const first = shapes[0]!;
      checkAxis('concat', axis, first.length);
      for (const s of shapes) {
        if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
          throw new Error(`concat: shape [${s.join(', ')}] does not match [${first.join(', ')}] off axis ${axis}`);
        }
      }
      const dtype = xs[0]!.dtype;
      xs.forEach((x, i) => {
        inPtr(rt, 'concat', x, sizeOf(shapes[i]!));
        if (x.dtype !== dtype) throw new Error(`concat: input ${i} has dtype ${x.dtype}, input 0 has ${dtype}`);
      });
      const { outer, inner } = splitAt(first, axis);
      const total = shapes.reduce((t, s) => t + s[axis]!, 0);
      const es = elemBytes(dtype);
      const out = rt.alloc(outer * total * inner, dtype, false);
      if (out.size === 0) return out;
      const rowBytes = total * inner * es;
      let offset = 0;
      xs.forEach((x, i) => {
        const chunk = shapes[i]![axis]! * inner * es;
        if (chunk > 0) copy2d(rt.ptr(x), out.ptr + offset, outer, chunk, chunk, rowBytes);
        offset += chunk;
      });
      return out;
    },

    slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage {
      const px = inPtr(rt, 'slice', x, sizeOf(shape));
      shape.forEach((n, d) => {
        const b = begin[d]!;
        const len = size[d]!;
        if (!(Number.isInteger(b) && Number.isInteger(len) && b >= 0 && len >= 0 && b + len <= n)) {
          throw new Error(`slice: begin ${b} size ${len} is out of range for axis ${d} of size ${n}`);
        }
      });
      const outShape = shape.map((_, d) => size[d]!);
      const outSize = sizeOf(outShape);
      const out = rt.alloc(outSize, x.dtype, false);
      if (outSize === 0) return out;
      const strides = stridesOf(shape);
      const base = shape.reduce((t, _, d) => t + begin[d]! * strides[d]!, 0);
      const m = mergeDims('slice', outShape, [strides]);
      rt.withTemp((tmp) => {
        stridedCopy(px, out.ptr, elemBytes(x.dtype), m.shape.length, tmp.ints(m.shape), tmp.ints(m.strides[0]!), base);
      });
      return out;
    },

    permute(x: Storage, shape: number[], perm: number[]): Storage {
      const px = inPtr(rt, 'permute', x, sizeOf(shape));
      const seen = new Set(perm);
      if (perm.length !== shape.length || seen.size !== perm.length || perm.some((p) => !(Number.isInteger(p) && p >= 0 && p < shape.length))) {
        throw new Error(`permute: [${perm.join(', ')}] is not a permutation of ${shape.length} axes`);
      }
      const out = rt.alloc(x.size, x.dtype, false);
      if (x.size === 0) return out;
      const strides = stridesOf(shape);
      const outShape = perm.map((p) => shape[p]!);
      const m = mergeDims('permute', outShape, [perm.map((p) => strides[p]!)]);
      const s = m.shape;
      const w = m.strides[0]!;
      const r = s.length;
      const es = elemBytes(x.dtype);
      if (r === 1 && w[0] === 1) {
        copyAll(px, out.ptr, x.size * es);
      } else if (
        es === 4 && r >= 2 && r <= 3 && w[r - 2] === 1 && w[r - 1] === s[r - 2] &&
        (r === 2 || w[0] === s[1]! * s[2]!)
      ) {
        // out [B, P, Q] with x [B, Q, P]: a batched transpose of the last two dims (threads: over B).
        const b = r === 3 ? s[0]! : 1;
        const mat = s[r - 1]! * s[r - 2]!;
        const T = b > 1 ? threadsFor(rt, x.size, MIN_ELEMENTS_PER_THREAD) : 1;
        if (T <= 1) transpose3(px, out.ptr, b, s[r - 1]!, s[r - 2]!);
        else {
          rt.parallel('transpose3', splitRange(b, T).map(([k0, k1]) => (k1 > k0
            ? [px + 4 * k0 * mat, out.ptr + 4 * k0 * mat, k1 - k0, s[r - 1]!, s[r - 2]!]
            : null)));
        }
      } else {
        // A strided walk; threads take ranges of the outermost output dim (their own shape array).
        const inner = x.size / s[0]!;
        const T = r > 1 ? threadsFor(rt, x.size, MIN_ELEMENTS_PER_THREAD) : 1;
        rt.withTemp((tmp) => {
          const pw = tmp.ints(w);
          rt.parallel('stridedCopy', splitRange(s[0]!, T).map(([i0, i1]) => (i1 > i0
            ? [px + es * i0 * w[0]!, out.ptr + es * i0 * inner, es, r, tmp.ints([i1 - i0, ...s.slice(1)]), pw, 0]
            : null)));
        });
      }
      return out;
    },
  };
};
