// matmul.wgsl: batched matmul with transpose flags, batch broadcasting and fused bias.
//
// Register-blocked tiles: a workgroup computes a BM x BN tile of one batch's output; each invocation holds a
// TM x TN block of accumulators in registers. Per BK-slice of the inner dimension, the workgroup stages
// op(A)[BM, BK] and op(B)[BK, BN] in workgroup memory, then every invocation does TM*TN fmas per k.
// The tile shape is a specialization (BM, BN, BK, TM, TN) picked by a short timed trial on first use.
//
// Params: [0] M, [1] N, [2] K, [3] has bias, [4] a row stride (m), [5] a col stride (k), [6] b row stride (k),
// [7] b col stride (n), [8] batch rank (<= 8), [16..24) output batch shape, [24..32) a batch strides,
// [32..40) b batch strides. Grid: (ceil(N/BN), ceil(M/BM), batches).

const BM: u32 = 32u;
const BN: u32 = 32u;
const BK: u32 = 8u;
const TM: u32 = 4u;
const TN: u32 = 4u;
const WGX: u32 = BN / TN;
const WGY: u32 = BM / TM;
const NT: u32 = WGX * WGY;

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<f32, BM * BK>;  // [k][m]
var<workgroup> Bs: array<f32, BK * BN>;  // [k][n]

@compute @workgroup_size(WGX, WGY)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>,
          @builtin(local_invocation_index) li: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let sam = pu(4u);
  let sak = pu(5u);
  let sbk = pu(6u);
  let sbn = pu(7u);
  // Batch offsets with broadcasting.
  var rem = wid.z;
  var aoff = 0u;
  var boff = 0u;
  for (var d = pu(8u); d > 0u; d--) {
    let dim = pu(15u + d);
    let c = rem % dim;
    rem = rem / dim;
    aoff += c * pu(23u + d);
    boff += c * pu(31u + d);
  }
  let coff = wid.z * M * N;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<f32, TM * TN>;
  for (var t = 0u; t < TM * TN; t++) { acc[t] = 0.0; }

  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var e = li; e < BM * BK; e += NT) {
      let mm = e / BK;
      let kk = e % BK;
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < M && k < K) { v = A[aoff + m * sam + k * sak]; }
      As[kk * BM + mm] = v;
    }
    for (var e = li; e < BK * BN; e += NT) {
      let kk = e / BN;
      let nn = e % BN;
      let k = k0 + kk;
      let n = n0 + nn;
      var v = 0.0;
      if (n < N && k < K) { v = B[boff + k * sbk + n * sbn]; }
      Bs[kk * BN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, TM>;
      var bv: array<f32, TN>;
      for (var i = 0u; i < TM; i++) { av[i] = As[kk * BM + lid3.y * TM + i]; }
      for (var j = 0u; j < TN; j++) { bv[j] = Bs[kk * BN + lid3.x * TN + j]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
          acc[i * TN + j] = fma(av[i], bv[j], acc[i * TN + j]);
        }
      }
    }
    workgroupBarrier();
  }

  let hasBias = pu(3u) != 0u;
  for (var i = 0u; i < TM; i++) {
    let m = m0 + lid3.y * TM + i;
    if (m >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + lid3.x * TN + j;
      if (n >= N) { break; }
      var v = acc[i * TN + j];
      if (hasBias) { v += BIAS[n]; }
      C[coff + m * N + n] = v;
    }
  }
}
