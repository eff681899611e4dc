// indexing.wgsl: indexSelect, gather, scatterAdd (deterministic: one invocation per output element, looping
// over its sources in increasing source index; no float atomics), oneHot.
// Out-of-range indices read as 0 / are skipped (the ops layer validates indices; a GPU kernel cannot throw).

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read> IDX: array<i32>;
@group(0) @binding(3) var<storage, read_write> Y: array<u32>;

// indexSelect: out [outer, n, inner] = x [outer, len, inner] at idx[j]. Params: [0] size, [1] n, [2] len, [3] inner.
@compute @workgroup_size(WG)
fn index_select(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let len = pu(2u);
  let inner = pu(3u);
  let o = i / (n * inner);
  let j = (i / inner) % n;
  let v = IDX[j];
  if (v < 0 || u32(v) >= len) { Y[i] = 0u; return; }
  Y[i] = X[(o * len + u32(v)) * inner + i % inner];
}

// gather: out[c] = x[c with c_axis := idx[c]]. Params: [0] size, [1] rank, [2] axis, [3] axis length,
// [8..16) index shape, [16..24) x strides.
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let axis = pu(2u);
  let v = IDX[i];
  if (v < 0 || u32(v) >= pu(3u)) { Y[i] = 0u; return; }
  var rem = i;
  var off = 0u;
  for (var d = pu(1u); d > 0u; d--) {
    let dim = pu(7u + d);
    let c = rem % dim;
    rem = rem / dim;
    if (d - 1u == axis) { off += u32(v) * pu(15u + d); } else { off += c * pu(15u + d); }
  }
  Y[i] = X[off];
}

// scatterAdd into zeros of outShape: out[c] = sum over t (increasing) of src[c with c_axis := t] where
// idx there == c_axis, for c inside the index shape off the axis. Params: [0] size, [1] rank, [2] axis,
// [3] index-shape length on the axis, [8..16) out shape, [16..24) index shape, [24..32) index strides.
@group(0) @binding(1) var<storage, read> SRC: array<f32>;
@group(0) @binding(3) var<storage, read_write> SY: array<f32>;

@compute @workgroup_size(WG)
fn scatter_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let axis = pu(2u);
  var rem = i;
  var base = 0u;
  var tgt = 0u;
  var inside = true;
  var axis_stride = 0u;
  for (var d = pu(1u); d > 0u; d--) {
    let dim = pu(7u + d);
    let c = rem % dim;
    rem = rem / dim;
    if (d - 1u == axis) {
      tgt = c;
      axis_stride = pu(23u + d);
    } else {
      if (c >= pu(15u + d)) { inside = false; }
      base += c * pu(23u + d);
    }
  }
  var acc = 0.0;
  if (inside) {
    for (var t = 0u; t < pu(3u); t++) {
      let p = base + t * axis_stride;
      if (IDX[p] == i32(tgt)) { acc += SRC[p]; }
    }
  }
  SY[i] = acc;
}

// oneHot: out [n, depth] f32. Params: [0] size, [1] depth.
@group(0) @binding(2) var<storage, read_write> OH: array<f32>;
@group(0) @binding(1) var<storage, read> OIDX: array<i32>;

@compute @workgroup_size(WG)
fn one_hot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let depth = pu(1u);
  OH[i] = select(0.0, 1.0, OIDX[i / depth] == i32(i % depth));
}
