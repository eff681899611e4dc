// pool.wgsl: avg / max pooling over the last axis of [rows, L] and their backward kernels.
// Params: [0] size, [1] L, [2] Lout, [3] k, [4] stride, [5] pad.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

// avg: padded zeros count in k.
@compute @workgroup_size(WG)
fn avg_pool(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let L = i32(pu(1u)); let lout = pu(2u); let k = i32(pu(3u)); let stride = i32(pu(4u)); let pad = i32(pu(5u));
  let r = i / lout;
  let start = i32(i % lout) * stride - pad;
  var acc = 0.0;
  for (var t = 0; t < k; t++) {
    let pos = start + t;
    if (pos >= 0 && pos < L) { acc += X[r * u32(L) + u32(pos)]; }
  }
  Y[i] = acc / f32(k);
}

// avg backward: dx [rows, L] from dy (X) [rows, Lout]; windows covering a position summed in increasing o.
@compute @workgroup_size(WG)
fn avg_pool_back(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let L = pu(1u); let lout = i32(pu(2u)); let k = i32(pu(3u)); let stride = i32(pu(4u)); let pad = i32(pu(5u));
  let r = i / L;
  let pos = i32(i % L);
  // o*stride - pad <= pos < o*stride - pad + k
  let num = pos + pad - k + 1;
  var omin = 0;
  if (num > 0) { omin = (num + stride - 1) / stride; }
  let omax = min(lout - 1, (pos + pad) / stride);
  var acc = 0.0;
  for (var o = omin; o <= omax; o++) { acc += X[r * u32(lout) + u32(o)]; }
  Y[i] = acc / f32(k);
}

// max: ignores padding; first maximum; NaN wins. An all-padding window gives -inf and index -1.
@group(0) @binding(3) var<storage, read_write> YI: array<i32>;

@compute @workgroup_size(WG)
fn max_pool(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let L = i32(pu(1u)); let lout = pu(2u); let k = i32(pu(3u)); let stride = i32(pu(4u)); let pad = i32(pu(5u));
  let r = i / lout;
  let start = i32(i % lout) * stride - pad;
  var best = -1;
  var bv = -f_inf();
  for (var t = 0; t < k; t++) {
    let pos = start + t;
    if (pos < 0 || pos >= L) { continue; }
    let v = X[r * u32(L) + u32(pos)];
    if (best < 0 || v > bv || (is_nan(v) && !is_nan(bv))) { best = pos; bv = v; }
  }
  Y[i] = bv;
  YI[i] = best;
}

// max backward: dx[r, l] = sum over o (increasing) with idx[r, o] == l of dy[r, o]. The contract gives no
// window geometry here, so every o of the row is visited. Params: [0] size, [1] L, [2] Lout.
@group(0) @binding(2) var<storage, read> MI: array<i32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WG)
fn max_pool_back(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let L = pu(1u); let lout = pu(2u);
  let r = i / L;
  let pos = i32(i % L);
  var acc = 0.0;
  for (var o = 0u; o < lout; o++) {
    let p = r * lout + o;
    if (MI[p] == pos) { acc += X[p]; }
  }
  DX[i] = acc;
}
