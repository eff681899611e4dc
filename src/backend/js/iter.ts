/**
 * Index arithmetic shared by the js kernels: walking strided views in row-major order, and splitting a
 * shape around one axis. Written for clarity first; the inner loops stay in the kernels so they are tight.
 */
import type { AnyTypedArray } from '../kernels.ts';
import { sizeOf, stridesOf } from '../../tensor/shape.ts';
import { newArray, dtypeOf } from './store.ts';

/**
 * Visit an output of shape `outShape` one innermost row at a time, in row-major order. For every row,
 * `fn(outOffset, offs)` gets the flat output offset of the row's first element and, for each input j,
 * `offs[j]`: the flat offset of that row's first element in input j (walked with `strides[j]`, which is 0
 * on broadcast axes). The row length is the last dimension (1 for a scalar). Nothing is visited when the
 * output is empty. `offs` is reused between calls: read it, do not keep it.
 */
export function forEachRow(
  outShape: readonly number[],
  strides: readonly (readonly number[])[],
  fn: (outOffset: number, offs: readonly number[]) => void,
): void {
  const rank = outShape.length;
  const size = sizeOf(outShape);
  if (size === 0) return;
  const rowLen = rank === 0 ? 1 : outShape[rank - 1]!;
  const rows = size / rowLen;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const offs = new Array<number>(strides.length).fill(0);
  for (let r = 0; r < rows; r++) {
    fn(r * rowLen, offs);
    // Advance the odometer over the outer axes (last outer axis fastest).
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < strides.length; j++) offs[j]! += strides[j]![d]!;
      if (idx[d]! < outShape[d]!) break;
      for (let j = 0; j < strides.length; j++) offs[j]! -= strides[j]![d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/** The stride of the innermost axis (0 for rank 0), for use with `forEachRow`. */
export function lastStride(strides: readonly number[]): number {
  return strides.length === 0 ? 0 : strides[strides.length - 1]!;
}

/**
 * Flat offsets, in row-major order over `shape`, of the elements addressed by `strides`.
 * Used to list "the elements of one reduction" or "the start of every output" once, up front.
 */
export function offsetsOf(shape: readonly number[], strides: readonly number[]): Int32Array {
  const out = new Int32Array(sizeOf(shape));
  const s = lastStride(strides);
  forEachRow(shape, [strides], (o, offs) => {
    const n = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    const base = offs[0]!;
    for (let j = 0; j < n; j++) out[o + j] = base + j * s;
  });
  return out;
}

/** Split `shape` around `axis`: [product of the axes before, the axis length, product of the axes after]. */
export function splitAt(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  return {
    outer: sizeOf(shape.slice(0, axis)),
    n: shape[axis]!,
    inner: sizeOf(shape.slice(axis + 1)),
  };
}

/**
 * Gather with one index map per axis: out[o_0, …, o_{r-1}] = x[maps[0][o_0], …, maps[r-1][o_{r-1}]],
 * or 0 where any map entry is -1. This one routine does slice, roll and every pad mode; each kernel only
 * says where each output coordinate comes from. The output keeps x's element type.
 */
export function remap(x: AnyTypedArray, shape: readonly number[], maps: readonly Int32Array[]): AnyTypedArray {
  const outShape = maps.map((m) => m.length);
  const out = newArray(dtypeOf(x), sizeOf(outShape));
  const rank = shape.length;
  if (out.length === 0) return out;
  if (rank === 0) {
    out[0] = x[0]!;
    return out;
  }
  const strides = stridesOf(shape);
  const last = maps[rank - 1]!;
  const lastS = strides[rank - 1]!;
  const rowLen = last.length;
  const idx = new Array<number>(rank - 1).fill(0);
  const rows = out.length / rowLen;
  for (let r = 0; r < rows; r++) {
    // Offset of the row in x, or -1 when an outer coordinate falls in zero padding.
    let base = 0;
    for (let d = 0; d < rank - 1; d++) {
      const src = maps[d]![idx[d]!]!;
      if (src < 0) {
        base = -1;
        break;
      }
      base += src * strides[d]!;
    }
    if (base >= 0) {
      const o = r * rowLen;
      for (let j = 0; j < rowLen; j++) {
        const src = last[j]!;
        if (src >= 0) out[o + j] = x[base + src * lastS]!;
      }
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      if (idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}
