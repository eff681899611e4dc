// Elementwise kernels: fill, cast, unary, gelu's gradient, broadcasting binary / compare / where.
//
// Broadcasting: the glue merges dimensions so the innermost one is contiguous (stride 1) or broadcast
// (stride 0) for every operand; each output row then runs one of the SIMD loops vv / vs / sv. Outer
// dimensions are walked with an odometer over element strides. Rows that end in a partial vector use a
// 16-byte scratch, so no kernel reads or writes past a storage.
import { cnt, tailA, tailB, loadTail, storeTail } from './common.ts';
import { lo64, hi64, join32, expD, expm1D, logD, sinCosD, tanhD, sigmoidD, erfD, geluD, geluGradD } from './vmath.ts';
import { allIn, expF4, expm1F4, tanhF4, sigmoidF4, logF4, erfF4, geluF4, geluOfF4, geluGradF4, geluAbsF4, geluRF4, expHalfSqF4, geluGradOfF4, geluSmallLanes, geluSmallF4, geluGradSmallF4, kv, K_EXP_LO, K_EXP_HI, K_SIG_HI, K_MIN_NORMAL, K_MAX_F32, K_GELU_LO, K_INF } from './vmath.ts';

// ---- fill and cast ------------------------------------------------------------------------------

/** Fill `n` 4-byte elements with the bit pattern `bits`. */
export function fill32(out: usize, n: i32, bits: i32): void {
  const v = i32x4.splat(bits);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) v128.store(out + (<usize>i << 2), v);
  for (let i = n4; i < n; i++) store<i32>(out + (<usize>i << 2), bits);
}

export function fill8(out: usize, n: i32, value: i32): void {
  memory.fill(out, <u8>value, <usize>n);
}

/** f32 → i32, truncating toward zero, saturating, NaN → 0. */
export function castF32I32(x: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, i32x4.trunc_sat_f32x4_s(v128.load(x + p)));
  }
  for (let i = n4; i < n; i++) {
    const p = <usize>i << 2;
    store<i32>(out + p, i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(f32x4.splat(load<f32>(x + p))), 0));
  }
}

export function castI32F32(x: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, f32x4.convert_i32x4_s(v128.load(x + p)));
  }
  for (let i = n4; i < n; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, <f32>load<i32>(x + p));
  }
}

/** 4-byte element → u8 (x != 0); isFloat compares as f32 (NaN → 1, -0 → 0). */
export function cast32U8(x: usize, out: usize, n: i32, isFloat: i32): void {
  if (isFloat) {
    for (let i = 0; i < n; i++) store<u8>(out + <usize>i, load<f32>(x + (<usize>i << 2)) != 0 ? 1 : 0);
  } else {
    for (let i = 0; i < n; i++) store<u8>(out + <usize>i, load<i32>(x + (<usize>i << 2)) != 0 ? 1 : 0);
  }
}

/** u8 → 4-byte element (as f32 when toFloat, else i32). */
export function castU8To32(x: usize, out: usize, n: i32, toFloat: i32): void {
  if (toFloat) {
    for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), <f32>load<u8>(x + <usize>i));
  } else {
    for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), <i32>load<u8>(x + <usize>i));
  }
}

/** u8 → u8 normalised to 0/1. */
export function castU8U8(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u8>(out + <usize>i, load<u8>(x + <usize>i) != 0 ? 1 : 0);
}

// ---- unary --------------------------------------------------------------------------------------
// op codes follow UNARY_OPS: 0 neg, 1 exp, 2 log, 3 sqrt, 4 rsqrt, 5 abs, 6 sign, 7 tanh, 8 sigmoid,
// 9 relu, 10 gelu, 11 elu, 12 sin, 13 cos, 14 erf, 15 square, 16 reciprocal, 17 floor.

