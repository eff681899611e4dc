/** Creation kernels: fill, cast, random. */
import type { DType, Kernels, Storage } from '../kernels.ts';
import { bernoulliStream, normalStream, uniformStream } from '../../tensor/random.ts';
import { input, newArray, type JsHeap } from './store.ts';
import { toI32 } from './math.ts';

/** Convert one number to the value a storage of `dtype` holds (the contract's cast rules). */
export function castValue(v: number, dtype: DType): number {
  switch (dtype) {
    case 'f32':
      return v; // the Float32Array store rounds to f32
    case 'i32':
      return toI32(v);
    case 'u8':
      return v !== 0 ? 1 : 0; // NaN !== 0, so NaN → 1, like (x != 0) in every language
  }
}

export function creationKernels(heap: JsHeap): Pick<Kernels, 'fill' | 'cast' | 'random'> {
  return {
    fill(size: number, dtype: DType, value: number): Storage {
      const data = newArray(dtype, size);
      data.fill(castValue(value, dtype));
      return heap.adopt(data);
    },

    cast(x: Storage, dtype: DType): Storage {
      const src = input('cast', x);
      const out = newArray(dtype, src.length);
      for (let i = 0; i < src.length; i++) out[i] = castValue(src[i]!, dtype);
      return heap.adopt(out);
    },

    random(size: number, dist: 'uniform' | 'normal' | 'bernoulli', seed: number, offset: number, p: number): Storage {
      // The stream is defined once in src/tensor/random.ts; calling it is what makes this the reference.
      switch (dist) {
        case 'uniform': {
          const out = new Float32Array(size);
          uniformStream(seed, offset, out);
          return heap.adopt(out);
        }
        case 'normal': {
          const out = new Float32Array(size);
          normalStream(seed, offset, out);
          return heap.adopt(out);
        }
        case 'bernoulli': {
          const out = new Uint8Array(size);
          bernoulliStream(seed, offset, p, out);
          return heap.adopt(out);
        }
        default:
          throw new Error(`random: unknown distribution '${String(dist)}'`);
      }
    },
  };
}
