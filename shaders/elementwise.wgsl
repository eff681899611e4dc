// elementwise.wgsl: fill, cast, unary, broadcasting binary, gelu's gradient.
//
// Params (all entries): [0] n = output elements. Broadcasting entries also: [1] rank (<= 8),
// [8..16) output shape, [16..24) strides of a, [24..32) strides of b (0 on broadcast dimensions).

alias TX = f32;   // input element type (u8 storages are u32)
alias TA = f32;
alias TB = f32;
alias TO = f32;   // output element type
const OP: u32 = 0u;
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read_write> FILL_OUT: array<u32>;

// fill: [1] the 32-bit pattern of the value, already cast to the dtype on the host.
@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  FILL_OUT[i] = pu(1u);
}

@group(0) @binding(1) var<storage, read> X: array<TX>;
@group(0) @binding(2) var<storage, read_write> Y: array<TO>;

// cast: OP 0 → f32 (value), 1 → i32 (truncate toward zero, saturate, NaN → 0), 2 → u8 (x != 0).
fn to_i32_sat(v: f32) -> i32 {
  if (is_nan(v)) { return 0; }
  if (v >= 2147483648.0) { return 2147483647; }
  if (v <= -2147483648.0) { return -2147483647 - 1; }
  return i32(v);
}
@compute @workgroup_size(WG)
fn cast_(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let x = X[i];
  switch OP {
    case 0u: { Y[i] = TO(f32(x)); }
    case 1u: { Y[i] = TO(to_i32_sat(f32(x))); }
    default: { Y[i] = TO(select(0u, 1u, f32(x) != 0.0 || is_nan(f32(x)))); }
  }
}

// unary ops, in the order of UNARY_OPS in src/backend/kernels.ts.
fn unary_op(x: f32) -> f32 {
  switch OP {
    case 0u: { return -x; }
    case 1u: { return exp_f(x); }
    case 2u: { return log_f(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return 1.0 / sqrt(x); }
    case 5u: { return abs(x); }
    case 6u: {
      if (is_nan(x)) { return x; }
      return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0);
    }
    case 7u: { return tanh_f(x); }
    case 8u: { return sigmoid_f(x); }
    case 9u: {
      if (is_nan(x)) { return x; }
      return select(0.0, x, x > 0.0);
    }
    case 10u: {
      // gelu(x) = x * 0.5 * erfc(-x / sqrt(2))
      if (x == -f_inf()) { return 0.0; }
      return x * 0.5 * erfc_f(-x * 0.7071067811865476);
    }
    case 11u: { return select(expm1_f(x), x, x > 0.0); }
    case 12u: { return sin_f(x); }
    case 13u: { return cos_f(x); }
    case 14u: { return erf_f(x); }
    case 15u: { return x * x; }
    case 16u: { return 1.0 / x; }
    default: { return floor(x); }
  }
}

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  Y[i] = TO(unary_op(f32(X[i])));
}

// ---- broadcasting binary --------------------------------------------------------------------------
@group(0) @binding(1) var<storage, read> A: array<TA>;
@group(0) @binding(2) var<storage, read> B: array<TB>;
@group(0) @binding(3) var<storage, read_write> Z: array<TO>;

// Offsets of output element i in a and b.
fn bcast2(i: u32) -> vec2<u32> {
  var rem = i;
  var oa = 0u;
  var ob = 0u;
  let r = pu(1u);
  for (var d = r; d > 0u; d--) {
    let dim = pu(7u + d);
    let c = rem % dim;
    rem = rem / dim;
    oa += c * pu(15u + d);
    ob += c * pu(23u + d);
  }
  return vec2<u32>(oa, ob);
}

// pow with JS semantics for negative bases and integer exponents.
fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return f_nan(); }
  let ab = abs(a);
  if (a == 0.0) {
    let odd = floor(b) == b && abs(b) < 16777216.0 && (i32(b) & 1) == 1;
    if (b > 0.0) { return select(0.0, a, odd); }
    return select(f_inf(), 1.0 / a, odd);
  }
  if (is_inf(b)) {
    if (ab == 1.0) { return f_nan(); }
    if ((ab > 1.0) == (b > 0.0)) { return f_inf(); }
    return 0.0;
  }
  var r: f32;
  // Small integer exponents: repeated squaring (exact where the product is).
  if (floor(b) == b && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = ab;
    r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (b < 0.0) { r = 1.0 / r; }
  } else {
    // |a|^b = e^(b ln|a|) with ln|a| split into hi + lo so the product keeps ~f32 precision.
    let l = log_f(ab);
    let p = b * l;
    let perr = fma(b, l, -p);
    r = exp_f(p) * (1.0 + perr);
  }
  if (a < 0.0) {
    if (floor(b) != b) { return f_nan(); }
    let odd = abs(b) < 16777216.0 && (i32(b) & 1) == 1;
    if (odd) { r = -r; }
  }
  return r;
}

fn binary_f(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return pow_f(a, b); }
    case 5u: { return max_nan(a, b); }
    default: { return min_nan(a, b); }
  }
}
fn binary_i(a: i32, b: i32) -> i32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 5u: { return max(a, b); }
    default: { return min(a, b); }
  }
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let o = bcast2(i);
  Z[i] = TO(binary_f(f32(A[o.x]), f32(B[o.y])));
}

@compute @workgroup_size(WG)
fn binary_int(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let o = bcast2(i);
  Z[i] = TO(binary_i(i32(A[o.x]), i32(B[o.y])));
}

// ---- gelu backward: Z = A * gelu'(B), A = dy, B = x (f32, same size) ----------------------------------
// gelu'(x) = Φ(x) + x·φ(x) = ½·erfc(−x/√2) + x·e^{−x²/2}/√(2π); e^{−x²/2} from the exact split of x² (fma), as
// exp_neg_sq does. Past |x| = 20 it is 1 or 0 to far below f32 resolution (and the formula's ∞·0 at ±∞ is
// avoided).
fn gelu_grad_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (abs(x) > 20.0) { return select(0.0, 1.0, x > 0.0); }
  let hi = x * x;
  let lo = fma(x, x, -hi);
  let phi = exp_f(-0.5 * hi) * (1.0 - 0.5 * lo) * 0.3989422804014327;
  return 0.5 * erfc_f(-x * 0.7071067811865476) + x * phi;
}

@compute @workgroup_size(WG)
fn gelu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  Z[i] = TO(f32(A[i]) * gelu_grad_f(f32(B[i])));
}

// dropout_mask: A = x (f32), B = keep (u8 as u32 words), Z = x · (keep ? scale : 0); [1] scale (f32 bits).
@compute @workgroup_size(WG)
fn dropout_mask(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  Z[i] = TO(f32(A[i]) * select(0.0, pf(1u), u32(B[i]) != 0u));
}
