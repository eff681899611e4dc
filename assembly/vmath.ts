// Shared math for the elementwise, softmax and norm kernels (not exported from the module).
//
// Two sets of transcendentals:
// - f64x2 (this first part): evaluated in f64 (two lanes per v128) and rounded to f32 once at the end, so
//   the result is almost always the correctly rounded f32 of the exact value — the same bits the js backend
//   gets from Math.* in f64. sin/cos use them directly; exp, log, sigmoid and gelu use them only for the rare
//   vectors outside the range of their f32x4 versions (subnormal/overflowing outputs, NaN/±∞ inputs).
// - f32x4 (second part, "f32x4 transcendentals"): the fast paths, ≤ ~4 ulp.
// Everything here is plain IEEE arithmetic (no relaxed ops, no FMA): same bits in every runtime.
//
// Range reductions use Cody–Waite splits whose high parts have trailing zero bits, so k·HI is exact.

// ln 2 = LN2_HI + LN2_LO, LN2_HI has 33 significant bits.
const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
const LOG2E: f64 = 1.4426950408889634;
// π/2 = PIO2_HI + PIO2_LO, PIO2_HI has 33 significant bits.
const PIO2_HI: f64 = 1.5707963267341256;
const PIO2_LO: f64 = 6.077100506506192e-11;
const TWO_OVER_PI: f64 = 0.6366197723675814;
const SQRT2: f64 = 1.4142135623730951;
const TWO_OVER_SQRTPI: f64 = 1.1283791670955126;
const INV_SQRT2: f64 = 0.7071067811865476;
const INV_SQRT_2PI: f64 = 0.3989422804014327;

// ---- f32x4 <-> 2 × f64x2 ------------------------------------------------------------------------

@inline export function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline export function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}
@inline export function join32(lo: v128, hi: v128): v128 {
  return i64x2.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

// ---- exp ----------------------------------------------------------------------------------------

/** e^x for f64x2 lanes holding f32-range values (inputs clamped to [-110, 90]: f32 under/overflow). */
@inline export function expD(x0: v128): v128 {
  const x = f64x2.min(f64x2.max(x0, f64x2.splat(-110.0)), f64x2.splat(90.0));
  const n = f64x2.nearest(f64x2.mul(x, f64x2.splat(LOG2E)));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(n, f64x2.splat(LN2_HI))), f64x2.mul(n, f64x2.splat(LN2_LO)));
  // Taylor polynomial of degree 11 on |r| ≤ ln2/2 (truncation < 3e-14).
  let p = f64x2.splat(2.505210838544172e-8); // 1/11!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.755731922398589e-7)); // 1/10!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.7557319223985893e-6)); // 1/9!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.48015873015873e-5)); // 1/8!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.984126984126984e-4)); // 1/7!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.388888888888889e-3)); // 1/6!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(8.333333333333333e-3)); // 1/5!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(4.1666666666666664e-2)); // 1/4!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.16666666666666666)); // 1/3!
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  const ni = i32x4.trunc_sat_f64x2_s_zero(n);
  const e = i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(ni), i64x2.splat(1023)), 52);
  return f64x2.mul(p, e);
}

/** e^x - 1 without cancellation near 0. */
@inline export function expm1D(x: v128): v128 {
  const small = f64x2.lt(f64x2.abs(x), f64x2.splat(0.01));
  let t = f64x2.splat(1.0 / 5040.0);
  t = f64x2.add(f64x2.mul(t, x), f64x2.splat(1.0 / 720.0));
  t = f64x2.add(f64x2.mul(t, x), f64x2.splat(1.0 / 120.0));
  t = f64x2.add(f64x2.mul(t, x), f64x2.splat(1.0 / 24.0));
  t = f64x2.add(f64x2.mul(t, x), f64x2.splat(1.0 / 6.0));
  t = f64x2.add(f64x2.mul(t, x), f64x2.splat(0.5));
  t = f64x2.mul(f64x2.add(f64x2.mul(t, x), f64x2.splat(1.0)), x);
  const big = f64x2.sub(expD(x), f64x2.splat(1.0));
  return v128.bitselect(t, big, small);
}

// ---- log ----------------------------------------------------------------------------------------

/** ln x for f64x2 lanes (positive normal f64; 0 → -inf, negative/NaN → NaN, inf → inf). */
@inline export function logD(x: v128): v128 {
  const bits = x;
  const e64 = i64x2.sub(i64x2.shr_s(bits, 52), i64x2.splat(1023));
  let m = v128.or(v128.and(bits, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  const big = f64x2.gt(m, f64x2.splat(SQRT2));
  m = v128.bitselect(f64x2.mul(m, f64x2.splat(0.5)), m, big);
  let ef = f64x2.convert_low_i32x4_s(i32x4.shuffle(e64, e64, 0, 2, 0, 2));
  ef = f64x2.add(ef, v128.and(big, f64x2.splat(1.0)));
  const f = f64x2.div(f64x2.sub(m, f64x2.splat(1.0)), f64x2.add(m, f64x2.splat(1.0)));
  const s = f64x2.mul(f, f);
  let p = f64x2.splat(1.0 / 15.0);
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 13.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 11.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 9.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 7.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 5.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0 / 3.0));
  p = f64x2.add(f64x2.mul(p, s), f64x2.splat(1.0));
  const lm = f64x2.mul(f64x2.add(f, f), p);
  let res = f64x2.add(f64x2.mul(ef, f64x2.splat(LN2_HI)), f64x2.add(f64x2.mul(ef, f64x2.splat(LN2_LO)), lm));
  res = v128.bitselect(f64x2.splat(-Infinity), res, f64x2.eq(x, f64x2.splat(0.0)));
  res = v128.bitselect(f64x2.splat(Infinity), res, f64x2.eq(x, f64x2.splat(Infinity)));
  res = v128.bitselect(res, f64x2.splat(NaN), f64x2.ge(x, f64x2.splat(0.0)));
  return res;
}

