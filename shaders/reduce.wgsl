// reduce.wgsl: sum / mean / max / min over any set of axes, and argmax along one axis.
//
// reduce: one workgroup per output element; its invocations stride over the reduced elements, then a
// fixed-shape tree combines the partials (a fixed order per shape, so runs repeat bit for bit on one device).
// Params: [0] outputs, [1] reduced count, [2] kept rank, [3] reduced rank (each <= 8, after merging
// adjacent axes), [8..16) kept shape, [16..24) kept strides, [24..32) reduced shape, [32..40) reduced strides.

alias TX = f32;
const OP: u32 = 0u;   // 0 sum, 1 mean, 2 max, 3 min
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<TX>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

var<workgroup> part: array<f32, WG>;

fn offset_of(i: u32, rank: u32, shape_at: u32, stride_at: u32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = rank; d > 0u; d--) {
    let dim = pu(shape_at + d - 1u);
    off += (rem % dim) * pu(stride_at + d - 1u);
    rem = rem / dim;
  }
  return off;
}

fn combine(a: f32, b: f32) -> f32 {
  switch OP {
    case 2u: { return max_nan(a, b); }
    case 3u: { return min_nan(a, b); }
    default: { return a + b; }
  }
}
fn identity() -> f32 {
  switch OP {
    case 2u: { return -f_inf(); }
    case 3u: { return f_inf(); }
    default: { return 0.0; }
  }
}

@compute @workgroup_size(WG)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let o = flat_group(wid, nwg);
  if (o >= pu(0u)) { return; }
  let count = pu(1u);
  let base = offset_of(o, pu(2u), 8u, 16u);
  var acc = identity();
  for (var r = lid; r < count; r += WG) {
    acc = combine(acc, f32(X[base + offset_of(r, pu(3u), 24u, 32u)]));
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] = combine(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var v = part[0];
    if (OP == 1u) {
      if (count == 0u) { v = f_nan(); } else { v = v / f32(count); }
    }
    Y[o] = v;
  }
}

// reduce_small: one invocation per output element, combining in increasing reduced index; used when the
// reduced count is small (a whole workgroup per output would idle). Same params as reduce.
@compute @workgroup_size(WG)
fn reduce_small(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let o = flat_id(wid, nwg, lid, WG);
  if (o >= pu(0u)) { return; }
  let count = pu(1u);
  let base = offset_of(o, pu(2u), 8u, 16u);
  var acc = identity();
  for (var r = 0u; r < count; r++) {
    acc = combine(acc, f32(X[base + offset_of(r, pu(3u), 24u, 32u)]));
  }
  if (OP == 1u) {
    if (count == 0u) { acc = f_nan(); } else { acc = acc / f32(count); }
  }
  Y[o] = acc;
}

// argmax: one invocation per output element (outer * inner), scanning the axis in order; first maximum
// wins, NaN counts as the largest (first NaN wins). Params: [0] outputs, [1] axis length n, [2] inner.
@group(0) @binding(2) var<storage, read_write> AI: array<i32>;

@compute @workgroup_size(WG)
fn argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let inner = pu(2u);
  let base = (i / inner) * n * inner + i % inner;
  var best = 0u;
  var bv = f32(X[base]);
  if (!is_nan(bv)) {
    for (var t = 1u; t < n; t++) {
      let v = f32(X[base + t * inner]);
      if (is_nan(v)) { best = t; break; }
      if (v > bv) { best = t; bv = v; }
    }
  }
  AI[i] = i32(best);
}
