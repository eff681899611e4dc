// common.wgsl: prepended to every kernel family (see src/backend/webgpu/pipelines.ts).
//
// Binding 0 of group 0 is always the params uniform: 256 u32 words (shapes, sizes, scalars as f32 bits).
// Storages are bound at 1, 2, ... in the order the host passes them. u8 storages are array<u32>, one word
// per element.
//
// Math: exp, log, sin, cos, tanh, erf are written here instead of using the built-ins, whose precision in
// WGSL is loose (e.g. Vulkan allows sin/cos an absolute error of 2^-11 and exp 3 + 2|x| ulp) and varies
// across devices. These versions reduce the argument exactly (Cody-Waite splits) and evaluate short
// polynomials, giving errors of a few f32 ulp on every device. NaN tests use bit patterns, which survive
// fast-math compilers.

struct Params { v: array<vec4<u32>, 64> }
@group(0) @binding(0) var<uniform> P: Params;

fn pu(i: u32) -> u32 { return P.v[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }

// Flat invocation index of a 1-D dispatch that may spill into y (see WebGpuRuntime.grid).
fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, wg: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * wg + lid;
}
// Flat workgroup index of a dispatch that may spill into y.
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

// Private vars keep these out of const-expression evaluation (which rejects inf and NaN).
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn f_inf() -> f32 { return bitcast<f32>(INF_BITS); }
fn f_nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }

// max / min that propagate NaN (as Math.max / Math.min do).
fn max_nan(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return f_nan(); }
  return max(a, b);
}
fn min_nan(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return f_nan(); }
  return min(a, b);
}

// ---- exp / expm1 / log ---------------------------------------------------------------------------
const LN2_HI: f32 = 0.693145751953125;      // 15 significant bits: k * LN2_HI is exact for |k| < 2^8
const LN2_LO: f32 = 1.428606765330187e-6;
const LOG2E: f32 = 1.4426950408889634;

// e^r for |r| <= ln2/2 (Taylor to degree 7: truncation < 5e-9 relative).
fn exp_poly(r: f32) -> f32 {
  return 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 +
    r * (0.008333333333333333 + r * (0.001388888888888889 + r * 0.0001984126984126984))))));
}

fn exp_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72283935546875) { return f_inf(); }
  if (x < -103.97208404541016) { return 0.0; }
  let k = round(x * LOG2E);
  let r = (x - k * LN2_HI) - k * LN2_LO;
  let ki = i32(k);
  // Two steps keep 2^k representable at both ends of the range.
  let h = ki / 2;
  return ldexp(ldexp(exp_poly(r), h), ki - h);
}

// e^x - 1 without cancellation for small |x|.
fn expm1_f(x: f32) -> f32 {
  if (abs(x) < 0.35) {
    // Taylor to degree 9: truncation < 1e-9 relative on this range.
    return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333 +
      x * (0.001388888888888889 + x * (0.0001984126984126984 + x * (2.48015873015873e-5 + x * 2.755731922398589e-6))))))));
  }
  return exp_f(x) - 1.0;
}

fn log_f(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return f_nan(); }
  if (x == 0.0) { return -f_inf(); }
  if (is_inf(x)) { return x; }
  let fr = frexp(x);
  var m = fr.fract;      // [0.5, 1)
  var e = f32(fr.exp);
  if (m < 0.7071067811865476) { m = m * 2.0; e = e - 1.0; }
  let f = m - 1.0;       // exact (Sterbenz), in [-0.293, 0.414]
  let s = f / (2.0 + f); // log(1+f) = 2 atanh(s), |s| <= 0.1716
  let s2 = s * s;
  let t = s2 * (0.6666666666666666 + s2 * (0.4 + s2 * (0.2857142857142857 + s2 * (0.2222222222222222 +
    s2 * (0.18181818181818182 + s2 * 0.15384615384615385)))));
  // log(1+f) = f - s*(f - t) with 2 atanh(s) = 2s + s*t ... written as f - hfsq + s*(hfsq + t).
  let hfsq = 0.5 * f * f;
  let l = f - (hfsq - s * (hfsq + t));
  return e * LN2_HI + (l + e * LN2_LO);
}

// ---- sin / cos ------------------------------------------------------------------------------------
// pi/2 split in three f32 parts: k * PIO2_1 and k * PIO2_2 are exact for |k| < 2^11 (|x| < ~3200).
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 0.0004838705062866211;
const PIO2_3: f32 = -4.371138828673793e-8;
const TWO_OVER_PI: f32 = 0.6366197723675814;

fn sin_poly(r: f32) -> f32 {
  let r2 = r * r;
  return r + r * r2 * (-0.16666666666666666 + r2 * (0.008333333333333333 + r2 * (-0.0001984126984126984 +
    r2 * (2.7557319223985893e-6 + r2 * -2.505210838544172e-8))));
}
fn cos_poly(r: f32) -> f32 {
  let r2 = r * r;
  return 1.0 - 0.5 * r2 + r2 * r2 * (0.041666666666666664 + r2 * (-0.001388888888888889 + r2 *
    (2.48015873015873e-5 + r2 * (-2.755731922398589e-7 + r2 * 2.08767569878681e-9))));
}
// sin (q even) or cos (q odd) of x + q*pi/2 after reduction.
fn sincos_q(x: f32, q0: u32) -> f32 {
  if (is_nan(x) || is_inf(x)) { return f_nan(); }
  let k = round(x * TWO_OVER_PI);
  let r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
  let q = (bitcast<u32>(i32(k)) + q0) & 3u;
  switch q {
    case 0u: { return sin_poly(r); }
    case 1u: { return cos_poly(r); }
    case 2u: { return -sin_poly(r); }
    default: { return -cos_poly(r); }
  }
}
fn sin_f(x: f32) -> f32 { return sincos_q(x, 0u); }
fn cos_f(x: f32) -> f32 { return sincos_q(x, 1u); }

