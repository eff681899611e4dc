// Reductions (sum / max / min; mean is sum then divide), argmax and cumsum on [outer, R, inner] views.
// Along the last axis (inner = 1) rows are reduced with two f32x4 accumulators; along an outer axis the
// reduction is vectorised across the kept inner dimension, which keeps increasing-r order per output.
import { tailA, tailB, loadTail, storeTail, hsum } from './common.ts';

@inline function rInit(op: i32): f32 {
  return op == 2 ? -Infinity : op == 3 ? Infinity : 0;
}
@inline function rV(op: i32, a: v128, b: v128): v128 {
  return op == 2 ? f32x4.max(a, b) : op == 3 ? f32x4.min(a, b) : f32x4.add(a, b);
}
@inline function rS(op: i32, a: f32, b: f32): f32 {
  return op == 2 ? max(a, b) : op == 3 ? min(a, b) : a + b;
}

@inline function rowsImpl(op: i32, x: usize, out: usize, rows: i32, r: i32): void {
  const r8 = r & ~7;
  for (let row = 0; row < rows; row++) {
    const base = x + (<usize>row * <usize>r << 2);
    let a0 = f32x4.splat(rInit(op));
    let a1 = a0;
    for (let i = 0; i < r8; i += 8) {
      const p = base + (<usize>i << 2);
      a0 = rV(op, a0, v128.load(p));
      a1 = rV(op, a1, v128.load(p, 16));
    }
    const v = rV(op, a0, a1);
    let acc: f32;
    if (op == 0) acc = hsum(v);
    else acc = rS(op, rS(op, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), rS(op, f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
    for (let i = r8; i < r; i++) acc = rS(op, acc, load<f32>(base + (<usize>i << 2)));
    store<f32>(out + (<usize>row << 2), acc);
  }
}

@inline function midImpl(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  const n4 = inner & ~3;
  const t = inner - n4;
  const tp = <usize>n4 << 2;
  const init = f32x4.splat(rInit(op));
  for (let o = 0; o < outer; o++) {
    const dst = out + (<usize>o * <usize>inner << 2);
    for (let i = 0; i < n4; i += 4) v128.store(dst + (<usize>i << 2), init);
    for (let i = n4; i < inner; i++) store<f32>(dst + (<usize>i << 2), rInit(op));
    for (let k = 0; k < r; k++) {
      const src = x + ((<usize>o * <usize>r + <usize>k) * <usize>inner << 2);
      for (let i = 0; i < n4; i += 4) {
        const p = <usize>i << 2;
        v128.store(dst + p, rV(op, v128.load(dst + p), v128.load(src + p)));
      }
      if (t > 0) storeTail(dst + tp, rV(op, loadTail(dst + tp, t, tailA()), loadTail(src + tp, t, tailB())), t, tailA());
    }
  }
}

/** op: 0 sum, 2 max, 3 min over r of x viewed as [outer, r, inner] → out [outer, inner]. */
export function reduce3(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  if (inner == 1) {
    if (op == 2) rowsImpl(2, x, out, outer, r);
    else if (op == 3) rowsImpl(3, x, out, outer, r);
    else rowsImpl(0, x, out, outer, r);
  } else {
    if (op == 2) midImpl(2, x, out, outer, r, inner);
    else if (op == 3) midImpl(3, x, out, outer, r, inner);
    else midImpl(0, x, out, outer, r, inner);
  }
}

/** x[i] /= d in place (mean). */
export function divScalar(x: usize, n: i32, d: f32): void {
  const n4 = n & ~3;
  const vd = f32x4.splat(d);
  for (let i = 0; i < n4; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.div(v128.load(p), vd));
  }
  for (let i = n4; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, load<f32>(p) / d);
  }
}

/** Index of the max along r of [outer, r, inner] (r ≥ 1); first on ties; NaN counts as largest. */
export function argmax3(x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const base = x + (<usize>o * <usize>r << 2);
      let best = 0;
      let bv = load<f32>(base);
      if (bv == bv) {
        for (let k = 1; k < r; k++) {
          const v = load<f32>(base + (<usize>k << 2));
          if (v != v) {
            best = k;
            break;
          }
          if (v > bv) {
            best = k;
            bv = v;
          }
        }
      }
      store<i32>(out + (<usize>o << 2), best);
    }
    return;
  }
  const n4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const src0 = x + (<usize>o * <usize>r * <usize>inner << 2);
    const dst = out + (<usize>o * <usize>inner << 2);
    for (let i = 0; i < n4; i += 4) {
      const p = <usize>i << 2;
      let bv = v128.load(src0 + p);
      let bi = i32x4.splat(0);
      let found = f32x4.ne(bv, bv);
      for (let k = 1; k < r; k++) {
        const v = v128.load(src0 + (<usize>k * <usize>inner << 2) + p);
        const nan = f32x4.ne(v, v);
        const upd = v128.andnot(v128.or(f32x4.gt(v, bv), nan), found);
        bi = v128.bitselect(i32x4.splat(k), bi, upd);
        bv = v128.bitselect(v, bv, upd);
        found = v128.or(found, v128.and(upd, nan));
      }
      v128.store(dst + p, bi);
    }
    for (let i = n4; i < inner; i++) {
      const base = src0 + (<usize>i << 2);
      let best = 0;
      let bv = load<f32>(base);
      if (bv == bv) {
        for (let k = 1; k < r; k++) {
          const v = load<f32>(base + (<usize>k * <usize>inner << 2));
          if (v != v) {
            best = k;
            break;
          }
          if (v > bv) {
            best = k;
            bv = v;
          }
        }
      }
      store<i32>(dst + (<usize>i << 2), best);
    }
  }
}

/**
 * Inclusive cumulative sum along r of [outer, r, inner], running sums in f64 (rounded per output).
 * ws: workspace of inner f64 (only used when inner > 1).
 */
export function cumsum3(x: usize, out: usize, outer: i32, r: i32, inner: i32, reverse: i32, ws: usize): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const base = <usize>o * <usize>r;
      let acc: f64 = 0;
      for (let s = 0; s < r; s++) {
        const k = reverse ? r - 1 - s : s;
        const p = (base + <usize>k) << 2;
        acc += <f64>load<f32>(x + p);
        store<f32>(out + p, <f32>acc);
      }
    }
    return;
  }
  const n2 = inner & ~1;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) store<f64>(ws + (<usize>i << 3), 0);
    for (let s = 0; s < r; s++) {
      const k = reverse ? r - 1 - s : s;
      const off = ((<usize>o * <usize>r + <usize>k) * <usize>inner) << 2;
      const src = x + off;
      const dst = out + off;
      for (let i = 0; i < n2; i += 2) {
        const w = ws + (<usize>i << 3);
        const acc = f64x2.add(v128.load(w), f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>i << 2))));
        v128.store(w, acc);
        v128.store64_lane(dst + (<usize>i << 2), f32x4.demote_f64x2_zero(acc), 0);
      }
      if (n2 < inner) {
        const w = ws + (<usize>n2 << 3);
        const acc = load<f64>(w) + <f64>load<f32>(src + (<usize>n2 << 2));
        store<f64>(w, acc);
        store<f32>(dst + (<usize>n2 << 2), <f32>acc);
      }
    }
  }
}