@inline function fD(op: i32, x: v128): v128 {
  switch (op) {
    case 1: return expD(x);
    case 2: return logD(x);
    case 4: return f64x2.div(f64x2.splat(1.0), f64x2.sqrt(x));
    case 7: return tanhD(x);
    case 8: return sigmoidD(x);
    case 11: return v128.bitselect(x, expm1D(x), f64x2.gt(x, f64x2.splat(0.0)));
    case 10: return geluD(x);
    case 12: return sinCosD(x, 0);
    case 14: return erfD(x);
    default: return sinCosD(x, 1);
  }
}

@inline function trigLane(op: i32, v: f32): f32 {
  const d = <f64>v;
  return <f32>(op == 12 ? Math.sin(d) : Math.cos(d));
}

/** The f64x2 path for one vector (not inlined: it is the rare path for exp/log/sigmoid/gelu). */
function slowU(op: i32, v: v128): v128 {
  switch (op) {
    case 1: return join32(fD(1, lo64(v)), fD(1, hi64(v)));
    case 2: return join32(fD(2, lo64(v)), fD(2, hi64(v)));
    case 8: return join32(fD(8, lo64(v)), fD(8, hi64(v)));
    case 10: return join32(fD(10, lo64(v)), fD(10, hi64(v)));
    case 12: return join32(fD(12, lo64(v)), fD(12, hi64(v)));
    default: return join32(fD(13, lo64(v)), fD(13, hi64(v)));
  }
}

@inline function uV(op: i32, v: v128): v128 {
  switch (op) {
    case 0: return f32x4.neg(v);
    case 3: return f32x4.sqrt(v);
    case 5: return f32x4.abs(v);
    case 6: {
      const pos = v128.and(f32x4.gt(v, f32x4.splat(0)), f32x4.splat(1));
      const neg = v128.and(f32x4.lt(v, f32x4.splat(0)), f32x4.splat(-1));
      return v128.bitselect(v, v128.or(pos, neg), f32x4.ne(v, v));
    }
    case 9: return f32x4.max(v, f32x4.splat(0));
    case 15: return f32x4.mul(v, v);
    case 16: return f32x4.div(f32x4.splat(1), v);
    case 17: return f32x4.floor(v);
    // f32x4 fast paths; vectors with a lane outside the fast range (subnormal or overflowing results,
    // NaN/±∞ where the fast path does not handle them) take the f64x2 path below.
    case 1:
      if (allIn(v, kv(K_EXP_LO), kv(K_EXP_HI))) return expF4(v, i32x4.splat(0));
      return slowU(op, v);
    case 2:
      if (allIn(v, kv(K_MIN_NORMAL), kv(K_MAX_F32))) return logF4(v);
      return slowU(op, v);
    case 4: return f32x4.div(f32x4.splat(1), f32x4.sqrt(v));
    case 7: return tanhF4(v);
    case 8:
      if (allIn(v, kv(K_EXP_LO), kv(K_SIG_HI))) return sigmoidF4(v);
      return slowU(op, v);
    case 10: return geluV(v);
    case 11: return v128.bitselect(v, expm1F4(v), f32x4.gt(v, f32x4.splat(0)));
    case 14: return erfF4(v);
    case 12:
    case 13: {
      // Beyond 1e5 (or non-finite) the two-part π/2 reduction is not enough: use the scalar f64 path.
      if (!v128.all_true<i32>(f32x4.le(f32x4.abs(v), f32x4.splat(1e5)))) {
        let r = f32x4.splat(trigLane(op, f32x4.extract_lane(v, 0)));
        r = f32x4.replace_lane(r, 1, trigLane(op, f32x4.extract_lane(v, 1)));
        r = f32x4.replace_lane(r, 2, trigLane(op, f32x4.extract_lane(v, 2)));
        return f32x4.replace_lane(r, 3, trigLane(op, f32x4.extract_lane(v, 3)));
      }
      return join32(fD(op, lo64(v)), fD(op, hi64(v)));
    }
    default: return slowU(op, v);
  }
}