// ---- sin / cos ----------------------------------------------------------------------------------

@inline function sinPoly(r: v128, z: v128): v128 {
  let p = f64x2.splat(1.6059043836821613e-10); // 1/13!
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(2.505210838544172e-8)); // 1/11!
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(2.7557319223985893e-6)); // 1/9!
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(1.984126984126984e-4)); // 1/7!
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(8.333333333333333e-3)); // 1/5!
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(0.16666666666666666)); // 1/3!
  return f64x2.add(r, f64x2.mul(f64x2.mul(r, z), p));
}
@inline function cosPoly(z: v128): v128 {
  let p = f64x2.splat(-1.1470745597729725e-11); // -1/14!
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(2.08767569878681e-9)); // 1/12!
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(2.755731922398589e-7)); // 1/10!
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(2.48015873015873e-5)); // 1/8!
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(1.388888888888889e-3)); // 1/6!
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(4.1666666666666664e-2)); // 1/4!
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(0.5));
  return f64x2.add(f64x2.mul(p, z), f64x2.splat(1.0));
}

/** sin (quadShift 0) or cos (quadShift 1) of f64x2 lanes with |x| ≤ 1e5 (callers route larger values to NativeMath). */
@inline export function sinCosD(x: v128, quadShift: i32): v128 {
  const k = f64x2.nearest(f64x2.mul(x, f64x2.splat(TWO_OVER_PI)));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, f64x2.splat(PIO2_HI))), f64x2.mul(k, f64x2.splat(PIO2_LO)));
  const z = f64x2.mul(r, r);
  const s = sinPoly(r, z);
  const c = cosPoly(z);
  const q = i64x2.add(i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k)), i64x2.splat(<i64>quadShift));
  const odd = i64x2.ne(v128.and(q, i64x2.splat(1)), i64x2.splat(0));
  const neg = i64x2.shl(v128.and(q, i64x2.splat(2)), 62); // bit 1 of q → sign bit
  return v128.xor(v128.bitselect(c, s, odd), neg);
}

// ---- tanh / sigmoid -----------------------------------------------------------------------------

@inline export function tanhD(x: v128): v128 {
  const a = f64x2.abs(x);
  const z = f64x2.mul(x, x);
  let p = f64x2.splat(62.0 / 2835.0);
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(17.0 / 315.0));
  p = f64x2.add(f64x2.mul(p, z), f64x2.splat(2.0 / 15.0));
  p = f64x2.sub(f64x2.mul(p, z), f64x2.splat(1.0 / 3.0));
  const small = f64x2.add(x, f64x2.mul(f64x2.mul(x, z), p));
  const e = expD(f64x2.add(a, a));
  const t = f64x2.sub(f64x2.splat(1.0), f64x2.div(f64x2.splat(2.0), f64x2.add(e, f64x2.splat(1.0))));
  const signed = v128.or(t, v128.and(x, i64x2.splat(0x8000000000000000)));
  return v128.bitselect(small, signed, f64x2.lt(a, f64x2.splat(0.05)));
}

@inline export function sigmoidD(x: v128): v128 {
  return f64x2.div(f64x2.splat(1.0), f64x2.add(f64x2.splat(1.0), expD(f64x2.neg(x))));
}


// ---- erf / erfc / gelu (f64x2) -------------------------------------------------------------------
//
// erfc(t) = e^{-t²}·R(t) for t ≥ 0, with R(t) = e^{t²} erfc(t) (smooth, ~1/(t√π) at ∞) expanded as a
// Chebyshev series in s = (t − 3)/(t + 3) ∈ [−1, 1). The 20 coefficients were computed for this file by
// Chebyshev interpolation (200 nodes) of R evaluated with the series / continued fraction below; the
// truncation error is < 4e-13 relative on [0, 27]. Near 0, erf uses its Maclaurin series instead.

const ERFC_CHEB: usize = memory.data<f64>([
  0.6597255495060736, -0.4536615205378021, 0.16039834082156282, -0.04490812115112258, 0.009641428650695586,
  -0.00144250807774435, 0.0001009943673535596, 0.00001208502453463267, -0.000003625420602848539,
  7.186810740633654e-8, 8.914235862023112e-8, -7.4215663148358144e-9, -2.389336872798964e-9,
  3.0622353430764805e-10, 7.788932832042405e-11, -1.0973788544532682e-11, -3.091791267451072e-12,
  3.525568725848416e-13, 1.3985479441203097e-13, -8.09130540346814e-15,
]);
// (−1)^n / (n! (2n+1)), n = 0..11.
const ERF_TAYLOR: usize = memory.data<f64>([
  1, -0.3333333333333333, 0.1, -0.023809523809523808, 0.004629629629629629, -0.0007575757575757576,
  0.00010683760683760684, -0.000013227513227513228, 0.0000014589169000933706, -1.4503852223150468e-7,
  1.3122532963802806e-8, -1.0892221037148573e-9,
]);

