// movement.wgsl: permute / slice / pad / roll (one generic strided remap), concat (block copy), cumsum.
// Data moves as raw 32-bit words, so one pipeline serves f32, i32 and u8 (u32 words).

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;

// remap: out[o_0..o_r] = x[sum_d src_d * stride_d] with src_d = o_d + off_d, out-of-range handled by mode:
// 0 zero (write 0), 1 circular (wrap), 2 replicate (clamp).
// Params: [0] n, [1] rank (<= 8), [2] mode, [8..16) out shape, [16..24) source strides, [24..32) source
// dims, [32..40) offsets (i32).
@compute @workgroup_size(WG)
fn remap(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let mode = pu(2u);
  var rem = i;
  var off = 0u;
  var zero = false;
  for (var d = pu(1u); d > 0u; d--) {
    let dim = pu(7u + d);
    let o = rem % dim;
    rem = rem / dim;
    let n = i32(pu(23u + d));
    var s = i32(o) + pi(31u + d);
    if (s < 0 || s >= n) {
      if (mode == 0u) { zero = true; }
      else if (mode == 1u) { s = ((s % n) + n) % n; }
      else { s = clamp(s, 0, n - 1); }
    }
    off += u32(max(s, 0)) * pu(15u + d);
  }
  Y[i] = select(X[off], 0u, zero);
}

// copy_block: out[o * dst_stride + dst_off + j] = x[o * chunk + j] for j < chunk (one concat input).
// Params: [0] n = outer * chunk, [1] chunk, [2] dst_stride, [3] dst_off.
@compute @workgroup_size(WG)
fn copy_block(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let chunk = pu(1u);
  Y[(i / chunk) * pu(2u) + pu(3u) + i % chunk] = X[i];
}

// cumsum: one invocation per line (outer x inner), summing along the axis in order with Kahan compensation.
// Params: [0] lines, [1] n, [2] inner, [3] reverse.
@group(0) @binding(1) var<storage, read> CX: array<f32>;
@group(0) @binding(2) var<storage, read_write> CY: array<f32>;

@compute @workgroup_size(WG)
fn cumsum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let inner = pu(2u);
  let base = (i / inner) * n * inner + i % inner;
  let rev = pu(3u) != 0u;
  var s = 0.0;
  var c = 0.0;
  for (var k = 0u; k < n; k++) {
    let t = select(k, n - 1u - k, rev);
    let y = CX[base + t * inner] - c;
    let u = s + y;
    c = (u - s) - y;
    s = u;
    CY[base + t * inner] = s;
  }
}