@inline function mapU(op: i32, x: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, uV(op, v128.load(x + p)));
  }
  const t = n - n4;
  if (t > 0) {
    const p = <usize>n4 << 2;
    storeTail(out + p, uV(op, loadTail(x + p, t, tailA())), t, tailB());
  }
}

/**
 * gelu of one vector, each lane by its own x (vmath.ts): the polynomial on [−1.5, 2], else the full f32x4
 * evaluation for x ≥ −13, else f64x2 (NaN, x < −13).
 */
@inline function geluV(v: v128): v128 {
  const small = geluSmallLanes(v);
  if (v128.all_true<i32>(small)) return geluSmallF4(v);
  const r = allIn(v, kv(K_GELU_LO), kv(K_INF)) ? geluF4(v) : slowU(10, v);
  return v128.bitselect(geluSmallF4(v), r, small);
}

/**
 * gelu over n elements: mapU's loop with four vectors per iteration. Four vectors within [−1.5, 2] take the
 * polynomial; otherwise each part of the full evaluation (R(a), then e^{−a²/2}) is issued for all four before
 * the next, so their dependency chains overlap (as in geluBackwardF32), and lanes within [−1.5, 2] then take the
 * polynomial's value: the same bits as mapU(10, …) (geluV), lane for lane.
 */
function geluRows(x: usize, out: usize, n: i32): void {
  const n16 = n & ~15;
  const lo = kv(K_GELU_LO);
  const hi = kv(K_INF);
  for (let i = 0; i < n16; i += 16) {
    const p = <usize>i << 2;
    const x0 = v128.load(x + p);
    const x1 = v128.load(x + p, 16);
    const x2 = v128.load(x + p, 32);
    const x3 = v128.load(x + p, 48);
    const s0 = geluSmallLanes(x0);
    const s1 = geluSmallLanes(x1);
    const s2 = geluSmallLanes(x2);
    const s3 = geluSmallLanes(x3);
    if (v128.all_true<i32>(v128.and(v128.and(s0, s1), v128.and(s2, s3)))) {
      v128.store(out + p, geluSmallF4(x0));
      v128.store(out + p, geluSmallF4(x1), 16);
      v128.store(out + p, geluSmallF4(x2), 32);
      v128.store(out + p, geluSmallF4(x3), 48);
    } else if (allIn(x0, lo, hi) && allIn(x1, lo, hi) && allIn(x2, lo, hi) && allIn(x3, lo, hi)) {
      const a0 = geluAbsF4(x0);
      const a1 = geluAbsF4(x1);
      const a2 = geluAbsF4(x2);
      const a3 = geluAbsF4(x3);
      const q0 = geluRF4(a0);
      const q1 = geluRF4(a1);
      const q2 = geluRF4(a2);
      const q3 = geluRF4(a3);
      const e0 = expHalfSqF4(a0);
      const e1 = expHalfSqF4(a1);
      const e2 = expHalfSqF4(a2);
      const e3 = expHalfSqF4(a3);
      const y0 = geluOfF4(x0, q0, e0);
      const y1 = geluOfF4(x1, q1, e1);
      const y2 = geluOfF4(x2, q2, e2);
      const y3 = geluOfF4(x3, q3, e3);
      v128.store(out + p, v128.bitselect(geluSmallF4(x0), y0, s0));
      v128.store(out + p, v128.bitselect(geluSmallF4(x1), y1, s1), 16);
      v128.store(out + p, v128.bitselect(geluSmallF4(x2), y2, s2), 32);
      v128.store(out + p, v128.bitselect(geluSmallF4(x3), y3, s3), 48);
    } else {
      for (let k: usize = 0; k < 64; k += 16) v128.store(out + p + k, uV(10, v128.load(x + p + k)));
    }
  }
  const p = <usize>n16 << 2;
  mapU(10, x + p, out + p, n - n16);
}