/** R(t) = e^{t²}·erfc(t) for f64x2 lanes with t ≥ 0 (t is clamped to 30). */
@inline function erfcxPosD(t0: v128): v128 {
  const t = f64x2.min(t0, f64x2.splat(30.0));
  const s = f64x2.div(f64x2.sub(t, f64x2.splat(3.0)), f64x2.add(t, f64x2.splat(3.0)));
  const s2 = f64x2.add(s, s);
  let b1 = f64x2.splat(0.0);
  let b2 = f64x2.splat(0.0);
  for (let k = 19; k >= 1; k--) {
    const b0 = f64x2.add(f64x2.sub(f64x2.mul(s2, b1), b2), v128.load64_splat(ERFC_CHEB + (<usize>k << 3)));
    b2 = b1;
    b1 = b0;
  }
  return f64x2.add(f64x2.sub(f64x2.mul(s, b1), b2), f64x2.mul(v128.load64_splat(ERFC_CHEB), f64x2.splat(0.5)));
}

/** erfc(t) for f64x2 lanes with t ≥ 0 (t is clamped to 30, where erfc underflows anyway). */
@inline export function erfcPosD(t0: v128): v128 {
  const t = f64x2.min(t0, f64x2.splat(30.0));
  return f64x2.mul(expD(f64x2.neg(f64x2.mul(t, t))), erfcxPosD(t0));
}

@inline export function erfD(x: v128): v128 {
  const a = f64x2.abs(x);
  const z = f64x2.mul(x, x);
  let p = v128.load64_splat(ERF_TAYLOR + 88);
  for (let k = 10; k >= 0; k--) p = f64x2.add(f64x2.mul(p, z), v128.load64_splat(ERF_TAYLOR + (<usize>k << 3)));
  const small = f64x2.mul(f64x2.mul(p, x), f64x2.splat(TWO_OVER_SQRTPI));
  const big = v128.or(f64x2.sub(f64x2.splat(1.0), erfcPosD(a)), v128.and(x, i64x2.splat(0x8000000000000000)));
  return v128.bitselect(small, big, f64x2.lt(a, f64x2.splat(0.5)));
}

/** gelu(x) = x·Φ(x): x·(1 − ½erfc(x/√2)) for x ≥ 0, x·½·erfc(−x/√2) below (no cancellation in the tail). */
@inline export function geluD(x: v128): v128 {
  const e = erfcPosD(f64x2.mul(f64x2.abs(x), f64x2.splat(INV_SQRT2)));
  const half = f64x2.mul(e, f64x2.splat(0.5));
  const pos = f64x2.mul(x, f64x2.sub(f64x2.splat(1.0), half));
  const neg = f64x2.mul(x, half);
  const r = v128.bitselect(pos, neg, f64x2.ge(x, f64x2.splat(0.0)));
  // Below −40 the exp clamp in expD would leave a tiny non-zero tail times a huge |x|: the true value is 0.
  return v128.bitselect(f64x2.splat(0.0), r, f64x2.lt(x, f64x2.splat(-40.0)));
}

/**
 * gelu'(x) = Φ(x) + x·φ(x), with a = |x|, E = e^{−a²/2} and D = ½·R(a/√2) − a/√(2π) (R as in erfcxPosD, so
 * ½·R(a/√2)·E = Φ(−a)): 1 − E·D for x > 0, E·D for x ≤ 0. E is taken as (e^{−a²/4})², which stays exact
 * past expD's clamp at −110 down to a = 20; below x = −20 |dy·gelu'(x)| < 4e-48 for every finite f32 dy,
 * so the result is 0. a is clamped to 40 in D so +∞ gives 1 − 0·(finite) instead of ∞·0.
 */
@inline export function geluGradD(x: v128): v128 {
  const a = f64x2.abs(x);
  const h = expD(f64x2.mul(f64x2.mul(a, a), f64x2.splat(-0.25)));
  const e = f64x2.mul(h, h);
  const ac = f64x2.min(a, f64x2.splat(40.0));
  const d = f64x2.sub(
    f64x2.mul(erfcxPosD(f64x2.mul(ac, f64x2.splat(INV_SQRT2))), f64x2.splat(0.5)),
    f64x2.mul(ac, f64x2.splat(INV_SQRT_2PI)),
  );
  const ed = f64x2.mul(e, d);
  const r = v128.bitselect(f64x2.sub(f64x2.splat(1.0), ed), ed, f64x2.gt(x, f64x2.splat(0.0)));
  return v128.bitselect(f64x2.splat(0.0), r, f64x2.lt(x, f64x2.splat(-20.0)));
}

// ==== f32x4 transcendentals (the fast paths) =====================================================
//
// Four f32 lanes per v128, plain IEEE ops only (no relaxed SIMD, no FMA), so the bits are the same in every
// runtime. Each function states the input range it is accurate on; callers check the range per vector and
// send the rare vectors outside it (outputs that would be subnormal, overflow, NaN/±Inf inputs where noted)
// to the f64x2 functions above, which are correctly rounded almost always. Clamps use pmin/pmax (one
// minps/maxps on x64; f32x4.min/max are ~7 instructions for their NaN/±0 rules) with the input as first
// operand, so NaN lanes still propagate. Errors measured against the
// f64 reference rounded to f32 over dense sweeps are ≤ ~4 ulp (see test/wasm-kernels.test.ts).
//
// Polynomial coefficients were fitted for this file (weighted least squares iterated towards minimax
// on 4000 Chebyshev nodes, then rounded to f32).

