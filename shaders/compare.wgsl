// compare.wgsl: broadcasting comparison (→ u8 as u32 words) and broadcasting select (where).
//
// Params: [0] n = output elements, [1] rank (<= 8), [8..16) output shape, [16..24) strides of a,
// [24..32) strides of b, [32..40) strides of cond (where only).

alias TA = f32;
alias TB = f32;
alias TO = u32;
const OP: u32 = 0u;
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> A: array<TA>;
@group(0) @binding(2) var<storage, read> B: array<TB>;
@group(0) @binding(3) var<storage, read_write> Z: array<u32>;

fn offsets(i: u32) -> vec3<u32> {
  var rem = i;
  var o = vec3<u32>(0u, 0u, 0u);
  for (var d = pu(1u); d > 0u; d--) {
    let dim = pu(7u + d);
    let c = rem % dim;
    rem = rem / dim;
    o += c * vec3<u32>(pu(15u + d), pu(23u + d), pu(31u + d));
  }
  return o;
}

fn cmp_f(a: f32, b: f32) -> bool {
  switch OP {
    case 0u: { return a == b; }
    case 1u: { return !(a == b); }
    case 2u: { return a < b; }
    case 3u: { return a <= b; }
    case 4u: { return a > b; }
    default: { return a >= b; }
  }
}
fn cmp_i(a: i32, b: i32) -> bool {
  switch OP {
    case 0u: { return a == b; }
    case 1u: { return a != b; }
    case 2u: { return a < b; }
    case 3u: { return a <= b; }
    case 4u: { return a > b; }
    default: { return a >= b; }
  }
}

// Comparisons with a NaN are false (ne: true), whatever the compiler assumes about NaN.
@compute @workgroup_size(WG)
fn compare(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let o = offsets(i);
  let a = f32(A[o.x]);
  let b = f32(B[o.y]);
  var r = cmp_f(a, b);
  if (is_nan(a) || is_nan(b)) { r = OP == 1u; }
  Z[i] = select(0u, 1u, r);
}

@compute @workgroup_size(WG)
fn compare_int(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let o = offsets(i);
  Z[i] = select(0u, 1u, cmp_i(i32(A[o.x]), i32(B[o.y])));
}

// where: cond at binding 1, a at 2, b at 3, out at 4. Same-dtype a and b are copied as raw words (TA = TB =
// TO = u32); mixed dtypes convert to f32.
@group(0) @binding(1) var<storage, read> WC: array<u32>;
@group(0) @binding(2) var<storage, read> WA: array<TA>;
@group(0) @binding(3) var<storage, read> WB: array<TB>;
@group(0) @binding(4) var<storage, read_write> WO: array<TO>;

@compute @workgroup_size(WG)
fn where_(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let o = offsets(i);
  if (WC[o.z] != 0u) { WO[i] = TO(WA[o.x]); } else { WO[i] = TO(WB[o.y]); }
}
