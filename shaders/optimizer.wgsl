// optimizer.wgsl: the fused Adam update, one invocation per element.
// Params: [0] n, [1] β1, [2] 1 − β1, [3] β2, [4] 1 − β2, [5] √(1 − β2^t), [6] eps, [7] lr / (1 − β1^t) (f32 bits).

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> PARAM: array<f32>;
@group(0) @binding(2) var<storage, read> GRAD: array<f32>;
@group(0) @binding(3) var<storage, read> M_IN: array<f32>;
@group(0) @binding(4) var<storage, read> V_IN: array<f32>;
@group(0) @binding(5) var<storage, read_write> P_OUT: array<f32>;
@group(0) @binding(6) var<storage, read_write> M_OUT: array<f32>;
@group(0) @binding(7) var<storage, read_write> V_OUT: array<f32>;

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let g = GRAD[i];
  let m = M_IN[i] * pf(1u) + g * pf(2u);
  let v = V_IN[i] * pf(3u) + (g * g) * pf(4u);
  let denom = sqrt(v) / pf(5u) + pf(6u);
  P_OUT[i] = PARAM[i] - (m / denom) * pf(7u);
  M_OUT[i] = m;
  V_OUT[i] = v;
}