export function unaryF32(op: i32, x: usize, out: usize, n: i32): void {
  switch (op) {
    case 0: mapU(0, x, out, n); break;
    case 1: mapU(1, x, out, n); break;
    case 2: mapU(2, x, out, n); break;
    case 3: mapU(3, x, out, n); break;
    case 4: mapU(4, x, out, n); break;
    case 5: mapU(5, x, out, n); break;
    case 6: mapU(6, x, out, n); break;
    case 7: mapU(7, x, out, n); break;
    case 8: mapU(8, x, out, n); break;
    case 9: mapU(9, x, out, n); break;
    case 10: geluRows(x, out, n); break;
    case 11: mapU(11, x, out, n); break;
    case 12: mapU(12, x, out, n); break;
    case 13: mapU(13, x, out, n); break;
    case 14: mapU(14, x, out, n); break;
    case 15: mapU(15, x, out, n); break;
    case 16: mapU(16, x, out, n); break;
    default: mapU(17, x, out, n); break;
  }
}

// ---- gelu backward -------------------------------------------------------------------------------

/**
 * dy·gelu'(x) for one vector, each lane by its own x: dy times the polynomial on [−1.5, 2], else the full
 * f32x4 path for x ∈ [−13, +∞], else f64x2 (product rounded once).
 */
@inline function geluBackV(dy: v128, x: v128): v128 {
  const small = geluSmallLanes(x);
  const fast = f32x4.mul(dy, geluGradSmallF4(x));
  if (v128.all_true<i32>(small)) return fast;
  const r = allIn(x, kv(K_GELU_LO), kv(K_INF)) ? f32x4.mul(dy, geluGradF4(x)) : geluBackSlow(dy, x);
  return v128.bitselect(fast, r, small);
}

/** The rare path (a lane below −13, or NaN): not inlined. */
function geluBackSlow(dy: v128, x: v128): v128 {
  return join32(f64x2.mul(lo64(dy), geluGradD(lo64(x))), f64x2.mul(hi64(dy), geluGradD(hi64(x))));
}

/**
 * out = dy · gelu'(x) over n elements (the gradient of unaryF32's gelu in one pass). Four vectors per
 * iteration, each part of the evaluation (R(a), then e^{−a²/2}) issued for all four before the next: one
 * vector's gelu' is a ~90-op dependency chain, longer than the out-of-order scheduler holds, so vectors done
 * one after another leave the loop latency-bound (3.5 → 2.3 ns per element; the bits are the same).
 */
