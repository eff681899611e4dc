// Layer norm forward/backward and batch-norm statistics.
//
// Layer norm works in f32x4: a row (d_model values) sits in L1, the statistics are two-pass (mean, then squared
// deviations: no E[x²] − E[x]² cancellation) with two interleaved accumulators, and a 64-wide row sums ~16
// terms per lane, so f32 stays within a few ulp of the f64 reference — at twice the f64x2 lanes per
// instruction. dgamma / dbeta sum over every row of the batch, so they accumulate in f32 over blocks of
// LN_BLOCK rows and in f64 across blocks. Batch-norm statistics (sums over outer·inner values) stay f64.
import { lo64, hi64 } from './vmath.ts';
import { hsum } from './common.ts';

@inline function ld2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Rows whose dgamma / dbeta contributions are summed in f32 before they are added to the f64 totals. */
const LN_BLOCK: i32 = 64;

/** Row sum of d f32 (two f32x4 accumulators, fixed order). */
@inline function rowSumF(base: usize, d: i32): f32 {
  const d8 = d & ~7;
  const d4 = d & ~3;
  let a = f32x4.splat(0);
  let b = f32x4.splat(0);
  for (let j = 0; j < d8; j += 8) {
    const p = base + (<usize>j << 2);
    a = f32x4.add(a, v128.load(p));
    b = f32x4.add(b, v128.load(p, 16));
  }
  if (d4 > d8) a = f32x4.add(a, v128.load(base + (<usize>d8 << 2)));
  let sum = hsum(f32x4.add(a, b));
  for (let j = d4; j < d; j++) sum += load<f32>(base + (<usize>j << 2));
  return sum;
}

/** Σ (x − mu)² over a row, f32. */
@inline function rowSqF(base: usize, d: i32, mu: f32): f32 {
  const d8 = d & ~7;
  const d4 = d & ~3;
  const m = f32x4.splat(mu);
  let a = f32x4.splat(0);
  let b = f32x4.splat(0);
  for (let j = 0; j < d8; j += 8) {
    const p = base + (<usize>j << 2);
    const c0 = f32x4.sub(v128.load(p), m);
    const c1 = f32x4.sub(v128.load(p, 16), m);
    a = f32x4.add(a, f32x4.mul(c0, c0));
    b = f32x4.add(b, f32x4.mul(c1, c1));
  }
  if (d4 > d8) {
    const c = f32x4.sub(v128.load(base + (<usize>d8 << 2)), m);
    a = f32x4.add(a, f32x4.mul(c, c));
  }
  let sq = hsum(f32x4.add(a, b));
  for (let j = d4; j < d; j++) {
    const c = load<f32>(base + (<usize>j << 2)) - mu;
    sq += c * c;
  }
  return sq;
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
    const mu = <f32>(<f64>rowSumF(base, d) / <f64>d);
    const rs = <f32>(1.0 / Math.sqrt(<f64>rowSqF(base, d, mu) / <f64>d + eps));
    const vm = f32x4.splat(mu);
    const vr = f32x4.splat(rs);
    for (let j = 0; j < d4; j += 4) {
      const p = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(base + p), vm), vr);
      v128.store(y + off + p, f32x4.add(f32x4.mul(xh, v128.load(g + p)), v128.load(b + p)));
    }
    for (let j = d4; j < d; j++) {
      const p = <usize>j << 2;
      store<f32>(y + off + p, (load<f32>(base + p) - mu) * rs * load<f32>(g + p) + load<f32>(b + p));
    }
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
  }
}

/** Add the f32 block sums (d values at blk) into the f64 totals (at tot) and clear them. */
@inline function flushBlock(blk: usize, tot: usize, d: i32): void {
  for (let j = 0; j < d; j++) {
    const p = <usize>j << 2;
    store<f64>(tot + (<usize>j << 3), load<f64>(tot + (<usize>j << 3)) + <f64>load<f32>(blk + p));
    store<f32>(blk + p, 0);
  }
}

/** ws: 2·d f64 (dgamma, dbeta totals) then 2·d f32 (their block sums), 16-byte aligned by the caller. */
export function layerNormBackwardRows(
  dy: usize, x: usize, g: usize, mean: usize, rstd: usize, dx: usize, dg: usize, db: usize, rows: i32, d: i32, ws: usize,
): void {
  const d4 = d & ~3;
  const tg = ws;
  const tb = ws + (<usize>d << 3);
  const bg = ws + (<usize>d << 4);
  const bb = bg + (<usize>d << 2);
  memory.fill(ws, 0, <usize>d * 24);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>d << 2;
    const mu = load<f32>(mean + (<usize>r << 2));
    const sc = load<f32>(rstd + (<usize>r << 2));
    const m = f32x4.splat(mu);
    const s = f32x4.splat(sc);
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    for (let j = 0; j < d4; j += 4) {
      const p = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off + p), m), s);
      const gy = v128.load(dy + off + p);
      const gj = f32x4.mul(gy, v128.load(g + p));
      sg = f32x4.add(sg, gj);
      sgx = f32x4.add(sgx, f32x4.mul(gj, xh));
      v128.store(bg + p, f32x4.add(v128.load(bg + p), f32x4.mul(gy, xh)));
      v128.store(bb + p, f32x4.add(v128.load(bb + p), gy));
    }
    let sumG = hsum(sg);
    let sumGX = hsum(sgx);
    for (let j = d4; j < d; j++) {
      const p = <usize>j << 2;
      const xh = (load<f32>(x + off + p) - mu) * sc;
      const gy = load<f32>(dy + off + p);
      const gj = gy * load<f32>(g + p);
      sumG += gj;
      sumGX += gj * xh;
      store<f32>(bg + p, load<f32>(bg + p) + gy * xh);
      store<f32>(bb + p, load<f32>(bb + p) + gy);
    }
    const mgs = <f32>(<f64>sumG / <f64>d);
    const mgxs = <f32>(<f64>sumGX / <f64>d);
    const mg = f32x4.splat(mgs);
    const mgx = f32x4.splat(mgxs);
    for (let j = 0; j < d4; j += 4) {
      const p = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(x + off + p), m), s);
      const gj = f32x4.mul(v128.load(dy + off + p), v128.load(g + p));
      v128.store(dx + off + p, f32x4.mul(s, f32x4.sub(f32x4.sub(gj, mg), f32x4.mul(xh, mgx))));
    }
    for (let j = d4; j < d; j++) {
      const p = <usize>j << 2;
      const xh = (load<f32>(x + off + p) - mu) * sc;
      const gj = load<f32>(dy + off + p) * load<f32>(g + p);
      store<f32>(dx + off + p, sc * (gj - mgs - xh * mgxs));
    }
    if ((r + 1) % LN_BLOCK == 0 || r == rows - 1) {
      flushBlock(bg, tg, d);
      flushBlock(bb, tb, d);
    }
  }
  for (let j = 0; j < d; j++) {
    store<f32>(dg + (<usize>j << 2), <f32>load<f64>(tg + (<usize>j << 3)));
    store<f32>(db + (<usize>j << 2), <f32>load<f64>(tb + (<usize>j << 3)));
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