// ln 2 = LN2F_HI + LN2F_LO; LN2F_HI = 355/512 has 9 significant bits, so n·LN2F_HI is exact for |n| < 2^15.
const LN2F_HI: f32 = 0.693359375;
const LN2F_LO: f32 = -2.12194440e-4;
const LOG2EF: f32 = 1.44269504;
const SIGN32: i32 = <i32>0x80000000;

// Constant vectors are loaded from this table instead of being written as v128.const: V8 materialises each
// v128.const inside the loop with GPR→XMM moves and shuffles (port-5 bound), a load is one cheap uop.
// Entry i (16 bytes, 4 equal lanes) is read by kv(i); the comment lists what each entry holds. Entries 35–38,
// 40, 42–52 and 54 belong to an earlier two-branch gelu and are unused (kept so the indices stay stable);
// 39 (1/√(2π)) is gelu's derivative's.
// 0: 0.0013882520142942667; 1: 0.00836651399731636; 2: 0.04166720062494278; 3: 0.1666654348373413; 4: 0.4999999701976776; 5: LOG2EF; 6: LN2F_HI; 7: LN2F_LO; 8: 1.0; 9: -30.0; 10: 88.0; 11: -2.0; 12: 2.0; 13: 1.41421356; 14: 0.5; 15: 2.0 / 9.0; 16: 2.0 / 7.0; 17: 2.0 / 5.0; 18: 2.0 / 3.0; 19: 8.67553026182577e-05; 20: -0.0008211138774640858; 21: 0.005206750705838203; 22: -0.026861585676670074; 23: 0.11283732950687408; 24: -0.37612634897232056; 25: 1.128379225730896; 26: 0.875; 27: 4.0; 28: -0.0007480840431526303; 29: 0.006781682837754488; 30: 0.0037210516165941954; 31: -0.07896456867456436; 32: 0.24165844917297363; 33: -0.4271860718727112; 34: 0.25539568066596985; 35: 0.00010294164530932903; 36: -0.0011812864104285836; 37: 0.009972349740564823; 38: -0.0664902925491333; 39: 0.3989422917366028; 40: 0.75; 41: 13.25; 42: 3.0; 43: 4.524177347775549e-05; 44: 0.0001214630319736898; 45: -0.0003332282940391451; 46: -0.0009882921585813165; 47: 0.0029032016173005104; 48: 0.006133140996098518; 49: -0.04621322453022003; 50: 0.12322495132684708; 51: -0.20640261471271515; 52: 0.12151394784450531; 53: -0.5; 54: -110.0; 55: -104.0; 56: 127; 57: SIGN32; 58: 0x007fffff; 59: 0x3f800000; 60: <i32>0xfffff000
const KT: usize = memory.data<i32>([
  985003522, 985003522, 985003522, 985003522,
  1007227828, 1007227828, 1007227828, 1007227828,
  1026206522, 1026206522, 1026206522, 1026206522,
  1042983512, 1042983512, 1042983512, 1042983512,
  1056964607, 1056964607, 1056964607, 1056964607,
  1069066811, 1069066811, 1069066811, 1069066811,
  1060208640, 1060208640, 1060208640, 1060208640,
  -1184989053, -1184989053, -1184989053, -1184989053,
  1065353216, 1065353216, 1065353216, 1065353216,
  -1041235968, -1041235968, -1041235968, -1041235968,
  1118830592, 1118830592, 1118830592, 1118830592,
  -1073741824, -1073741824, -1073741824, -1073741824,
  1073741824, 1073741824, 1073741824, 1073741824,
  1068827891, 1068827891, 1068827891, 1068827891,
  1056964608, 1056964608, 1056964608, 1056964608,
  1046711865, 1046711865, 1046711865, 1046711865,
  1049774373, 1049774373, 1049774373, 1049774373,
  1053609165, 1053609165, 1053609165, 1053609165,
  1059760811, 1059760811, 1059760811, 1059760811,
  951447654, 951447654, 951447654, 951447654,
  -1168687099, -1168687099, -1168687099, -1168687099,
  1001037156, 1001037156, 1001037156, 1001037156,
  -1126429484, -1126429484, -1126429484, -1126429484,
  1038554946, 1038554946, 1038554946, 1038554946,
  -1094675550, -1094675550, -1094675550, -1094675550,
  1066430139, 1066430139, 1066430139, 1066430139,
  1063256064, 1063256064, 1063256064, 1063256064,
  1082130432, 1082130432, 1082130432, 1082130432,
  -1169941742, -1169941742, -1169941742, -1169941742,
  1004419297, 1004419297, 1004419297, 1004419297,
  997448931, 997448931, 997448931, 997448931,
  -1113475027, -1113475027, -1113475027, -1113475027,
  1048016208, 1048016208, 1048016208, 1048016208,
  -1092962270, -1092962270, -1092962270, -1092962270,
  1048757049, 1048757049, 1048757049, 1048757049,
  953672288, 953672288, 953672288, 953672288,
  -1164257947, -1164257947, -1164257947, -1164257947,
  1008952081, 1008952081, 1008952081, 1008952081,
  -1115149296, -1115149296, -1115149296, -1115149296,
  1053573674, 1053573674, 1053573674, 1053573674,
  1061158912, 1061158912, 1061158912, 1061158912,
  1096024064, 1096024064, 1096024064, 1096024064,
  1077936128, 1077936128, 1077936128, 1077936128,
  943571452, 943571452, 943571452, 943571452,
  956217848, 956217848, 956217848, 956217848,
  -1179732699, -1179732699, -1179732699, -1179732699,
  -1165915755, -1165915755, -1165915755, -1165915755,
  993936292, 993936292, 993936292, 993936292,
  1003026564, 1003026564, 1003026564, 1003026564,
  -1120056812, -1120056812, -1120056812, -1120056812,
  1039949149, 1039949149, 1039949149, 1039949149,
  -1101833419, -1101833419, -1101833419, -1101833419,
  1039719502, 1039719502, 1039719502, 1039719502,
  -1090519040, -1090519040, -1090519040, -1090519040,
  -1025769472, -1025769472, -1025769472, -1025769472,
  -1026555904, -1026555904, -1026555904, -1026555904,
  127, 127, 127, 127,
  -2147483648, -2147483648, -2147483648, -2147483648,
  8388607, 8388607, 8388607, 8388607,
  1065353216, 1065353216, 1065353216, 1065353216,
  -4096, -4096, -4096, -4096,
  -1028740874, -1028740874, -1028740874, -1028740874, // 61: K_EXP_LO = -87.33
  1118879089, 1118879089, 1118879089, 1118879089, // 62: K_EXP_HI = 88.37
  1118742774, 1118742774, 1118742774, 1118742774, // 63: K_SIG_HI = 87.33
  8388608, 8388608, 8388608, 8388608, // 64: K_MIN_NORMAL = 1.17549435e-38
  2139095039, 2139095039, 2139095039, 2139095039, // 65: K_MAX_F32 = 3.40282347e+38
  -1051721728, -1051721728, -1051721728, -1051721728, // 66: K_GELU_LO = -13.0
  2139095040, 2139095040, 2139095040, 2139095040, // 67: K_INF = inf
  1262485504, 1262485504, 1262485504, 1262485504, // 68: K_MAGIC = 1.5·2^23 (adding it rounds to an integer held in the low mantissa bits)
  1060431731, 1060431731, 1060431731, 1060431731, // 69: gelu G c0 = 0.7066566348075867
  -1092743967, -1092743967, -1092743967, -1092743967, // 70: gelu G c1 = -0.43369200825691223
  1040656276, 1040656276, 1040656276, 1040656276, // 71: gelu G c2 = 0.13198691606521606
  1008161496, 1008161496, 1008161496, 1008161496, // 72: gelu G c3 = 0.009236060082912445
  -1132053806, -1132053806, -1132053806, -1132053806, // 73: gelu G c4 = -0.01638546958565712
  -1160648426, -1160648426, -1160648426, -1160648426, // 74: gelu G c5 = -0.0016014899592846632
  992295034, 992295034, 992295034, 992295034, // 75: gelu G c6 = 0.0025210664607584476
  976444949, 976444949, 976444949, 976444949, // 76: gelu G c7 = 0.0006842327420599759
  -1180596480, -1180596480, -1180596480, -1180596480, // 77: gelu G c8 = -0.0003080889582633972
  -1188870766, -1188870766, -1188870766, -1188870766, // 78: gelu G c9 = -0.00015570808318443596
  1075838976, 1075838976, 1075838976, 1075838976, // 79: 2.5 = 2.5
  1045220557, 1045220557, 1045220557, 1045220557, // 80: 1/(2·2.5) = 0.2
  1053573673, 1053573673, 1053573673, 1053573673, // 81: gelu P c0 = 0.3989422619342804
  -1115149310, -1115149310, -1115149310, -1115149310, // 82: gelu P c1 = -0.06649018824100494
  1008952635, 1008952635, 1008952635, 1008952635, // 83: gelu P c2 = 0.00997286569327116
  -1164215683, -1164215683, -1164215683, -1164215683, // 84: gelu P c3 = -0.0011862065875902772
  955255533, 955255533, 955255533, 955255533, // 85: gelu P c4 = 0.00011446126882219687
  -1223276941, -1223276941, -1223276941, -1223276941, // 86: gelu P c5 = -8.957099453255069e-06
  889985811, 889985811, 889985811, 889985811, // 87: gelu P c6 = 5.219346235207922e-07
  -1299240489, -1299240489, -1299240489, -1299240489, // 88: gelu P c7 = -1.6666417579358495e-08
  1061962277, 1061962277, 1061962277, 1061962277, // 89: gelu' S c0 = 0.7978842854499817
  -1098372174, -1098372174, -1098372174, -1098372174, // 90: gelu' S c1 = -0.26595836877822876
  1031082069, 1031082069, 1031082069, 1031082069, // 91: gelu' S c2 = 0.05983002856373787
  -1139059998, -1139059998, -1139059998, -1139059998, // 92: gelu' S c3 = -0.009480210021138191
  982856291, 982856291, 982856291, 982856291, // 93: gelu' S c4 = 0.0011382814263924956
  -1193496892, -1193496892, -1193496892, -1193496892, // 94: gelu' S c5 = -0.00010522970114834607
  921144224, 921144224, 921144224, 921144224, // 95: gelu' S c6 = 6.900590960867703e-06
  -1266742727, -1266742727, -1266742727, -1266742727, // 96: gelu' S c7 = -2.375244463337367e-07
  -1077936128, -1077936128, -1077936128, -1077936128, // 97: -1.5 (the polynomial gelu's lower end)
], 16);
export const K_EXP_LO: i32 = 61;
export const K_EXP_HI: i32 = 62;
export const K_SIG_HI: i32 = 63;
export const K_MIN_NORMAL: i32 = 64;
export const K_MAX_F32: i32 = 65;
export const K_GELU_LO: i32 = 66;
export const K_INF: i32 = 67;
const K_MAGIC: i32 = 68;
@inline export function kv(i: i32): v128 {
  return v128.load(KT + (<usize>i << 4));
}

