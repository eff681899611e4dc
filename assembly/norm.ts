// Layer norm forward/backward and batch-norm statistics. Statistics and the affine map run in f64x2 (two
// lanes per v128, four f32 inputs per step) and are rounded once to f32, like the reference.
import { lo64, hi64, join32 } from './vmath.ts';

@inline function ld2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Row sum of d f32 in f64 (pairs of lanes, fixed order). */
@inline function rowSum(base: usize, d: i32): f64 {
  const d4 = d & ~3;
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  for (let j = 0; j < d4; j += 4) {
    const v = v128.load(base + (<usize>j << 2));
    a = f64x2.add(a, lo64(v));
    b = f64x2.add(b, hi64(v));
  }
  const s = f64x2.add(a, b);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (let j = d4; j < d; j++) sum += <f64>load<f32>(base + (<usize>j << 2));
  return sum;
}

/** Σ (x − mu)² over a row, f64. */
@inline function rowSq(base: usize, d: i32, mu: f64): f64 {
  const d4 = d & ~3;
  const m = f64x2.splat(mu);
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  for (let j = 0; j < d4; j += 4) {
    const v = v128.load(base + (<usize>j << 2));
    const c0 = f64x2.sub(lo64(v), m);
    const c1 = f64x2.sub(hi64(v), m);
    a = f64x2.add(a, f64x2.mul(c0, c0));
    b = f64x2.add(b, f64x2.mul(c1, c1));
  }
  const s = f64x2.add(a, b);
  let sq = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (let j = d4; j < d; j++) {
    const c = <f64>load<f32>(base + (<usize>j << 2)) - mu;
    sq += c * c;
  }
  return sq;
}

export function layerNormRows(
  x: usize, g: usize, b: usize, y: usize, mean: usize, rstd: usize, rows: i32, d: i32, eps: f64,
): void {
  const d4 = d & ~3;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>d << 2;
    const base = x + off;
    const mu = rowSum(base, d) / <f64>d;
    const rs = 1.0 / Math.sqrt(rowSq(base, d, mu) / <f64>d + eps);
    const vm = f64x2.splat(mu);
    const vr = f64x2.splat(rs);
    for (let j = 0; j < d4; j += 4) {
      const p = <usize>j << 2;
      const v = v128.load(base + p);
      const gv = v128.load(g + p);
      const bv = v128.load(b + p);
      const y0 = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(lo64(v), vm), vr), lo64(gv)), lo64(bv));
      const y1 = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(hi64(v), vm), vr), hi64(gv)), hi64(bv));
      v128.store(y + off + p, join32(y0, y1));
    }
    for (let j = d4; j < d; j++) {
      const p = <usize>j << 2;
      store<f32>(y + off + p, <f32>((<f64>load<f32>(base + p) - mu) * rs * <f64>load<f32>(g + p) + <f64>load<f32>(b + p)));
    }
    store<f32>(mean + (<usize>r << 2), <f32>mu);
    store<f32>(rstd + (<usize>r << 2), <f32>rs);
  }
}

