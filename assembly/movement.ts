// Data movement: roll, pad, concat (2-d block copies), slice / general permute (strided row copies) and a
// blocked 4×4 SIMD transpose for permutes that swap the last two (merged) dimensions.
import { cnt, transpose4x4 } from './common.ts';

/** out[o, i, :] = x[o, (i - s) mod n, :] with 0 ≤ s < n, x viewed as [outer, n, inner]. */
export function roll3(x: usize, out: usize, outer: i32, n: i32, inner: i32, s: i32, es: i32): void {
  const row = <usize>inner * <usize>es;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>n * row;
    memory.copy(out + base + <usize>s * row, x + base, <usize>(n - s) * row);
    memory.copy(out + base, x + base + <usize>(n - s) * row, <usize>s * row);
  }
}

/** rows × rowBytes block copy between strided 2-d layouts (byte strides). */
export function copy2d(src: usize, dst: usize, rows: i32, rowBytes: i32, srcStride: i32, dstStride: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + <usize>r * <usize>dstStride, src + <usize>r * <usize>srcStride, <usize>rowBytes);
  }
}

/**
 * out (contiguous, shape shp[rank]) [i] = x[base + Σ i_d · str[d]] (element strides). Rows along the last
 * dim: memory.copy when its stride is 1, else a strided loop.
 */
export function stridedCopy(x: usize, out: usize, es: i32, rank: i32, shp: usize, str: usize, base: i32): void {
  const last = <usize>(rank - 1) << 2;
  const n = load<i32>(shp + last);
  const ls = load<i32>(str + last);
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(shp + (<usize>d << 2));
    store<i32>(cnt() + (<usize>d << 2), 0);
  }
  let off = base;
  const rowBytes = <usize>n * <usize>es;
  for (let r = 0; r < rows; r++) {
    const dst = out + <usize>r * rowBytes;
    if (ls == 1) {
      memory.copy(dst, x + <usize>off * <usize>es, rowBytes);
    } else if (es == 4) {
      for (let j = 0; j < n; j++) store<u32>(dst + (<usize>j << 2), load<u32>(x + (<usize>(off + j * ls) << 2)));
    } else {
      for (let j = 0; j < n; j++) store<u8>(dst + <usize>j, load<u8>(x + <usize>(off + j * ls)));
    }
    for (let d = rank - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const c = load<i32>(cnt() + dp) + 1;
      off += load<i32>(str + dp);
      if (c < load<i32>(shp + dp)) {
        store<i32>(cnt() + dp, c);
        break;
      }
      off -= load<i32>(str + dp) * c;
      store<i32>(cnt() + dp, 0);
    }
  }
}

/** Batched transpose of 4-byte elements: x [b, r, c] → out [b, c, r], 32×32 tiles of 4×4 SIMD blocks. */
export function transpose3(x: usize, out: usize, b: i32, r: i32, c: i32): void {
  const rs = <usize>c << 2;
  const cs = <usize>r << 2;
  const r4 = r & ~3;
  const c4 = c & ~3;
  for (let k = 0; k < b; k++) {
    const xb = x + <usize>k * <usize>r * rs;
    const ob = out + <usize>k * <usize>c * cs;
    for (let i0 = 0; i0 < r4; i0 += 32) {
      const i1 = min(i0 + 32, r4);
      for (let j0 = 0; j0 < c4; j0 += 32) {
        const j1 = min(j0 + 32, c4);
        for (let i = i0; i < i1; i += 4) {
          for (let j = j0; j < j1; j += 4) {
            transpose4x4(xb + <usize>i * rs + (<usize>j << 2), ob + <usize>j * cs + (<usize>i << 2), rs, cs);
          }
        }
      }
    }
    // Edges: the last r % 4 rows and c % 4 columns.
    for (let i = r4; i < r; i++) {
      for (let j = 0; j < c; j++) store<u32>(ob + <usize>j * cs + (<usize>i << 2), load<u32>(xb + <usize>i * rs + (<usize>j << 2)));
    }
    for (let i = 0; i < r4; i++) {
      for (let j = c4; j < c; j++) store<u32>(ob + <usize>j * cs + (<usize>i << 2), load<u32>(xb + <usize>i * rs + (<usize>j << 2)));
    }
  }
}

/** Map an output coordinate to a source coordinate along an axis of length n (-1: zero padding). */
@inline function padMap(o: i32, before: i32, n: i32, mode: i32): i32 {
  const s = o - before;
  if (s >= 0 && s < n) return s;
  if (mode == 0 || n == 0) return -1;
  if (mode == 1) {
    const m = s % n;
    return m < 0 ? m + n : m;
  }
  return s < 0 ? 0 : n - 1;
}

/**
 * Pad (mode 0 zero, 1 circular, 2 replicate; negative pads crop). shp: input shape, oshp: output shape,
 * before: pads before each axis; all i32[rank]. es: element size.
 */
export function padND(x: usize, out: usize, es: i32, rank: i32, shp: usize, oshp: usize, before: usize, mode: i32): void {
  const last = <usize>(rank - 1) << 2;
  const n = load<i32>(shp + last);
  const on = load<i32>(oshp + last);
  const bl = load<i32>(before + last);
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(oshp + (<usize>d << 2));
    store<i32>(cnt() + (<usize>d << 2), 0);
  }
  const rowBytes = <usize>on * <usize>es;
  const lo = max(0, bl);
  const hi = min(on, bl + n);
  for (let r = 0; r < rows; r++) {
    const dst = out + <usize>r * rowBytes;
    // Source row: every outer coordinate mapped; -1 anywhere means a zero row.
    let src = 0;
    let zero = false;
    let stride = n;
    for (let d = rank - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const s = padMap(load<i32>(cnt() + dp), load<i32>(before + dp), load<i32>(shp + dp), mode);
      if (s < 0) zero = true;
      src += s * stride;
      stride *= load<i32>(shp + dp);
    }
    if (zero) {
      memory.fill(dst, 0, rowBytes);
    } else {
      const sp = x + <usize>src * <usize>es;
      if (hi > lo) memory.copy(dst + <usize>lo * <usize>es, sp + <usize>(lo - bl) * <usize>es, <usize>(hi - lo) * <usize>es);
      for (let o = 0; o < on; o++) {
        if (o >= lo && o < hi) {
          o = hi - 1;
          continue;
        }
        const s = padMap(o, bl, n, mode);
        if (es == 4) store<u32>(dst + (<usize>o << 2), s < 0 ? 0 : load<u32>(sp + (<usize>s << 2)));
        else store<u8>(dst + <usize>o, s < 0 ? 0 : load<u8>(sp + <usize>s));
      }
    }
    for (let d = rank - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const c = load<i32>(cnt() + dp) + 1;
      if (c < load<i32>(oshp + dp)) {
        store<i32>(cnt() + dp, c);
        break;
      }
      store<i32>(cnt() + dp, 0);
    }
  }
}