export function geluBackwardF32(dy: usize, x: usize, out: usize, n: i32): void {
  const n16 = n & ~15;
  for (let i = 0; i < n16; i += 16) {
    const p = <usize>i << 2;
    const x0 = v128.load(x + p);
    const x1 = v128.load(x + p, 16);
    const x2 = v128.load(x + p, 32);
    const x3 = v128.load(x + p, 48);
    const lo = kv(K_GELU_LO);
    const hi = kv(K_INF);
    const s0 = geluSmallLanes(x0);
    const s1 = geluSmallLanes(x1);
    const s2 = geluSmallLanes(x2);
    const s3 = geluSmallLanes(x3);
    if (v128.all_true<i32>(v128.and(v128.and(s0, s1), v128.and(s2, s3)))) {
      v128.store(out + p, f32x4.mul(v128.load(dy + p), geluGradSmallF4(x0)));
      v128.store(out + p, f32x4.mul(v128.load(dy + p, 16), geluGradSmallF4(x1)), 16);
      v128.store(out + p, f32x4.mul(v128.load(dy + p, 32), geluGradSmallF4(x2)), 32);
      v128.store(out + p, f32x4.mul(v128.load(dy + p, 48), geluGradSmallF4(x3)), 48);
    } else if (allIn(x0, lo, hi) && allIn(x1, lo, hi) && allIn(x2, lo, hi) && allIn(x3, lo, hi)) {
      const a0 = geluAbsF4(x0);
      const a1 = geluAbsF4(x1);
      const a2 = geluAbsF4(x2);
      const a3 = geluAbsF4(x3);
      const q0 = geluRF4(a0);
      const q1 = geluRF4(a1);
      const q2 = geluRF4(a2);
      const q3 = geluRF4(a3);
      const e0 = expHalfSqF4(a0);
      const e1 = expHalfSqF4(a1);
      const e2 = expHalfSqF4(a2);
      const e3 = expHalfSqF4(a3);
      const g0 = v128.bitselect(geluGradSmallF4(x0), geluGradOfF4(x0, a0, q0, e0), s0);
      const g1 = v128.bitselect(geluGradSmallF4(x1), geluGradOfF4(x1, a1, q1, e1), s1);
      const g2 = v128.bitselect(geluGradSmallF4(x2), geluGradOfF4(x2, a2, q2, e2), s2);
      const g3 = v128.bitselect(geluGradSmallF4(x3), geluGradOfF4(x3, a3, q3, e3), s3);
      v128.store(out + p, f32x4.mul(v128.load(dy + p), g0));
      v128.store(out + p, f32x4.mul(v128.load(dy + p, 16), g1), 16);
      v128.store(out + p, f32x4.mul(v128.load(dy + p, 32), g2), 32);
      v128.store(out + p, f32x4.mul(v128.load(dy + p, 48), g3), 48);
    } else {
      for (let k: usize = 0; k < 64; k += 16) v128.store(out + p + k, geluBackV(v128.load(dy + p + k), v128.load(x + p + k)));
    }
  }
  const n4 = n & ~3;
  for (let i = n16; i < n4; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, geluBackV(v128.load(dy + p), v128.load(x + p)));
  }
  const t = n - n4;
  if (t > 0) {
    const p = <usize>n4 << 2;
    storeTail(out + p, geluBackV(loadTail(dy + p, t, tailA()), loadTail(x + p, t, tailB())), t, tailA());
  }
}

// ---- binary -------------------------------------------------------------------------------------
// op codes follow BINARY_OPS: 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 max, 6 min. isInt: i32 lanes (add,
// sub, mul wrap; max/min signed).

@inline function powF(a: f32, b: f32): f32 {
  return <f32>Math.pow(<f64>a, <f64>b);
}

