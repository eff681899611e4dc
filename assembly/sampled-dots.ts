// The inner loop nest of the sampled dense-dense products (SDDMM): CSR's `sddmm` (assembly/sparse.ts, i32
// column indices) and the constant fan-in `fanInSddmm` (assembly/fan-in.ts, u16 column indices) compute, for
// the stored entries of one output row, dot products of that row's dense vector with the rows of a dense
// operand the entries name. One generic nest serves both: AssemblyScript compiles it once per index type
// (like a C++ template), so each caller's loop has its own index width and nothing is decided at run time.
import { madd } from './common.ts';

/** Four rows' values at byte offset tb, one per lane (the scalar tail of a lane block). */
@inline function gather4(b0: usize, b1: usize, b2: usize, b3: usize, tb: usize): v128 {
  let col = f32x4.splat(load<f32>(b0 + tb));
  col = f32x4.replace_lane(col, 1, load<f32>(b1 + tb));
  col = f32x4.replace_lane(col, 2, load<f32>(b2 + tb));
  return f32x4.replace_lane(col, 3, load<f32>(b3 + tb));
}

/** The row of `b` (rows of `rowBytes`) that index slot `slot` of the entry run at `cp` names. */
@inline function rowAt<I>(b: usize, cp: usize, slot: usize, rowBytes: usize): usize {
  return b + <usize>load<I>(cp + slot * sizeof<I>()) * rowBytes;
}

/**
 * out[q] = (first ? 0 : out[q]) + Σ_{t ∈ [t0, t1)} ar[t] · B[idx[q]][t], in increasing t, for the entries
 * q ∈ [q0, q1) (idx: index type I; B: rows of `rowBytes` bytes). Eight (then four) entries at a time: their B
 * rows are interleaved into f32x4 columns, one lane per entry, each lane adding in the scalar path's order, with
 * two independent chains; the rest one at a time. The caller cuts t into blocks that keep B's slice in L2 and
 * passes first = (t0 == 0), so every entry's sum runs in the same order as one pass over all of t.
 */
@inline export function sampledRowDots<I>(
  q0: i32, q1: i32, idx: usize, ar: usize, b: usize, rowBytes: usize, t0: i32, t1: i32, first: bool, out: usize,
): void {
  let q = q0;
  for (; q + 8 <= q1; q += 8) {
    const cp = idx + <usize>q * sizeof<I>();
    const op = out + (<usize>q << 2);
    const b0 = rowAt<I>(b, cp, 0, rowBytes);
    const b1 = rowAt<I>(b, cp, 1, rowBytes);
    const b2 = rowAt<I>(b, cp, 2, rowBytes);
    const b3 = rowAt<I>(b, cp, 3, rowBytes);
    const b4 = rowAt<I>(b, cp, 4, rowBytes);
    const b5 = rowAt<I>(b, cp, 5, rowBytes);
    const b6 = rowAt<I>(b, cp, 6, rowBytes);
    const b7 = rowAt<I>(b, cp, 7, rowBytes);
    let acc = first ? f32x4.splat(0) : v128.load(op);
    let acd = first ? f32x4.splat(0) : v128.load(op, 16);
    let t = t0;
    for (; t + 2 <= t1; t += 2) {
      const tb = <usize>t << 2;
      // Entries 0..3 (and 4..7) at t, t+1: pairs interleave into columns with two shuffles each.
      const x0 = v128.load64_zero(b0 + tb), x1 = v128.load64_zero(b1 + tb);
      const x2 = v128.load64_zero(b2 + tb), x3 = v128.load64_zero(b3 + tb);
      const u0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5); // b0[t] b1[t] b0[t+1] b1[t+1]
      const u1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const a0 = v128.load32_splat(ar + tb);
      const a1 = v128.load32_splat(ar + tb, 4);
      acc = madd(acc, a0, v128.shuffle<f32>(u0, u1, 0, 1, 4, 5));
      const y0 = v128.load64_zero(b4 + tb), y1 = v128.load64_zero(b5 + tb);
      const y2 = v128.load64_zero(b6 + tb), y3 = v128.load64_zero(b7 + tb);
      const w0 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
      const w1 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
      acd = madd(acd, a0, v128.shuffle<f32>(w0, w1, 0, 1, 4, 5));
      acc = madd(acc, a1, v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
      acd = madd(acd, a1, v128.shuffle<f32>(w0, w1, 2, 3, 6, 7));
    }
    for (; t < t1; t++) {
      const tb = <usize>t << 2;
      const av = v128.load32_splat(ar + tb);
      acc = madd(acc, av, gather4(b0, b1, b2, b3, tb));
      acd = madd(acd, av, gather4(b4, b5, b6, b7, tb));
    }
    v128.store(op, acc);
    v128.store(op, acd, 16);
  }
  for (; q + 4 <= q1; q += 4) {
    const cp = idx + <usize>q * sizeof<I>();
    const op = out + (<usize>q << 2);
    const b0 = rowAt<I>(b, cp, 0, rowBytes);
    const b1 = rowAt<I>(b, cp, 1, rowBytes);
    const b2 = rowAt<I>(b, cp, 2, rowBytes);
    const b3 = rowAt<I>(b, cp, 3, rowBytes);
    let acc = first ? f32x4.splat(0) : v128.load(op);
    for (let t = t0; t < t1; t++) {
      const tb = <usize>t << 2;
      acc = madd(acc, v128.load32_splat(ar + tb), gather4(b0, b1, b2, b3, tb));
    }
    v128.store(op, acc);
  }
  for (; q < q1; q++) {
    const br = rowAt<I>(b, idx + <usize>q * sizeof<I>(), 0, rowBytes);
    const op = out + (<usize>q << 2);
    let s: f32 = first ? 0 : load<f32>(op);
    for (let t = t0; t < t1; t++) s += load<f32>(ar + (<usize>t << 2)) * load<f32>(br + (<usize>t << 2));
    store<f32>(op, s);
  }
}