// cos(2*pi*u) for u in [0, 1), with exact reduction in quarter turns.
fn cos_2pi(u: f32) -> f32 {
  let t = u * 4.0;            // exact
  let k = round(t);
  let r = (t - k) * 1.5707963267948966;
  switch (u32(k) & 3u) {
    case 0u: { return cos_poly(r); }
    case 1u: { return -sin_poly(r); }
    case 2u: { return -cos_poly(r); }
    default: { return sin_poly(r); }
  }
}

// ---- tanh / sigmoid -------------------------------------------------------------------------------
fn tanh_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  var t: f32;
  if (a < 0.55) {
    let e = expm1_f(2.0 * a);
    t = e / (e + 2.0);
  } else if (a > 9.1) {
    t = 1.0;
  } else {
    t = 1.0 - 2.0 / (exp_f(2.0 * a) + 1.0);
  }
  return select(t, -t, x < 0.0);
}

fn sigmoid_f(x: f32) -> f32 {
  return 1.0 / (1.0 + exp_f(-x));
}

// ---- erf / erfc -----------------------------------------------------------------------------------
// |x| < 2: erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)) (positive terms).
// |x| >= 2: erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), depth 40.
// e^{-x^2} uses the exact square x*x = hi + lo (fma) so the rounding of x^2 does not enter the exponent.
fn exp_neg_sq(x: f32) -> f32 {
  let hi = x * x;
  let lo = fma(x, x, -hi);
  return exp_f(-hi) * (1.0 - lo);
}
fn erf_series(a: f32) -> f32 {
  let x2 = a * a;
  var term = a;
  var sum = a;
  for (var n = 1; n < 60; n++) {
    term = term * (2.0 * x2) / f32(2 * n + 1);
    let next = sum + term;
    if (next == sum) { break; }
    sum = next;
  }
  return 1.1283791670955126 * exp_neg_sq(a) * sum;
}
fn erfc_cf(a: f32) -> f32 {
  if (a > 10.5) { return 0.0; }
  var f = a;
  for (var j = 40; j >= 1; j--) { f = a + (f32(j) * 0.5) / f; }
  return 0.5641895835477563 * exp_neg_sq(a) / f;
}
// erfc(a) e^{a^2} on [0.5, 2): degree-12 polynomial in t = (a - 1.25) / 0.75 (Chebyshev interpolant of
// the f64 reference, converted to monomials; max relative error 1.1e-7 when evaluated in f32). Using it
// instead of 1 - erf(a) keeps erfc (and gelu for negative x) relatively accurate where erf is close to 1.
fn erfc_mid(a: f32) -> f32 {
  let t = (a - 1.25) / 0.75;
  return 0.3678229165 + t * (-0.1566164068 + t * (0.06007250894 + t * (-0.02118583853 + t * (0.006964534098 +
    t * (-0.002155080817 + t * (0.0006323702251 + t * (-0.0001770794864 + t * (0.00004747438090 +
    t * (-0.00001205702315 + t * (0.000003004791676 + t * (-8.712470302e-7 + t * 2.013653146e-7)))))))))));
}
fn erf_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 2.0) { r = erf_series(a); } else { r = 1.0 - erfc_cf(a); }
  return select(r, -r, x < 0.0);
}
fn erfc_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 0.5) { r = 1.0 - erf_series(a); }
  else if (a < 2.0) { r = exp_neg_sq(a) * erfc_mid(a); }
  else { r = erfc_cf(a); }
  if (x < 0.0) {
    if (a < 2.0) { return 1.0 + erf_series(a); }
    return 2.0 - r;
  }
  return r;
}

// ---- Philox4x32-10 (src/tensor/random.ts), for random.wgsl and in-kernel dropout ------------------------
// High and low 32 bits of a 32 x 32-bit product, from 16-bit halves.
fn mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lolo = a_lo * b_lo;
  let lohi = a_lo * b_hi;
  let hilo = a_hi * b_lo;
  let hihi = a_hi * b_hi;
  let cross = (lolo >> 16u) + (lohi & 0xffffu) + (hilo & 0xffffu);
  let hi = hihi + (lohi >> 16u) + (hilo >> 16u) + (cross >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var x = ctr;
  var k = key;
  for (var r = 0; r < 10; r++) {
    let p0 = mul_hi_lo(0xd2511f53u, x.x);
    let p1 = mul_hi_lo(0xcd9e8d57u, x.z);
    x = vec4<u32>(p1.x ^ x.y ^ k.x, p1.y, p0.x ^ x.w ^ k.y, p0.y);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return x;
}