@inline function bV(op: i32, isInt: bool, a: v128, b: v128): v128 {
  if (isInt) {
    switch (op) {
      case 0: return i32x4.add(a, b);
      case 1: return i32x4.sub(a, b);
      case 2: return i32x4.mul(a, b);
      case 5: return i32x4.max_s(a, b);
      default: return i32x4.min_s(a, b);
    }
  }
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: {
      let r = f32x4.splat(powF(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
      r = f32x4.replace_lane(r, 1, powF(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
      r = f32x4.replace_lane(r, 2, powF(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
      return f32x4.replace_lane(r, 3, powF(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
    }
    case 5: return f32x4.max(a, b);
    default: return f32x4.min(a, b);
  }
}

/** One output row of n elements; ia/ib ∈ {0, 1} are the operands' inner strides. */
@inline function binRow(op: i32, isInt: bool, a: usize, ia: i32, b: usize, ib: i32, out: usize, n: i32): void {
  const n4 = n & ~3;
  const t = n - n4;
  const tp = <usize>n4 << 2;
  if (ia == 1 && ib == 1) {
    for (let i = 0; i < n4; i += 4) {
      const p = <usize>i << 2;
      v128.store(out + p, bV(op, isInt, v128.load(a + p), v128.load(b + p)));
    }
    if (t > 0) storeTail(out + tp, bV(op, isInt, loadTail(a + tp, t, tailA()), loadTail(b + tp, t, tailB())), t, tailA());
  } else if (ia == 1) {
    const vb = v128.load32_splat(b);
    for (let i = 0; i < n4; i += 4) {
      const p = <usize>i << 2;
      v128.store(out + p, bV(op, isInt, v128.load(a + p), vb));
    }
    if (t > 0) storeTail(out + tp, bV(op, isInt, loadTail(a + tp, t, tailA()), vb), t, tailB());
  } else if (ib == 1) {
    const va = v128.load32_splat(a);
    for (let i = 0; i < n4; i += 4) {
      const p = <usize>i << 2;
      v128.store(out + p, bV(op, isInt, va, v128.load(b + p)));
    }
    if (t > 0) storeTail(out + tp, bV(op, isInt, va, loadTail(b + tp, t, tailA())), t, tailB());
  } else {
    const r = i32x4.extract_lane(bV(op, isInt, v128.load32_splat(a), v128.load32_splat(b)), 0);
    for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), r);
  }
}

/**
 * The broadcast walk of a binary op (`cmp` false: f32 / i32 out, binRow) or a comparison (`cmp` true: u8 mask
 * out, cmpRow): the last axis is one row call (its strides say whether an operand is a vector or a scalar
 * there), the leading axes are walked by the counter at `cnt()`. `cmp`, `op` and `isInt` are constants at every
 * call site, so each case compiles to its own straight loop.
 */
@inline function broadcastND(
  cmp: bool, op: i32, isInt: bool, a: usize, b: usize, out: usize, rank: i32, shp: usize, sa: usize, sb: usize,
): void {
  const last = <usize>(rank - 1) << 2;
  const n = load<i32>(shp + last);
  const ia = load<i32>(sa + last);
  const ib = load<i32>(sb + last);
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(shp + (<usize>d << 2));
    store<i32>(cnt() + (<usize>d << 2), 0);
  }
  let oa = 0;
  let ob = 0;
  for (let r = 0; r < rows; r++) {
    if (cmp) cmpRow(op, isInt, a + (<usize>oa << 2), ia, b + (<usize>ob << 2), ib, out + <usize>(r * n), n);
    else binRow(op, isInt, a + (<usize>oa << 2), ia, b + (<usize>ob << 2), ib, out + (<usize>(r * n) << 2), n);
    for (let d = rank - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const c = load<i32>(cnt() + dp) + 1;
      oa += load<i32>(sa + dp);
      ob += load<i32>(sb + dp);
      if (c < load<i32>(shp + dp)) {
        store<i32>(cnt() + dp, c);
        break;
      }
      oa -= load<i32>(sa + dp) * c;
      ob -= load<i32>(sb + dp) * c;
      store<i32>(cnt() + dp, 0);
    }
  }
}

/** out = a op b with broadcasting; shp/sa/sb: i32[rank] (merged output shape and element strides). */
export function binaryF32(op: i32, a: usize, b: usize, out: usize, rank: i32, shp: usize, sa: usize, sb: usize): void {
  switch (op) {
    case 0: broadcastND(false, 0, false, a, b, out, rank, shp, sa, sb); break;
    case 1: broadcastND(false, 1, false, a, b, out, rank, shp, sa, sb); break;
    case 2: broadcastND(false, 2, false, a, b, out, rank, shp, sa, sb); break;
    case 3: broadcastND(false, 3, false, a, b, out, rank, shp, sa, sb); break;
    case 4: broadcastND(false, 4, false, a, b, out, rank, shp, sa, sb); break;
    case 5: broadcastND(false, 5, false, a, b, out, rank, shp, sa, sb); break;
    default: broadcastND(false, 6, false, a, b, out, rank, shp, sa, sb); break;
  }
}

export function binaryI32(op: i32, a: usize, b: usize, out: usize, rank: i32, shp: usize, sa: usize, sb: usize): void {
  switch (op) {
    case 0: broadcastND(false, 0, true, a, b, out, rank, shp, sa, sb); break;
    case 1: broadcastND(false, 1, true, a, b, out, rank, shp, sa, sb); break;
    case 2: broadcastND(false, 2, true, a, b, out, rank, shp, sa, sb); break;
    case 5: broadcastND(false, 5, true, a, b, out, rank, shp, sa, sb); break;
    default: broadcastND(false, 6, true, a, b, out, rank, shp, sa, sb); break;
  }
}

// ---- compare ------------------------------------------------------------------------------------
// op codes follow COMPARE_OPS: 0 eq, 1 ne, 2 lt, 3 le, 4 gt, 5 ge. Result u8 (0/1).

@inline function cV(op: i32, isInt: bool, a: v128, b: v128): v128 {
  if (isInt) {
    switch (op) {
      case 0: return i32x4.eq(a, b);
      case 1: return i32x4.ne(a, b);
      case 2: return i32x4.lt_s(a, b);
      case 3: return i32x4.le_s(a, b);
      case 4: return i32x4.gt_s(a, b);
      default: return i32x4.ge_s(a, b);
    }
  }
  switch (op) {
    case 0: return f32x4.eq(a, b);
    case 1: return f32x4.ne(a, b);
    case 2: return f32x4.lt(a, b);
    case 3: return f32x4.le(a, b);
    case 4: return f32x4.gt(a, b);
    default: return f32x4.ge(a, b);
  }
}

/** Pack four i32 lane masks (0 / -1) into four bytes 0 / 1. */
@inline function packMask(m: v128): i32 {
  const one = v128.and(m, i32x4.splat(1));
  const h = i16x8.narrow_i32x4_u(one, one);
  return i32x4.extract_lane(i8x16.narrow_i16x8_u(h, h), 0);
}

@inline function storeMaskTail(out: usize, m: v128, t: i32): void {
  const bits = packMask(m);
  for (let j = 0; j < t; j++) store<u8>(out + <usize>j, <u8>(bits >>> (j << 3)));
}

@inline function cmpRow(op: i32, isInt: bool, a: usize, ia: i32, b: usize, ib: i32, out: usize, n: i32): void {
  const n4 = n & ~3;
  const t = n - n4;
  const tp = <usize>n4 << 2;
  if (ia == 1 && ib == 1) {
    for (let i = 0; i < n4; i += 4) {
      const p = <usize>i << 2;
      store<i32>(out + <usize>i, packMask(cV(op, isInt, v128.load(a + p), v128.load(b + p))));
    }
    if (t > 0) storeMaskTail(out + <usize>n4, cV(op, isInt, loadTail(a + tp, t, tailA()), loadTail(b + tp, t, tailB())), t);
  } else if (ia == 1) {
    const vb = v128.load32_splat(b);
    for (let i = 0; i < n4; i += 4) {
      store<i32>(out + <usize>i, packMask(cV(op, isInt, v128.load(a + (<usize>i << 2)), vb)));
    }
    if (t > 0) storeMaskTail(out + <usize>n4, cV(op, isInt, loadTail(a + tp, t, tailA()), vb), t);
  } else if (ib == 1) {
    const va = v128.load32_splat(a);
    for (let i = 0; i < n4; i += 4) {
      store<i32>(out + <usize>i, packMask(cV(op, isInt, va, v128.load(b + (<usize>i << 2)))));
    }
    if (t > 0) storeMaskTail(out + <usize>n4, cV(op, isInt, va, loadTail(b + tp, t, tailA())), t);
  } else {
    const r = <u8>(packMask(cV(op, isInt, v128.load32_splat(a), v128.load32_splat(b))) & 1);
    memory.fill(out, r, <usize>n);
  }
}

export function compare32(op: i32, isInt: i32, a: usize, b: usize, out: usize, rank: i32, shp: usize, sa: usize, sb: usize): void {
  if (isInt) {
    switch (op) {
      case 0: broadcastND(true, 0, true, a, b, out, rank, shp, sa, sb); break;
      case 1: broadcastND(true, 1, true, a, b, out, rank, shp, sa, sb); break;
      case 2: broadcastND(true, 2, true, a, b, out, rank, shp, sa, sb); break;
      case 3: broadcastND(true, 3, true, a, b, out, rank, shp, sa, sb); break;
      case 4: broadcastND(true, 4, true, a, b, out, rank, shp, sa, sb); break;
      default: broadcastND(true, 5, true, a, b, out, rank, shp, sa, sb); break;
    }
  } else {
    switch (op) {
      case 0: broadcastND(true, 0, false, a, b, out, rank, shp, sa, sb); break;
      case 1: broadcastND(true, 1, false, a, b, out, rank, shp, sa, sb); break;
      case 2: broadcastND(true, 2, false, a, b, out, rank, shp, sa, sb); break;
      case 3: broadcastND(true, 3, false, a, b, out, rank, shp, sa, sb); break;
      case 4: broadcastND(true, 4, false, a, b, out, rank, shp, sa, sb); break;
      default: broadcastND(true, 5, false, a, b, out, rank, shp, sa, sb); break;
    }
  }
}

// ---- where --------------------------------------------------------------------------------------

/** Four cond bytes → i32x4 lane masks. */
@inline function condMask(c: usize): v128 {
  const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(c)));
  return i32x4.ne(w, i32x4.splat(0));
}

/**
 * out = cond ? a : b with broadcasting. es: element size of a, b, out (4 or 1). shp and strides
 * sc/sa/sb: i32[rank], element strides.
 */
export function where32(
  c: usize, a: usize, b: usize, out: usize, es: i32, rank: i32, shp: usize, sc: usize, sa: usize, sb: usize,
): void {
  const last = <usize>(rank - 1) << 2;
  const n = load<i32>(shp + last);
  const ic = load<i32>(sc + last);
  const ia = load<i32>(sa + last);
  const ib = load<i32>(sb + last);
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) {
    rows *= load<i32>(shp + (<usize>d << 2));
    store<i32>(cnt() + (<usize>d << 2), 0);
  }
  let oc = 0;
  let oa = 0;
  let ob = 0;
  const n4 = es == 4 ? n & ~3 : 0;
  for (let r = 0; r < rows; r++) {
    const pc = c + <usize>oc;
    const o = out + <usize>(r * n * es);
    if (es == 4) {
      const pa = a + (<usize>oa << 2);
      const pb = b + (<usize>ob << 2);
      const ka = v128.load32_splat(pa);
      const kb = v128.load32_splat(pb);
      const kc = i32x4.ne(i32x4.splat(<i32>load<u8>(pc)), i32x4.splat(0));
      for (let i = 0; i < n4; i += 4) {
        const p = <usize>i << 2;
        const m = ic ? condMask(pc + <usize>i) : kc;
        const va = ia ? v128.load(pa + p) : ka;
        const vb = ib ? v128.load(pb + p) : kb;
        v128.store(o + p, v128.bitselect(va, vb, m));
      }
      for (let i = n4; i < n; i++) {
        const take = load<u8>(pc + <usize>(i * ic)) != 0;
        store<u32>(o + (<usize>i << 2), take ? load<u32>(pa + (<usize>(i * ia) << 2)) : load<u32>(pb + (<usize>(i * ib) << 2)));
      }
    } else {
      for (let i = 0; i < n; i++) {
        const take = load<u8>(pc + <usize>(i * ic)) != 0;
        store<u8>(o + <usize>i, take ? load<u8>(a + <usize>(oa + i * ia)) : load<u8>(b + <usize>(ob + i * ib)));
      }
    }
    for (let d = rank - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const k = load<i32>(cnt() + dp) + 1;
      oc += load<i32>(sc + dp);
      oa += load<i32>(sa + dp);
      ob += load<i32>(sb + dp);
      if (k < load<i32>(shp + dp)) {
        store<i32>(cnt() + dp, k);
        break;
      }
      oc -= load<i32>(sc + dp) * k;
      oa -= load<i32>(sa + dp) * k;
      ob -= load<i32>(sb + dp) * k;
      store<i32>(cnt() + dp, 0);
    }
  }
}