/** expm1 on the reduced argument |r| ≤ ln2/2: r + r²·Q(r) (fit error 1.3e-8 relative). */
@inline function expm1Red(r: v128): v128 {
  let q = kv(0);
  q = f32x4.add(f32x4.mul(q, r), kv(1));
  q = f32x4.add(f32x4.mul(q, r), kv(2));
  q = f32x4.add(f32x4.mul(q, r), kv(3));
  q = f32x4.add(f32x4.mul(q, r), kv(4));
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q));
}

/**
 * Round-to-nearest by the 1.5·2^23 trick: t = y + MAGIC holds round(y) in its low mantissa bits (|y| < 2^22).
 * nOf(t) is round(y) as f32; pow2Of(t) is 2^round(y) for round(y) ∈ [−126, 127] (MAGIC's bits shifted
 * left by 23 vanish, 1.0's bits add the bias). Cheaper than f32x4.nearest + i32x4.trunc_sat_f32x4_s.
 */
@inline function nOf(t: v128): v128 {
  return f32x4.sub(t, kv(K_MAGIC));
}
@inline function pow2Of(t: v128): v128 {
  return i32x4.add(i32x4.shl(t, 23), kv(8));
}

/**
 * e^{hi+lo} for lanes with hi + lo ∈ [−87.33, 88.37] (results normal and finite), |lo| ≤ 2^-10·|hi| + tiny.
 * hi − n·LN2F_HI is exact (Sterbenz), so lo carries extra input bits exactly into r.
 */
