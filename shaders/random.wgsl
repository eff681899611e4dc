// random.wgsl: the Philox4x32-10 stream of src/tensor/random.ts, bit for bit for uniform and bernoulli.
//
// Params: [0] n, [1] key lo (seed mod 2^32), [2] key hi, [3] offset lo, [4] offset hi (offset < 2^53),
// [5] p (f32 bits, bernoulli). Element i uses counter c = offset + i (64-bit add).
// uniform c: word (c mod 4) of block floor(c / 4), as (word >> 8) * 2^-24.
// normal c: block c; u1 = ((w0 >> 8) + 1) 2^-24, u2 = (w1 >> 8) 2^-24, z = sqrt(-2 ln u1) cos(2 pi u2)
// (f32 here, f64 on the host: equal within a few ulp, not bit for bit).

const DIST: u32 = 0u;   // 0 uniform (f32), 1 bernoulli (u8 as u32), 2 normal (f32)
const WG: u32 = 64u;

// One word array for every distribution: f32 results are stored as their bits.
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;

// philox() lives in common.wgsl (shared with the fused attention's in-kernel dropout).

@compute @workgroup_size(WG)
fn random(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let key = vec2<u32>(pu(1u), pu(2u));
  let lo = pu(3u) + i;
  let hi = pu(4u) + select(0u, 1u, lo < i);
  if (DIST == 2u) {
    let w = philox(vec4<u32>(lo, hi, 0u, 0u), key);
    let u1 = f32((w.x >> 8u) + 1u) * 5.9604644775390625e-8;
    let u2 = f32(w.y >> 8u) * 5.9604644775390625e-8;
    OUT[i] = bitcast<u32>(sqrt(-2.0 * log_f(u1)) * cos_2pi(u2));
    return;
  }
  let block = vec4<u32>((lo >> 2u) | (hi << 30u), hi >> 2u, 0u, 0u);
  let w = philox(block, key);
  let u = f32(w[lo & 3u] >> 8u) * 5.9604644775390625e-8;
  if (DIST == 0u) {
    OUT[i] = bitcast<u32>(u);
  } else {
    OUT[i] = select(0u, 1u, u < pf(5u));
  }
}
