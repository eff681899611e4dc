// fft.wgsl: rfft / irfft along the last axis for any length n. Lengths with at least two prime factors go
// through the mixed-radix Stockham FFT below (fft_stage: O(n (R_1 + ... + R_s)) per row); n <= 3 and primes use
// the direct DFTs (rfft, irfft: O(n) per output element). Twiddles come from a table
// TW = [cos(2 pi r / n), sin(2 pi r / n)] for r < n, computed in f64 on the host and rounded to f32; twiddle
// indices are stepped in integers modulo n, so angles never grow.

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

// ---- mixed-radix Stockham FFT, and Bluestein's algorithm on top of it -----------------------------------
// A complex FFT of length L = R_1 R_2 ... R_s in s passes (one dispatch each, ping-pong buffers). Pass with radix R
// and sub-transform size Ns (the product of the earlier radices): every output element o of a row is
//   out[o] = sum_r in[jb + r L/R] * w^(r (k + q Ns) L/(Ns R)),   k = o mod Ns, q = (o / Ns) mod R,
//   jb = (o / (Ns R)) Ns + k,  w = exp(-+2 pi i / L)  (the radix-R butterfly with its twiddles folded in),
// so a pass costs L R per row and the whole transform L (R_1 + ... + R_s) instead of the direct DFT's L^2.
// The twiddle index is stepped in integers modulo L, as in the direct kernels.
//
// Lengths n with a large prime factor use Bluestein's algorithm: with the chirp c_j = exp(-i pi j^2 / n),
//   forward  y_k = c_k sum_j (x_j c_j) conj(c_{k-j}),   inverse  y_k = conj(c_k) sum_j (Z_j conj(c_j)) c_{k-j},
// a circular convolution of length M (a power of two >= 2n - 1) done as FFT_M, a product with the transformed
// kernel B (host table, f64, scaled by 1/M), and an inverse FFT_M; the chirp factors are applied by the first
// load and the last store. AUX (binding 4) is the chirp table [cos, sin](pi j^2 / n) or B, per pass.
//
// Load modes (the first pass; later passes use 0):
//   0: complex [rows, L, 2];  1: real x [rows, L] (imaginary parts 0);
//   2: half spectrum [rows, mIn, 2] expanded to the Hermitian full spectrum of length L (bins past kMax are 0,
//      imaginary parts of DC and of the Nyquist bin of an even length ignored);
//   3: Bluestein rfft: x_j c_j for j < n, 0 past n (x real [rows, n]);
//   4: Bluestein irfft: Z_j conj(c_j) for j < n, 0 past n (Z: mode 2's expansion for length n).
// Store modes (the last pass; earlier passes use 0):
//   0: complex [rows, L, 2];  1: first `per` bins [rows, per, 2] (rfft);  2: real part / L [rows, L] (irfft);
//   3: complex [rows, L, 2] times B_o (AUX);  4: Bluestein rfft: c_o y_o, o < per [rows, per, 2];
//   5: Bluestein irfft: Re(conj(c_o) y_o) / n, o < n [rows, n].
// Params: [0] rows * per, [1] L, [2] Ns, [3] R, [4] load mode, [5] store mode, [6] mIn (loads 2, 4),
// [7] kMax (i32, loads 2, 4), [8] inverse (1: w = exp(+2 pi i / L)), [9] per (outputs per row), [10] n (Bluestein).

@group(0) @binding(4) var<storage, read> AUX: array<f32>;

fn fft_herm(row: u32, e: u32, len: u32) -> vec2<f32> {
  let mIn = pu(6u);
  let kmax = pi(7u);
  var k = e;
  var conj = false;
  if (2u * e > len) { k = len - e; conj = true; }
  if (i32(k) > kmax) { return vec2<f32>(0.0, 0.0); }
  let b = 2u * (row * mIn + k);
  var im = X[b + 1u];
  if (k == 0u || 2u * k == len) { im = 0.0; }
  if (conj) { im = -im; }
  return vec2<f32>(X[b], im);
}

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(fma(a.x, b.x, -a.y * b.y), fma(a.x, b.y, a.y * b.x));
}

fn fft_load(mode: u32, row: u32, e: u32, len: u32) -> vec2<f32> {
  if (mode == 0u) {
    let b = 2u * (row * len + e);
    return vec2<f32>(X[b], X[b + 1u]);
  }
  if (mode == 1u) { return vec2<f32>(X[row * len + e], 0.0); }
  if (mode == 2u) { return fft_herm(row, e, len); }
  let n = pu(10u);
  if (e >= n) { return vec2<f32>(0.0, 0.0); }
  let c = vec2<f32>(AUX[2u * e], AUX[2u * e + 1u]);   // (cos, sin)(pi e^2 / n)
  if (mode == 3u) { return X[row * n + e] * vec2<f32>(c.x, -c.y); }
  return cmul(fft_herm(row, e, n), c);
}

@compute @workgroup_size(WG)
fn fft_stage(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, WG);
  if (i >= pu(0u)) { return; }
  let len = pu(1u);
  let ns = pu(2u);
  let radix = pu(3u);
  let lmode = pu(4u);
  let smode = pu(5u);
  let per = pu(9u);
  var sgn = -1.0;
  if (pu(8u) == 1u) { sgn = 1.0; }
  let row = i / per;
  let o = i % per;
  let nsr = ns * radix;
  let k = o % ns;
  let q = (o / ns) % radix;
  let jb = (o / nsr) * ns + k;
  let stride = len / radix;
  let step = (k + q * ns) * (len / nsr);   // < len
  var t = 0u;
  var re = 0.0;
  var im = 0.0;
  for (var r = 0u; r < radix; r++) {
    let v = fft_load(lmode, row, jb + r * stride, len);
    let c = TW[2u * t];
    let s = sgn * TW[2u * t + 1u];
    re = fma(v.x, c, fma(-v.y, s, re));
    im = fma(v.x, s, fma(v.y, c, im));
    t += step;
    if (t >= len) { t -= len; }
  }
  if (smode == 0u) {
    let b = 2u * (row * len + o);
    Y[b] = re;
    Y[b + 1u] = im;
  } else if (smode == 1u) {
    let b = 2u * (row * per + o);
    Y[b] = re;
    Y[b + 1u] = im;
  } else if (smode == 2u) {
    Y[row * len + o] = re / f32(len);
  } else if (smode == 3u) {
    let v = cmul(vec2<f32>(re, im), vec2<f32>(AUX[2u * o], AUX[2u * o + 1u]));
    let b = 2u * (row * len + o);
    Y[b] = v.x;
    Y[b + 1u] = v.y;
  } else if (smode == 4u) {
    let c = vec2<f32>(AUX[2u * o], AUX[2u * o + 1u]);
    let v = cmul(vec2<f32>(re, im), vec2<f32>(c.x, -c.y));
    let b = 2u * (row * per + o);
    Y[b] = v.x;
    Y[b + 1u] = v.y;
  } else {
    let c = vec2<f32>(AUX[2u * o], AUX[2u * o + 1u]);
    Y[row * per + o] = fma(re, c.x, -im * c.y) / f32(pu(10u));
  }
}
