/**
 * WebGPU glue for data movement and indexing (shaders movement, indexing, topk): permute, slice, pad, roll,
 * concat, cumsum, indexSelect, gather, scatterAdd, oneHot, topk, maskedTopK.
 * Indices are not range-checked on the GPU (a kernel cannot throw): out-of-range ones read as 0 / are skipped.
 */
import type { Kernels, PadMode, Storage } from '../../kernels.ts';
import { sizeOf, stridesOf } from '../../../tensor/shape.ts';
import { Params, type GpuStorage, type WebGpuRuntime } from '../runtime.ts';
import { MAX_RANK, groups } from './util.ts';

const WG = 64;

interface RemapDim {
  out: number;
  stride: number;
  src: number;
  off: number;
}

export function movementKernels(
  rt: WebGpuRuntime,
): Pick<Kernels, 'permute' | 'slice' | 'pad' | 'roll' | 'concat' | 'cumsum' | 'indexSelect' | 'gather' | 'scatterAdd' | 'oneHot' | 'topk' | 'maskedTopK'> {
  /** out[o] = x[Σ_d src_d · stride_d], src_d = o_d + off_d, out-of-range by mode (0 zero, 1 wrap, 2 clamp). */
  const remap = (op: string, x: GpuStorage, dims: RemapDim[], mode: number): Storage => {
    // Drop size-1 output dims that read a fixed in-range source (they add a constant offset instead).
    let base = 0;
    const kept: RemapDim[] = [];
    for (const d of dims) {
      if (d.out === 1 && d.off >= 0 && d.off < d.src) base += d.off * d.stride;
      else kept.push(d);
    }
    if (kept.length > MAX_RANK) throw new Error(`${op}: webgpu supports at most ${MAX_RANK} dimensions here`);
    const n = sizeOf(dims.map((d) => d.out));
    const out = rt.alloc(n, x.dtype, false, op);
    if (n === 0) return out;
    if (base !== 0) {
      // Fold the constant offset into the first kept dimension's offset when possible, else a leading dim.
      kept.unshift({ out: 1, stride: base, src: 2, off: 1 });
    }
    if (kept.length > MAX_RANK) throw new Error(`${op}: webgpu supports at most ${MAX_RANK - 1} dimensions here`);
    const p = new Params().set(0, n).set(1, kept.length).set(2, mode);
    kept.forEach((d, i) => {
      p.set(8 + i, d.out).set(16 + i, d.stride).set(24 + i, d.src).set(32 + i, d.off | 0);
    });
    rt.dispatch({ family: 'movement', entry: 'remap', params: p, buffers: [x, out], groups: groups(n, WG) });
    return out;
  };

  return {
    permute(x: Storage, shape: number[], perm: number[]): Storage {
      const xs = rt.check(x, 'permute');
      const st = stridesOf(shape);
      return remap('permute', xs, perm.map((p) => ({ out: shape[p]!, stride: st[p]!, src: shape[p]!, off: 0 })), 0);
    },

    slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage {
      const xs = rt.check(x, 'slice');
      const st = stridesOf(shape);
      shape.forEach((n, d) => {
        const b = begin[d]!;
        const len = size[d]!;
        if (!(b >= 0 && len >= 0 && b + len <= n)) {
          throw new Error(`slice: begin ${b} size ${len} is out of range for axis ${d} of size ${n}`);
        }
      });
      return remap('slice', xs, shape.map((n, d) => ({ out: size[d]!, stride: st[d]!, src: n, off: begin[d]! })), 0);
    },

    pad(x: Storage, shape: number[], pads: Array<[number, number]>, mode: PadMode): Storage {
      const xs = rt.check(x, 'pad');
      const st = stridesOf(shape);
      const outShape = shape.map((n, d) => n + (pads[d]?.[0] ?? 0) + (pads[d]?.[1] ?? 0));
      if (outShape.some((n) => n < 0)) {
        throw new Error(`pad: pads ${JSON.stringify(pads)} give a negative size for shape [${shape.join(', ')}]`);
      }
      const code = { zero: 0, circular: 1, replicate: 2 }[mode];
      if (code === undefined) throw new Error(`pad: unknown mode '${String(mode)}'`);
      if (code !== 0 && sizeOf(outShape) > 0) {
        shape.forEach((n, d) => {
          if (n === 0 && outShape[d]! > 0) throw new Error(`pad: ${mode} padding of an empty axis ${d} has nothing to copy`);
        });
      }
      return remap('pad', xs, shape.map((n, d) => ({ out: outShape[d]!, stride: st[d]!, src: n, off: -(pads[d]?.[0] ?? 0) })), code);
    },

    roll(x: Storage, shape: number[], axis: number, shift: number): Storage {
      const xs = rt.check(x, 'roll');
      const st = stridesOf(shape);
      const n = shape[axis]!;
      const s = n > 0 ? ((shift % n) + n) % n : 0;
      return remap('roll', xs, shape.map((m, d) => ({ out: m, stride: st[d]!, src: m, off: d === axis ? -s : 0 })), 1);
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
      const parts = xs.map((x) => rt.check(x, 'concat'));
      const outer = sizeOf(first.slice(0, axis));
      const inner = sizeOf(first.slice(axis + 1));
      const total = shapes.reduce((t, s) => t + s[axis]!, 0);
      const out = rt.alloc(outer * total * inner, parts[0]!.dtype, false, 'concat');
      let off = 0;
      parts.forEach((part, i) => {
        const chunk = shapes[i]![axis]! * inner;
        const n = outer * chunk;
        if (n > 0) {
          rt.dispatch({
            family: 'movement', entry: 'copy_block',
            params: new Params().set(0, n).set(1, chunk).set(2, total * inner).set(3, off),
            buffers: [part, out], groups: groups(n, WG),
          });
        }
        off += chunk;
      });
      return out;
    },

    cumsum(x: Storage, shape: number[], axis: number, reverse: boolean): Storage {
      const xs = rt.check(x, 'cumsum');
      const n = shape[axis]!;
      const inner = sizeOf(shape.slice(axis + 1));
      const lines = sizeOf(shape.slice(0, axis)) * inner;
      const out = rt.alloc(xs.size, 'f32', false, 'cumsum');
      if (n === 0 || lines === 0) return out;
      rt.dispatch({
        family: 'movement', entry: 'cumsum',
        params: new Params().set(0, lines).set(1, n).set(2, inner).set(3, reverse ? 1 : 0),
        buffers: [xs, out], groups: groups(lines, WG),
      });
      return out;
    },

    indexSelect(x: Storage, shape: number[], axis: number, indices: Storage, n: number): Storage {
      const xs = rt.check(x, 'indexSelect');
      const len = shape[axis]!;
      const outer = sizeOf(shape.slice(0, axis));
      const inner = sizeOf(shape.slice(axis + 1));
      const size = outer * n * inner;
      const out = rt.alloc(size, xs.dtype, false, 'indexSelect');
      rt.dispatch({
        family: 'indexing', entry: 'index_select', params: new Params().set(0, size).set(1, n).set(2, len).set(3, inner),
        buffers: [xs, rt.check(indices, 'indexSelect'), out], groups: groups(size, WG),
      });
      return out;
    },

    gather(x: Storage, shape: number[], axis: number, indices: Storage, indexShape: number[]): Storage {
      const xs = rt.check(x, 'gather');
      if (indexShape.length > MAX_RANK) throw new Error(`gather: webgpu supports rank ≤ ${MAX_RANK}`);
      const size = sizeOf(indexShape);
      const out = rt.alloc(size, xs.dtype, false, 'gather');
      const p = new Params().set(0, size).set(1, indexShape.length).set(2, axis).set(3, shape[axis]!)
        .setAll(8, indexShape).setAll(16, stridesOf(shape));
      rt.dispatch({
        family: 'indexing', entry: 'gather', params: p, buffers: [xs, rt.check(indices, 'gather'), out],
        groups: groups(size, WG),
      });
      return out;
    },

    scatterAdd(src: Storage, indices: Storage, indexShape: number[], axis: number, outShape: number[]): Storage {
      const ss = rt.check(src, 'scatterAdd');
      if (outShape.length > MAX_RANK) throw new Error(`scatterAdd: webgpu supports rank ≤ ${MAX_RANK}`);
      const size = sizeOf(outShape);
      const out = rt.alloc(size, 'f32', false, 'scatterAdd');
      const p = new Params().set(0, size).set(1, outShape.length).set(2, axis)
        .set(3, sizeOf(indexShape) === 0 ? 0 : indexShape[axis]!)
        .setAll(8, outShape).setAll(16, indexShape).setAll(24, stridesOf(indexShape));
      rt.dispatch({
        family: 'indexing', entry: 'scatter_add', params: p, buffers: [ss, rt.check(indices, 'scatterAdd'), out],
        groups: groups(size, WG),
      });
      return out;
    },

    oneHot(indices: Storage, n: number, depth: number): Storage {
      const size = n * depth;
      const out = rt.alloc(size, 'f32', false, 'oneHot');
      rt.dispatch({
        family: 'indexing', entry: 'one_hot', params: new Params().set(0, size).set(1, depth),
        buffers: [rt.check(indices, 'oneHot'), out], groups: groups(size, WG),
      });
      return out;
    },

    topk(x: Storage, shape: number[], k: number, largest: boolean) {
      const xs = rt.check(x, 'topk');
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      if (!Number.isInteger(k) || k < 0 || k > d) {
        throw new Error(`topk: k = ${k} is out of range for a last axis of size ${d}`);
      }
      const rows = d === 0 ? sizeOf(shape.slice(0, -1)) : xs.size / d;
      const values = rt.alloc(rows * k, 'f32', false, 'topk');
      const indices = rt.alloc(rows * k, 'i32', false, 'topk');
      if (k > 0) {
        rt.dispatch({
          family: 'topk', entry: 'topk', params: new Params().set(0, rows * d).set(1, d).set(2, k).set(3, largest ? 1 : 0),
          buffers: [xs, values, indices], groups: groups(rows * d, WG),
        });
      }
      return { values, indices };
    },

    maskedTopK(x: Storage, candidates: Storage, k: number): Storage {
      const xs = rt.check(x, 'maskedTopK');
      const out = rt.alloc(xs.size, 'u8', false, 'maskedTopK');
      if (xs.size === 0) return out;
      rt.dispatch({
        family: 'topk', entry: 'masked_topk', params: new Params().set(0, xs.size).set(1, k),
        buffers: [xs, rt.check(candidates, 'maskedTopK'), out], groups: 1,
      });
      return out;
    },
  };
}
