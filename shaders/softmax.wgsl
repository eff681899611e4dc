// softmax.wgsl: numerically stable softmax / log-softmax over the last axis, one workgroup per row.
// Params: [0] rows, [1] d (row length).

const LOG: u32 = 0u;  // 1: log-softmax
const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let row = flat_group(wid, nwg);
  if (row >= pu(0u)) { return; }
  let d = pu(1u);
  let base = row * d;
  var m = -f_inf();
  for (var j = lid; j < d; j += WG) { m = max_nan(m, X[base + j]); }
  part[lid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] = max_nan(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  let mx = part[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var j = lid; j < d; j += WG) { sum += exp_f(X[base + j] - mx); }
  part[lid] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  let total = part[0];
  if (LOG == 1u) {
    let ls = log_f(total);
    for (var j = lid; j < d; j += WG) { Y[base + j] = (X[base + j] - mx) - ls; }
  } else {
    for (var j = lid; j < d; j += WG) { Y[base + j] = exp_f(X[base + j] - mx) / total; }
  }
}