@inline export function expF4(hi: v128, lo: v128): v128 {
  const tm = f32x4.add(f32x4.mul(hi, kv(5)), kv(K_MAGIC));
  const n = nOf(tm);
  const r = f32x4.add(
    f32x4.sub(f32x4.sub(hi, f32x4.mul(n, kv(6))), f32x4.mul(n, kv(7))),
    lo,
  );
  return f32x4.mul(f32x4.add(kv(8), expm1Red(r)), pow2Of(tm));
}

/** True when every lane of x lies in [lo, hi] (false for NaN lanes). */
@inline export function allIn(x: v128, lo: v128, hi: v128): bool {
  return v128.all_true<i32>(v128.and(f32x4.ge(x, lo), f32x4.le(x, hi)));
}


/** e^x − 1 for any lanes (x is clamped to [−30, 88]; NaN propagates; −∞ → −1): (2^n − 1) + 2^n·expm1(r). */
@inline export function expm1F4(x0: v128): v128 {
  const x = f32x4.pmin(f32x4.pmax(x0, kv(9)), kv(10));
  const tm = f32x4.add(f32x4.mul(x, kv(5)), kv(K_MAGIC));
  const n = nOf(tm);
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, kv(6))), f32x4.mul(n, kv(7)));
  const t = pow2Of(tm);
  return f32x4.add(f32x4.sub(t, kv(8)), f32x4.mul(t, expm1Red(r)));
}

/** tanh for any lanes: ±(−u)/(u + 2) with u = expm1(−2|x|) ∈ (−1, 0] (no cancellation anywhere). */
@inline export function tanhF4(x: v128): v128 {
  const a = f32x4.abs(x);
  const u = expm1F4(f32x4.mul(a, kv(11)));
  const t = f32x4.div(f32x4.neg(u), f32x4.add(u, kv(12)));
  return v128.or(f32x4.abs(t), v128.and(x, kv(57)));
}

/** sigmoid for |x| ≤ 87.33: e = e^{−|x|}, then 1/(1+e) (x ≥ 0) or e/(1+e) (x < 0), one division. */
@inline export function sigmoidF4(x: v128): v128 {
  const e = expF4(f32x4.neg(f32x4.abs(x)), f32x4.splat(0.0));
  const num = v128.bitselect(kv(8), e, f32x4.ge(x, f32x4.splat(0.0)));
  return f32x4.div(num, f32x4.add(kv(8), e));
}

/** ln x for positive normal finite lanes: x = 2^e·m, m ∈ [√½, √2), ln m = 2·atanh(f/(2+f)), f = m − 1. */
@inline export function logF4(x: v128): v128 {
  let e = i32x4.sub(i32x4.shr_u(x, 23), kv(56));
  let m = v128.or(v128.and(x, kv(58)), kv(59));
  const big = f32x4.gt(m, kv(13));
  m = v128.bitselect(f32x4.mul(m, kv(14)), m, big);
  e = i32x4.sub(e, big); // big lanes are −1
  const ef = f32x4.convert_i32x4_s(e);
  const f = f32x4.sub(m, kv(8));
  const s = f32x4.div(f, f32x4.add(f, kv(12)));
  const z = f32x4.mul(s, s);
  let p = kv(15);
  p = f32x4.add(f32x4.mul(p, z), kv(16));
  p = f32x4.add(f32x4.mul(p, z), kv(17));
  p = f32x4.add(f32x4.mul(p, z), kv(18));
  const lm = f32x4.add(f32x4.add(s, s), f32x4.mul(f32x4.mul(s, z), p));
  return f32x4.add(f32x4.mul(ef, kv(6)), f32x4.add(f32x4.mul(ef, kv(7)), lm));
}

