// Softmax / log-softmax over the last axis of [rows, d]. The row max is an f32x4 scan; exponentials,
// sums and the final division run in f64x2 (two lanes per v128) and are rounded once, like the reference.
import { lo64, hi64, join32, expD, logD } from './vmath.ts';

@inline function rowMax(base: usize, d: i32): f32 {
  const d4 = d & ~3;
  let mv = f32x4.splat(-Infinity);
  for (let j = 0; j < d4; j += 4) mv = f32x4.max(mv, v128.load(base + (<usize>j << 2)));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let j = d4; j < d; j++) m = max(m, load<f32>(base + (<usize>j << 2)));
  return m;
}

/** ws: workspace of d f64 (the exponentials of one row). */
export function softmaxRows(x: usize, out: usize, rows: i32, d: i32, ws: usize): void {
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const base = x + (<usize>r * <usize>d << 2);
    const dst = out + (<usize>r * <usize>d << 2);
    const mm = f64x2.splat(<f64>rowMax(base, d));
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (let j = 0; j < d4; j += 4) {
      const v = v128.load(base + (<usize>j << 2));
      const e0 = expD(f64x2.sub(lo64(v), mm));
      const e1 = expD(f64x2.sub(hi64(v), mm));
      v128.store(ws + (<usize>j << 3), e0);
      v128.store(ws + (<usize>j << 3), e1, 16);
      s0 = f64x2.add(s0, e0);
      s1 = f64x2.add(s1, e1);
    }
    const s = f64x2.add(s0, s1);
    let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (let j = d4; j < d; j++) {
      const e = f64x2.extract_lane(expD(f64x2.sub(f64x2.splat(<f64>load<f32>(base + (<usize>j << 2))), mm)), 0);
      store<f64>(ws + (<usize>j << 3), e);
      sum += e;
    }
    const vs = f64x2.splat(sum);
    for (let j = 0; j < d4; j += 4) {
      const w = ws + (<usize>j << 3);
      v128.store(dst + (<usize>j << 2), join32(f64x2.div(v128.load(w), vs), f64x2.div(v128.load(w, 16), vs)));
    }
    for (let j = d4; j < d; j++) store<f32>(dst + (<usize>j << 2), <f32>(load<f64>(ws + (<usize>j << 3)) / sum));
  }
}

export function logSoftmaxRows(x: usize, out: usize, rows: i32, d: i32): void {
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const base = x + (<usize>r * <usize>d << 2);
    const dst = out + (<usize>r * <usize>d << 2);
    const m = <f64>rowMax(base, d);
    const mm = f64x2.splat(m);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (let j = 0; j < d4; j += 4) {
      const v = v128.load(base + (<usize>j << 2));
      s0 = f64x2.add(s0, expD(f64x2.sub(lo64(v), mm)));
      s1 = f64x2.add(s1, expD(f64x2.sub(hi64(v), mm)));
    }
    const s = f64x2.add(s0, s1);
    let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (let j = d4; j < d; j++) {
      sum += f64x2.extract_lane(expD(f64x2.sub(f64x2.splat(<f64>load<f32>(base + (<usize>j << 2))), mm)), 0);
    }
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
