// batchnorm.wgsl: batch-norm statistics (mean and biased variance per channel, two passes).

const WG: u32 = 64u;

var<workgroup> part: array<f32, WG>;

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

// batch-norm statistics for x [outer, C, inner]: x(1) → mean(2) var(3); one workgroup per channel.
// Params: [0] outer, [1] C, [2] inner.
@group(0) @binding(1) var<storage, read> NX: array<f32>;
@group(0) @binding(2) var<storage, read_write> NMEAN: array<f32>;
@group(0) @binding(3) var<storage, read_write> NVAR: array<f32>;

@compute @workgroup_size(WG)
fn batchnorm_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let ch = flat_group(wid, nwg);
  let c = pu(1u);
  if (ch >= c) { return; }
  let inner = pu(2u);
  let count = pu(0u) * inner;
  var s = 0.0;
  for (var e = lid; e < count; e += WG) { s += NX[((e / inner) * c + ch) * inner + e % inner]; }
  let mu = tree_sum(lid, s) / f32(count);
  var q = 0.0;
  for (var e = lid; e < count; e += WG) {
    let dv = NX[((e / inner) * c + ch) * inner + e % inner] - mu;
    q += dv * dv;
  }
  let v = tree_sum(lid, q) / f32(count);
  if (lid == 0u) { NMEAN[ch] = mu; NVAR[ch] = v; }
}