/** ws: 2·d f64 (dgamma, dbeta accumulators). */
export function layerNormBackwardRows(
  dy: usize, x: usize, g: usize, mean: usize, rstd: usize, dx: usize, dg: usize, db: usize, rows: i32, d: i32, ws: usize,
): void {
  const d2 = d & ~1;
  const wg = ws;
  const wb = ws + (<usize>d << 3);
  for (let j = 0; j < 2 * d; j++) store<f64>(ws + (<usize>j << 3), 0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>d << 2;
    const m = f64x2.splat(<f64>load<f32>(mean + (<usize>r << 2)));
    const sc = <f64>load<f32>(rstd + (<usize>r << 2));
    const s = f64x2.splat(sc);
    let sg = f64x2.splat(0);
    let sgx = f64x2.splat(0);
    for (let j = 0; j < d2; j += 2) {
      const p = <usize>j << 2;
      const q = <usize>j << 3;
      const xh = f64x2.mul(f64x2.sub(ld2(x + off + p), m), s);
      const gy = ld2(dy + off + p);
      const gj = f64x2.mul(gy, ld2(g + p));
      sg = f64x2.add(sg, gj);
      sgx = f64x2.add(sgx, f64x2.mul(gj, xh));
      v128.store(wg + q, f64x2.add(v128.load(wg + q), f64x2.mul(gy, xh)));
      v128.store(wb + q, f64x2.add(v128.load(wb + q), gy));
    }
    let sumG = f64x2.extract_lane(sg, 0) + f64x2.extract_lane(sg, 1);
    let sumGX = f64x2.extract_lane(sgx, 0) + f64x2.extract_lane(sgx, 1);
    if (d2 < d) {
      const p = <usize>d2 << 2;
      const q = <usize>d2 << 3;
      const xh = (<f64>load<f32>(x + off + p) - f64x2.extract_lane(m, 0)) * sc;
      const gy = <f64>load<f32>(dy + off + p);
      const gj = gy * <f64>load<f32>(g + p);
      sumG += gj;
      sumGX += gj * xh;
      store<f64>(wg + q, load<f64>(wg + q) + gy * xh);
      store<f64>(wb + q, load<f64>(wb + q) + gy);
    }
    const mg = f64x2.splat(sumG / <f64>d);
    const mgx = f64x2.splat(sumGX / <f64>d);
    for (let j = 0; j < d2; j += 2) {
      const p = <usize>j << 2;
      const xh = f64x2.mul(f64x2.sub(ld2(x + off + p), m), s);
      const gj = f64x2.mul(ld2(dy + off + p), ld2(g + p));
      const v = f64x2.mul(s, f64x2.sub(f64x2.sub(gj, mg), f64x2.mul(xh, mgx)));
      v128.store64_lane(dx + off + p, f32x4.demote_f64x2_zero(v), 0);
    }
    if (d2 < d) {
      const p = <usize>d2 << 2;
      const xh = (<f64>load<f32>(x + off + p) - f64x2.extract_lane(m, 0)) * sc;
      const gj = <f64>load<f32>(dy + off + p) * <f64>load<f32>(g + p);
      store<f32>(dx + off + p, <f32>(sc * (gj - f64x2.extract_lane(mg, 0) - xh * f64x2.extract_lane(mgx, 0))));
    }
  }
  for (let j = 0; j < d; j++) {
    store<f32>(dg + (<usize>j << 2), <f32>load<f64>(wg + (<usize>j << 3)));
    store<f32>(db + (<usize>j << 2), <f32>load<f64>(wb + (<usize>j << 3)));
  }
}

/** Mean and biased variance per channel of x [outer, c, inner]; ws: 2·c f64. */
export function batchNormStats3(x: usize, mean: usize, varOut: usize, outer: i32, c: i32, inner: i32, ws: usize): void {
  const sum = ws;
  const sq = ws + (<usize>c << 3);
  for (let j = 0; j < 2 * c; j++) store<f64>(ws + (<usize>j << 3), 0);
  const count = <f64>outer * <f64>inner;
  if (inner == 1) {
    const c2 = c & ~1;
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>o * <usize>c << 2);
      for (let j = 0; j < c2; j += 2) {
        const q = sum + (<usize>j << 3);
        v128.store(q, f64x2.add(v128.load(q), ld2(row + (<usize>j << 2))));
      }
      if (c2 < c) store<f64>(sum + (<usize>c2 << 3), load<f64>(sum + (<usize>c2 << 3)) + <f64>load<f32>(row + (<usize>c2 << 2)));
    }
    for (let j = 0; j < c; j++) store<f64>(sum + (<usize>j << 3), load<f64>(sum + (<usize>j << 3)) / count);
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>o * <usize>c << 2);
      for (let j = 0; j < c2; j += 2) {
        const q = sq + (<usize>j << 3);
        const dv = f64x2.sub(ld2(row + (<usize>j << 2)), v128.load(sum + (<usize>j << 3)));
        v128.store(q, f64x2.add(v128.load(q), f64x2.mul(dv, dv)));
      }
      if (c2 < c) {
        const dv = <f64>load<f32>(row + (<usize>c2 << 2)) - load<f64>(sum + (<usize>c2 << 3));
        store<f64>(sq + (<usize>c2 << 3), load<f64>(sq + (<usize>c2 << 3)) + dv * dv);
      }
    }
  } else {
    for (let ch = 0; ch < c; ch++) {
      let s: f64 = 0;
      for (let o = 0; o < outer; o++) s += rowSum(x + ((<usize>o * <usize>c + <usize>ch) * <usize>inner << 2), inner);
      const mu = s / count;
      let v: f64 = 0;
      for (let o = 0; o < outer; o++) v += rowSq(x + ((<usize>o * <usize>c + <usize>ch) * <usize>inner << 2), inner, mu);
      store<f64>(sum + (<usize>ch << 3), mu);
      store<f64>(sq + (<usize>ch << 3), v);
    }
  }
  for (let j = 0; j < c; j++) {
    store<f32>(mean + (<usize>j << 2), <f32>load<f64>(sum + (<usize>j << 3)));
    store<f32>(varOut + (<usize>j << 2), <f32>(load<f64>(sq + (<usize>j << 3)) / count));
  }
}
