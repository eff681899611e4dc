// fft.wgsl: rfft / irfft along the last axis for any length n, as direct DFTs (O(n) per output element).
// Twiddles come from a table TW = [cos(2 pi r / n), sin(2 pi r / n)] for r < n, computed in f64 on the host
// and rounded to f32; the index r = (j k) mod n is stepped in integers, so angles never grow.

const WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> TW: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

// rfft: x [rows, n] → y [rows, m, 2], m = floor(n/2) + 1. Params: [0] rows * m, [1] n, [2] m.
@compute @workgroup_size(WG)
fn rfft(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let m = pu(2u);
  let row = i / m;
  let k = i % m;
  let base = row * n;
  var re = 0.0;
  var im = 0.0;
  var r = 0u;
  for (var j = 0u; j < n; j++) {
    let v = X[base + j];
    re = fma(v, TW[2u * r], re);
    im = fma(-v, TW[2u * r + 1u], im);
    r += k;
    if (r >= n) { r -= n; }
  }
  Y[2u * i] = re;
  Y[2u * i + 1u] = im;
}

// irfft: x [rows, mIn, 2] → y [rows, n], bins past min(mIn - 1, n/2) ignored, imaginary parts of DC and
// of the Nyquist bin (even n) ignored, scaled by 1/n. Params: [0] rows * n, [1] n, [2] mIn, [3] kMax (i32).
@compute @workgroup_size(WG)
fn irfft(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let n = pu(1u);
  let mIn = pu(2u);
  let kmax = pi(3u);
  let row = i / n;
  let j = i % n;
  let base = row * mIn * 2u;
  var acc = 0.0;
  if (kmax >= 0) { acc = X[base]; }
  var r = 0u;
  for (var k = 1; k <= kmax; k++) {
    r += j;
    if (r >= n) { r -= n; }
    let re = X[base + 2u * u32(k)];
    if (2u * u32(k) == n) {
      acc = fma(re, TW[2u * r], acc);
    } else {
      let im = X[base + 2u * u32(k) + 1u];
      acc += 2.0 * (re * TW[2u * r] - im * TW[2u * r + 1u]);
    }
  }
  Y[i] = acc / f32(n);
}
