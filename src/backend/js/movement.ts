/** Data movement: cumsum, roll, pad, concat, slice, permute. Outputs keep the input's element type. */
import type { Kernels, PadMode, Storage } from '../kernels.ts';
import { sizeOf, stridesOf } from '../../tensor/shape.ts';
import { input, newArray, dtypeOf, type JsHeap } from './store.ts';
import { forEachRow, lastStride, remap, splitAt } from './iter.ts';

/** Identity map 0..n-1 for axes a kernel does not move. */
function identity(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}

export function movementKernels(
  heap: JsHeap,
): Pick<Kernels, 'cumsum' | 'roll' | 'pad' | 'concat' | 'slice' | 'permute'> {
  return {
    cumsum(x: Storage, shape: number[], axis: number, reverse: boolean): Storage {
      const src = input('cumsum', x, sizeOf(shape));
      const { outer, n, inner } = splitAt(shape, axis);
      const out = new Float32Array(src.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * n * inner + i;
          // The running sum stays in f64; each output is rounded from it (no f32 drift along the axis).
          let acc = 0;
          for (let s = 0; s < n; s++) {
            const t = reverse ? n - 1 - s : s;
            acc += src[base + t * inner]!;
            out[base + t * inner] = acc;
          }
        }
      }
      return heap.adopt(out);
    },

    roll(x: Storage, shape: number[], axis: number, shift: number): Storage {
      const src = input('roll', x, sizeOf(shape));
      const maps = shape.map(identity);
      const n = shape[axis]!;
      if (n > 0) {
        const m = maps[axis]!;
        for (let i = 0; i < n; i++) m[i] = (((i - shift) % n) + n) % n; // out[i] = x[(i − shift) mod n]
      }
      return heap.adopt(remap(src, shape, maps));
    },

    pad(x: Storage, shape: number[], pads: Array<[number, number]>, mode: PadMode): Storage {
      const src = input('pad', x, sizeOf(shape));
      const outShape = shape.map((n, d) => n + (pads[d]?.[0] ?? 0) + (pads[d]?.[1] ?? 0));
      if (outShape.some((n) => n < 0)) {
        throw new Error(`pad: pads ${JSON.stringify(pads)} give a negative size for shape [${shape.join(', ')}]`);
      }
      const outEmpty = sizeOf(outShape) === 0;
      const maps = shape.map((n, d) => {
        const before = pads[d]?.[0] ?? 0;
        const m = new Int32Array(outShape[d]!);
        for (let o = 0; o < m.length; o++) {
          const s = o - before; // source coordinate, possibly outside [0, n)
          if (s >= 0 && s < n) {
            m[o] = s;
          } else if (mode === 'zero') {
            m[o] = -1;
          } else if (n === 0) {
            if (outEmpty) continue; // nothing will be read
            throw new Error(`pad: ${mode} padding of an empty axis ${d} has nothing to copy`);
          } else if (mode === 'circular') {
            m[o] = ((s % n) + n) % n; // wraps as many times as needed
          } else if (mode === 'replicate') {
            m[o] = s < 0 ? 0 : n - 1;
          } else {
            throw new Error(`pad: unknown mode '${String(mode)}'`);
          }
        }
        return m;
      });
      return heap.adopt(remap(src, shape, maps));
    },

    concat(xs: Storage[], shapes: number[][], axis: number): Storage {
      if (xs.length === 0 || xs.length !== shapes.length) {
        throw new Error(`concat: got ${xs.length} storages and ${shapes.length} shapes; need the same, at least one`);
      }
      const first = shapes[0]!;
      for (const s of shapes) {
        if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
          throw new Error(`concat: shape [${s.join(', ')}] does not match [${first.join(', ')}] off axis ${axis}`);
        }
      }
      const parts = xs.map((x, i) => input('concat', x, sizeOf(shapes[i]!)));
      const { outer, inner } = splitAt(first, axis);
      const total = shapes.reduce((t, s) => t + s[axis]!, 0);
      const out = newArray(dtypeOf(parts[0]!), outer * total * inner);
      // Each outer slab of the output is the inputs' slabs laid end to end.
      let to = 0;
      for (let o = 0; o < outer; o++) {
        for (let p = 0; p < parts.length; p++) {
          const chunk = shapes[p]![axis]! * inner;
          const part = parts[p]!;
          for (let i = 0; i < chunk; i++) out[to++] = part[o * chunk + i]!;
        }
      }
      return heap.adopt(out);
    },

    slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage {
      const src = input('slice', x, sizeOf(shape));
      const maps = shape.map((n, d) => {
        const b = begin[d]!;
        const len = size[d]!;
        if (!(b >= 0 && len >= 0 && b + len <= n)) {
          throw new Error(`slice: begin ${b} size ${len} is out of range for axis ${d} of size ${n}`);
        }
        const m = new Int32Array(len);
        for (let i = 0; i < len; i++) m[i] = b + i;
        return m;
      });
      return heap.adopt(remap(src, shape, maps));
    },

    permute(x: Storage, shape: number[], perm: number[]): Storage {
      const src = input('permute', x, sizeOf(shape));
      const seen = new Set(perm);
      if (perm.length !== shape.length || seen.size !== perm.length || perm.some((p) => !(p >= 0 && p < shape.length))) {
        throw new Error(`permute: [${perm.join(', ')}] is not a permutation of ${shape.length} axes`);
      }
      const strides = stridesOf(shape);
      const outShape = perm.map((p) => shape[p]!);
      // Walk the output in order; input strides follow the permutation.
      const walk = perm.map((p) => strides[p]!);
      const ls = lastStride(walk);
      const rowLen = outShape.length === 0 ? 1 : outShape[outShape.length - 1]!;
      const out = newArray(dtypeOf(src), src.length);
      forEachRow(outShape, [walk], (o, offs) => {
        const base = offs[0]!;
        for (let j = 0; j < rowLen; j++) out[o + j] = src[base + j * ls]!;
      });
      return heap.adopt(out);
    },
  };
}
