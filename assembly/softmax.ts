// Softmax / log-softmax over the last axis of [rows, d]. Row max: f32x4 scan. e^{x−max}: f32x4 (expDiffF4,
// ~1 ulp, x − max carried exactly). Row sums are accumulated in f64 (two f64x2 accumulators, fixed order);
// softmax scales by the f32 reciprocal of the sum (≤ 1 ulp more than a division, much cheaper);
// log-softmax's (x − max) − log Σ is formed in f64x2 and rounded once.
import { lo64, hi64, join32, logD, expDiffF4 } from './vmath.ts';
import { tailA, tailB, loadTail, storeTail } from './common.ts';

@inline function rowMax(base: usize, d: i32): f32 {
  const d4 = d & ~3;
  let mv = f32x4.splat(-Infinity);
  // pmax is one maxps (f32x4.max is ~7 instructions). It may drop a NaN from the running max, but a NaN
  // element still makes its own e^{x−m} and hence the row sum NaN, so the row comes out NaN either way.
  for (let j = 0; j < d4; j += 4) mv = f32x4.pmax(mv, v128.load(base + (<usize>j << 2)));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let j = d4; j < d; j++) m = max(m, load<f32>(base + (<usize>j << 2)));
  return m;
}

/** Sum of the first t (< 4) lanes of an f32x4, in f64. */
@inline function tailSum(e: v128, t: i32): f64 {
  let acc: f64 = <f64>f32x4.extract_lane(e, 0);
  if (t > 1) acc += <f64>f32x4.extract_lane(e, 1);
  if (t > 2) acc += <f64>f32x4.extract_lane(e, 2);
  return acc;
}

/** Σ e^{x−m} over a row in f64; when `dst` is non-zero the f32 exponentials are stored there too. */
@inline function expSum(base: usize, dst: usize, d: i32, m: f32): f64 {
  const d4 = d & ~3;
  const mv = f32x4.splat(m);
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  for (let j = 0; j < d4; j += 4) {
    const p = <usize>j << 2;
    const e = expDiffF4(v128.load(base + p), mv);
    if (dst) v128.store(dst + p, e);
    s0 = f64x2.add(s0, lo64(e));
    s1 = f64x2.add(s1, hi64(e));
  }
  const s = f64x2.add(s0, s1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  const t = d - d4;
  if (t > 0) {
    const p = <usize>d4 << 2;
    const e = expDiffF4(loadTail(base + p, t, tailA()), mv);
    if (dst) storeTail(dst + p, e, t, tailB());
    sum += tailSum(e, t);
  }
  return sum;
}

/** ws is unused (kept for the glue's signature). */
export function softmaxRows(x: usize, out: usize, rows: i32, d: i32, ws: usize): void {
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const base = x + (<usize>r * <usize>d << 2);
    const dst = out + (<usize>r * <usize>d << 2);
    const inv = <f32>(1.0 / expSum(base, dst, d, rowMax(base, d)));
    const vs = f32x4.splat(inv);
    for (let j = 0; j < d4; j += 4) {
      const p = dst + (<usize>j << 2);
      v128.store(p, f32x4.mul(v128.load(p), vs));
    }
    for (let j = d4; j < d; j++) {
      const p = dst + (<usize>j << 2);
      store<f32>(p, load<f32>(p) * inv);
    }
  }
}

export function logSoftmaxRows(x: usize, out: usize, rows: i32, d: i32): void {
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const base = x + (<usize>r * <usize>d << 2);
    const dst = out + (<usize>r * <usize>d << 2);
    const m = <f64>rowMax(base, d);
    const sum = expSum(base, 0, d, <f32>m);
    const ls = f64x2.extract_lane(logD(f64x2.splat(sum)), 0);
    const sub = f64x2.splat(m + 0.0);
    const vl = f64x2.splat(ls);
    for (let j = 0; j < d4; j += 4) {
      const v = v128.load(base + (<usize>j << 2));
      v128.store(dst + (<usize>j << 2), join32(
        f64x2.sub(f64x2.sub(lo64(v), sub), vl),
        f64x2.sub(f64x2.sub(hi64(v), sub), vl),
      ));
    }
    for (let j = d4; j < d; j++) {
      store<f32>(dst + (<usize>j << 2), <f32>(<f64>load<f32>(base + (<usize>j << 2)) - m - ls));
    }
  }
}
