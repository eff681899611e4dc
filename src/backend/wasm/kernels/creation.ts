/** wasm glue: fill, cast, random (Philox4x32-10, bit-identical with src/tensor/random.ts). */
import type { DType, Storage } from '../../kernels.ts';
import { seedKey } from '../../../tensor/random.ts';
import type { KernelFamily } from './index.ts';
import { convert, wasmFn } from './util.ts';

const f32Bits = new Float32Array(1);
const f32BitsI = new Int32Array(f32Bits.buffer);

/** f32 → i32 as the contract casts: truncate toward zero, saturate, NaN → 0. */
function toI32(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return Math.trunc(v);
}

export const creationFamily: KernelFamily = (rt) => {
  const fill32 = wasmFn(rt, 'fill32');
  const fill8 = wasmFn(rt, 'fill8');
  const uniform = wasmFn(rt, 'randomUniform');
  const normal = wasmFn(rt, 'randomNormal');
  return {
    fill(size: number, dtype: DType, value: number): Storage {
      if (!(Number.isInteger(size) && size >= 0)) throw new Error(`fill: size ${size} must be an integer ≥ 0`);
      const out = rt.alloc(size, dtype, false);
      if (size === 0) return out;
      if (dtype === 'u8') {
        fill8(out.ptr, size, value !== 0 ? 1 : 0);
      } else if (dtype === 'i32') {
        fill32(out.ptr, size, toI32(value));
      } else {
        f32Bits[0] = value;
        fill32(out.ptr, size, f32BitsI[0]!);
      }
      return out;
    },

    cast(x: Storage, dtype: DType): Storage {
      return convert(rt, x, dtype);
    },

    random(size: number, dist: 'uniform' | 'normal' | 'bernoulli', seed: number, offset: number, p: number): Storage {
      const [k0, k1] = seedKey(seed);
      if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + size <= Number.MAX_SAFE_INTEGER)) {
        throw new Error(`random: offset ${offset} must be a non-negative safe integer`);
      }
      if (!(Number.isInteger(size) && size >= 0)) throw new Error(`random: size ${size} must be an integer ≥ 0`);
      switch (dist) {
        case 'uniform': {
          const out = rt.alloc(size, 'f32', false);
          if (size > 0) uniform(out.ptr, size, k0, k1, offset, 0, 0);
          return out;
        }
        case 'bernoulli': {
          const out = rt.alloc(size, 'u8', false);
          if (size > 0) uniform(out.ptr, size, k0, k1, offset, 1, Math.fround(p));
          return out;
        }
        case 'normal': {
          const out = rt.alloc(size, 'f32', false);
          if (size > 0) normal(out.ptr, size, k0, k1, offset);
          return out;
        }
        default:
          throw new Error(`random: unknown distribution '${String(dist)}'`);
      }
    },
  };
};
