// conv.wgsl: conv1d forward and its two backward kernels; one invocation per output element, sums in a
// fixed order. Params: [0] size, [1] N, [2] Cin, [3] L, [4] Cout, [5] K, [6] Lout, [7] stride, [8] dilation,
// [9] padLeft.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> IN0: array<f32>;
@group(0) @binding(2) var<storage, read> IN1: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

// y [N, Cout, Lout] from x (IN0) [N, Cin, L] and w (IN1) [Cout, Cin, K].
@compute @workgroup_size(WG)
fn conv1d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let cin = pu(2u); let L = i32(pu(3u)); let cout = pu(4u); let K = pu(5u); let lout = pu(6u);
  let stride = i32(pu(7u)); let dil = i32(pu(8u)); let padl = i32(pu(9u));
  let lo = i % lout;
  let co = (i / lout) % cout;
  let nb = i / (lout * cout);
  var acc = 0.0;
  for (var ci = 0u; ci < cin; ci++) {
    for (var k = 0u; k < K; k++) {
      let pos = i32(lo) * stride + i32(k) * dil - padl;
      if (pos >= 0 && pos < L) {
        acc = fma(IN0[(nb * cin + ci) * u32(L) + u32(pos)], IN1[(co * cin + ci) * K + k], acc);
      }
    }
  }
  OUT[i] = acc;
}

// dx [N, Cin, L] from dy (IN0) [N, Cout, Lout] and w (IN1).
@compute @workgroup_size(WG)
fn conv1d_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let cin = pu(2u); let L = pu(3u); let cout = pu(4u); let K = pu(5u); let lout = i32(pu(6u));
  let stride = i32(pu(7u)); let dil = i32(pu(8u)); let padl = i32(pu(9u));
  let l = i32(i % L);
  let ci = (i / L) % cin;
  let nb = i / (L * cin);
  var acc = 0.0;
  for (var co = 0u; co < cout; co++) {
    for (var k = 0u; k < K; k++) {
      let t = l + padl - i32(k) * dil;
      if (t >= 0 && t % stride == 0 && t / stride < lout) {
        acc = fma(IN0[(nb * cout + co) * u32(lout) + u32(t / stride)], IN1[(co * cin + ci) * K + k], acc);
      }
    }
  }
  OUT[i] = acc;
}

// dw [Cout, Cin, K] from dy (IN0) [N, Cout, Lout] and x (IN1) [N, Cin, L].
@compute @workgroup_size(WG)
fn conv1d_dw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let N = pu(1u); let cin = pu(2u); let L = i32(pu(3u)); let cout = pu(4u); let K = pu(5u); let lout = pu(6u);
  let stride = i32(pu(7u)); let dil = i32(pu(8u)); let padl = i32(pu(9u));
  let k = i % K;
  let ci = (i / K) % cin;
  let co = i / (K * cin);
  var acc = 0.0;
  for (var nb = 0u; nb < N; nb++) {
    for (var lo = 0u; lo < lout; lo++) {
      let pos = i32(lo) * stride + i32(k) * dil - padl;
      if (pos >= 0 && pos < L) {
        acc = fma(IN0[(nb * cout + co) * lout + lo], IN1[(nb * cin + ci) * u32(L) + u32(pos)], acc);
      }
    }
  }
  OUT[i] = acc;
}
