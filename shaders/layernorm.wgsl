// layernorm.wgsl: layer norm forward and backward over the last axis (two-pass statistics).
// Params: [0] rows, [1] d, [2] eps (f32 bits).

const WG: u32 = 64u;

var<workgroup> part: array<f32, WG>;
var<workgroup> part2: array<f32, WG>;

fn tree_sum(lid: u32, v: f32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] = part[lid] + part[lid + s]; }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}

fn tree_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
  part[lid] = v.x;
  part2[lid] = v.y;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      part[lid] = part[lid] + part[lid + s];
      part2[lid] = part2[lid] + part2[lid + s];
    }
    workgroupBarrier();
  }
  let r = vec2<f32>(part[0], part2[0]);
  workgroupBarrier();
  return r;
}

// forward: x(1) gamma(2) beta(3) → y(4) mean(5) rstd(6); one workgroup per row.
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> BT: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
@group(0) @binding(5) var<storage, read_write> MEAN: array<f32>;
@group(0) @binding(6) var<storage, read_write> RSTD: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let row = flat_group(wid, nwg);
  if (row >= pu(0u)) { return; }
  let d = pu(1u);
  let base = row * d;
  var s = 0.0;
  for (var j = lid; j < d; j += WG) { s += X[base + j]; }
  let mu = tree_sum(lid, s) / f32(d);
  var q = 0.0;
  for (var j = lid; j < d; j += WG) { let c = X[base + j] - mu; q += c * c; }
  let rs = 1.0 / sqrt(tree_sum(lid, q) / f32(d) + pf(2u));
  for (var j = lid; j < d; j += WG) { Y[base + j] = (X[base + j] - mu) * rs * G[j] + BT[j]; }
  if (lid == 0u) { MEAN[row] = mu; RSTD[row] = rs; }
}

// backward dx: dy(1) x(2) gamma(3) mean(4) rstd(5) → dx(6); one workgroup per row.
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> BX: array<f32>;
@group(0) @binding(3) var<storage, read> BG: array<f32>;
@group(0) @binding(4) var<storage, read> BM: array<f32>;
@group(0) @binding(5) var<storage, read> BR: array<f32>;
@group(0) @binding(6) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WG)
fn backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = flat_group(wid, nwg);
  if (row >= pu(0u)) { return; }
  let d = pu(1u);
  let base = row * d;
  let m = BM[row];
  let s = BR[row];
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < d; j += WG) {
    let g = DY[base + j] * BG[j];
    acc += vec2<f32>(g, g * ((BX[base + j] - m) * s));
  }
  let sums = tree_sum2(lid, acc) / f32(d);
  for (var j = lid; j < d; j += WG) {
    let xh = (BX[base + j] - m) * s;
    DX[base + j] = s * (DY[base + j] * BG[j] - sums.x - xh * sums.y);
  }
}

// backward dgamma / dbeta: dy(1) x(2) mean(3) rstd(4) → dgamma(5) dbeta(6); one invocation per column,
// summing rows in increasing order.
@group(0) @binding(1) var<storage, read> CDY: array<f32>;
@group(0) @binding(2) var<storage, read> CX: array<f32>;
@group(0) @binding(3) var<storage, read> CM: array<f32>;
@group(0) @binding(4) var<storage, read> CR: array<f32>;
@group(0) @binding(5) var<storage, read_write> DG: array<f32>;
@group(0) @binding(6) var<storage, read_write> DB: array<f32>;

@compute @workgroup_size(WG)
fn backward_dgamma(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let j = flat_id(wid, nwg, lid, WG);
  let d = pu(1u);
  if (j >= d) { return; }
  let rows = pu(0u);
  var dg = 0.0;
  var db = 0.0;
  for (var r = 0u; r < rows; r++) {
    let gy = CDY[r * d + j];
    dg += gy * ((CX[r * d + j] - CM[r]) * CR[r]);
    db += gy;
  }
  DG[j] = dg;
  DB[j] = db;
}