/** erf for any lanes: x·P(x²) for |x| < 0.875, else ±(1 − e^{−a²}·R(s)), s = (a − 2)/(a + 2), a ≤ 4. */
@inline export function erfF4(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = kv(19);
  p = f32x4.add(f32x4.mul(p, z), kv(20));
  p = f32x4.add(f32x4.mul(p, z), kv(21));
  p = f32x4.add(f32x4.mul(p, z), kv(22));
  p = f32x4.add(f32x4.mul(p, z), kv(23));
  p = f32x4.add(f32x4.mul(p, z), kv(24));
  p = f32x4.add(f32x4.mul(p, z), kv(25));
  const small = f32x4.mul(x, p);
  const t = f32x4.pmin(f32x4.pmax(a, kv(26)), kv(27));
  const s = f32x4.div(f32x4.sub(t, kv(12)), f32x4.add(t, kv(12)));
  let q = kv(28);
  q = f32x4.add(f32x4.mul(q, s), kv(29));
  q = f32x4.add(f32x4.mul(q, s), kv(30));
  q = f32x4.add(f32x4.mul(q, s), kv(31));
  q = f32x4.add(f32x4.mul(q, s), kv(32));
  q = f32x4.add(f32x4.mul(q, s), kv(33));
  q = f32x4.add(f32x4.mul(q, s), kv(34));
  const ec = f32x4.mul(expF4(f32x4.neg(f32x4.mul(t, t)), f32x4.splat(0.0)), q);
  const big = v128.or(f32x4.sub(kv(8), ec), v128.and(x, kv(57)));
  // NaN lanes: a < 0.875 is false and t is NaN, so big is NaN.
  return v128.bitselect(small, big, f32x4.lt(a, kv(26)));
}


// gelu and its derivative for x ≥ −13 (outputs normal; +∞ allowed), with a = min(|x|, 13.25):
// Φ(−a) = e^{−a²/2}·R(a), R(a) = G(s)/(a + 2.5) = G(s)·(1 − s)/5 with s = (a − 2.5)/(a + 2.5) ∈ [−1, 0.68] on
// a ∈ [0, 13.25]; G is a degree-9 fit (1.5e-8 relative; f32 evaluation ≤ 3e-7). a²/2 is split exactly
// (a = a_hi + a_lo, a_hi with 12 significant bits) so e^{−a²/2} keeps full relative accuracy up to a²/2 ≈ 88.
// Past 13.25 e^{−a²/2} comes out 0 (2^n with n = −127 has all-zero bits), which is the right limit for x > 0.

/** R(a) = e^{a²/2}·Φ(−a) for a ∈ [0, 13.25]. */
@inline export function geluRF4(a: v128): v128 {
  const s = f32x4.div(f32x4.sub(a, kv(79)), f32x4.add(a, kv(79)));
  let g = kv(78);
  g = f32x4.add(f32x4.mul(g, s), kv(77));
  g = f32x4.add(f32x4.mul(g, s), kv(76));
  g = f32x4.add(f32x4.mul(g, s), kv(75));
  g = f32x4.add(f32x4.mul(g, s), kv(74));
  g = f32x4.add(f32x4.mul(g, s), kv(73));
  g = f32x4.add(f32x4.mul(g, s), kv(72));
  g = f32x4.add(f32x4.mul(g, s), kv(71));
  g = f32x4.add(f32x4.mul(g, s), kv(70));
  g = f32x4.add(f32x4.mul(g, s), kv(69));
  return f32x4.mul(f32x4.mul(g, f32x4.sub(kv(8), s)), kv(80));
}

/** e^{−a²/2} for a ∈ [0, 13.25] (a² split exactly, see above). */
@inline export function expHalfSqF4(a: v128): v128 {
  const th = v128.and(a, kv(60));
  const tl = f32x4.sub(a, th);
  const hi = f32x4.mul(f32x4.mul(th, th), kv(53));
  const lo = f32x4.neg(f32x4.mul(f32x4.add(th, f32x4.mul(tl, kv(14))), tl));
  return expF4(hi, lo);
}

/** a = min(|x|, 13.25), the argument of geluRF4 and expHalfSqF4. */
@inline export function geluAbsF4(x: v128): v128 {
  return f32x4.pmin(f32x4.abs(x), kv(41));
}

/**
 * gelu(x) = x·Φ(x), x ≥ −13, from q = geluRF4(a), e = expHalfSqF4(a), a = geluAbsF4(x) (the parts are separate
 * so a kernel can interleave several vectors): with Q = Φ(−a) = e·q, x·(1 − Q) for x > 0 and x·Q for x ≤ 0
 * (the negative tail is computed directly, no cancellation).
 */
@inline export function geluOfF4(x: v128, q: v128, e: v128): v128 {
  const pos = f32x4.mul(x, f32x4.sub(kv(8), f32x4.mul(q, e)));
  const neg = f32x4.mul(f32x4.mul(x, q), e);
  return v128.bitselect(pos, neg, f32x4.gt(x, i32x4.splat(0)));
}

// On [−1.5, 2], where most activations of a network lie (the small Transformer's GELU inputs have RMS ≈ 0.6:
// 96–99% of its 4-lane vectors fall inside), gelu and gelu' are cheap polynomials in u = x² (no division, no
// exponential): Φ(x) = ½ + x·P(u) and gelu'(x) = ½ + x·S(u), P and S of degree 7 fitted to (Φ(x) − ½)/x and
// (gelu'(x) − ½)/x on [0, 4] (weighted least squares iterated towards minimax on the absolute error of x·P,
// rounded to f32). Measured in f32 against the f64 functions over 400k points of each range: gelu ≤ 1.4e-7
// relative on (0, 2] and ≤ 8.3e-7 relative on [−1.5, 0) (½ + x·P cancels there; at −2 it would be 2.6e-6,
// hence the asymmetric range), gelu' ≤ 1.8e-7 relative away from its root (x ≈ −0.75) and ≤ 1.4e-7 absolute
// near it. Outside the range the functions above keep their ≤ ~4 ulp. Every lane is routed by its own x, so
// a result depends on x alone (never on its neighbours): vectors that straddle the range take both paths and
// select per lane.

/** Lanes with −1.5 ≤ x ≤ 2 (the polynomial range); NaN lanes are not. */
@inline export function geluSmallLanes(x: v128): v128 {
  return v128.and(f32x4.ge(x, kv(97)), f32x4.le(x, kv(12)));
}

/** Σ_{i ≤ 7} c_i·u^i by Horner's rule, c_i = table entry c0 + i (P at 81, S at 89). */
@inline function poly7(u: v128, c0: i32): v128 {
  let p = kv(c0 + 7);
  p = f32x4.add(f32x4.mul(p, u), kv(c0 + 6));
  p = f32x4.add(f32x4.mul(p, u), kv(c0 + 5));
  p = f32x4.add(f32x4.mul(p, u), kv(c0 + 4));
  p = f32x4.add(f32x4.mul(p, u), kv(c0 + 3));
  p = f32x4.add(f32x4.mul(p, u), kv(c0 + 2));
  p = f32x4.add(f32x4.mul(p, u), kv(c0 + 1));
  return f32x4.add(f32x4.mul(p, u), kv(c0));
}

/** gelu(x) for lanes in [−1.5, 2]: x·(½ + x·P(x²)). */
@inline export function geluSmallF4(x: v128): v128 {
  return f32x4.mul(x, f32x4.add(kv(14), f32x4.mul(x, poly7(f32x4.mul(x, x), 81))));
}

/** gelu'(x) for lanes in [−1.5, 2]: ½ + x·S(x²). */
@inline export function geluGradSmallF4(x: v128): v128 {
  return f32x4.add(kv(14), f32x4.mul(x, poly7(f32x4.mul(x, x), 89)));
}

/** gelu(x) of one vector, x ≥ −13 (the full evaluation; see geluSmallF4 for [−1.5, 2]). */
@inline export function geluF4(x: v128): v128 {
  const a = geluAbsF4(x);
  return geluOfF4(x, geluRF4(a), expHalfSqF4(a));
}

/**
 * gelu'(x) = Φ(x) + x·φ(x), x ≥ −13, from a = geluAbsF4(x), q = geluRF4(a), e = expHalfSqF4(a) (the parts
 * are separate so a kernel can interleave several vectors): with D = R(a) − a/√(2π) (so e·D = Φ(−a) − a·φ(a)),
 * 1 − e·D for x > 0 and e·D for x ≤ 0. The negative tail keeps its relative accuracy (D ≈ −a there); D
 * cancels only near the root of gelu' (x ≈ −0.75), where the error stays ~1e-7 absolute.
 */
@inline export function geluGradOfF4(x: v128, a: v128, q: v128, e: v128): v128 {
  const ed = f32x4.mul(e, f32x4.sub(q, f32x4.mul(a, kv(39))));
  return v128.bitselect(f32x4.sub(kv(8), ed), ed, f32x4.gt(x, i32x4.splat(0)));
}

/** gelu'(x) of one vector, x ≥ −13. */
@inline export function geluGradF4(x: v128): v128 {
  const a = geluAbsF4(x);
  return geluGradOfF4(x, a, geluRF4(a), expHalfSqF4(a));
}

/**
 * e^{x−m} for f32x4 lanes (softmax), any x − m ≤ 0 including −∞: x − m is carried exactly as s + err
 * (two-sum), 2^n is applied in two steps so results down to the subnormals are right; s < −104 gives 0.
 */
@inline export function expDiffF4(x: v128, m: v128): v128 {
  const s = f32x4.sub(x, m);
  const bb = f32x4.sub(s, x);
  const err = f32x4.add(f32x4.sub(x, f32x4.sub(s, bb)), f32x4.sub(f32x4.neg(m), bb));
  // Lanes that end up 0 (s < −104, −∞ from masks) are computed at s = 0 instead: producing subnormal
  // intermediates costs a microcode assist per lane on x86, which made masked attention rows slow.
  const dead = f32x4.lt(s, kv(55));
  const sc = v128.andnot(f32x4.pmin(s, kv(10)), dead);
  const tm = f32x4.add(f32x4.mul(sc, kv(5)), kv(K_MAGIC));
  const n = nOf(tm);
  const r = f32x4.add(
    f32x4.sub(f32x4.sub(sc, f32x4.mul(n, kv(6))), f32x4.mul(n, kv(7))),
    v128.andnot(err, dead),
  );
  const p = f32x4.add(kv(8), expm1Red(r));
  // 2^n in one step unless a live lane has a subnormal result (s < −87.33), then in two steps.
  let res: v128;
  if (v128.any_true(f32x4.lt(sc, kv(K_EXP_LO)))) {
    const ni = i32x4.sub(tm, kv(K_MAGIC)); // round(sc·log2e) as i32 (MAGIC's bits minus themselves)
    const n1 = i32x4.shr_s(ni, 1);
    const e1 = i32x4.shl(i32x4.add(n1, kv(56)), 23);
    const e2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), kv(56)), 23);
    res = f32x4.mul(f32x4.mul(p, e1), e2);
  } else {
    res = f32x4.mul(p, pow2Of(tm));
  }
  return v128.andnot(res, dead);
}
