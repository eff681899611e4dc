// attention.wgsl: fused attention (src/backend/kernels.ts, `attention` / `attentionBackward`).
//
// One workgroup per (batch, tile of TQ query rows), one invocation per query row. Keys and values stream
// through workgroup memory KB at a time, and only the blocks inside the tile's band (causal / window) are
// visited; each invocation keeps its own running max, sum and output accumulator (online softmax), so no
// score is ever stored. The backward pass is two dispatches without atomics: `backward_dq` (per query tile:
// dQ, and D_i = dO_i·O_i into a scratch buffer) then `backward_dkv` (per tile of TQ keys, looping over the
// query rows that see them: dK, dV).
//
// Params: [0] batch, [1] lq, [2] lk, [3] e, [4] ev, [5] scale (f32 bits), [6] causal, [7] window (i32, −1
// none), [8] dropout on, [9] key lo, [10] key hi, [11] counter lo, [12] counter hi, [13] keepP (f32 bits),
// [14] keepScale (f32 bits), [15] tiles per batch (query tiles, or key tiles for backward_dkv), [16] heads H
// (the layout: 1 for [batch, L, width], H for heads interleaved as [B, L, H, width]; see row_off).
// Dropout element (b, i, j) uses counter + (b·lq + i)·lk + j (the host checks that batch·lq·lk < 2^32).
// The inner loops run to the specialized sizes EC / EVC (constants, so a compiler can unroll them and keep the
// per-invocation rows in registers); they equal e / ev except for e or ev = 0, where EC / EVC = 1 and the
// extra lane reads zero-initialized private and workgroup memory (its products are 0).

const EC: u32 = 1u;    // e (specialized, ≥ 1)
const EVC: u32 = 1u;   // ev (specialized, ≥ 1)
const TQ: u32 = 32u;   // rows (or keys) per workgroup = workgroup size
const KB: u32 = 32u;   // rows per block staged in workgroup memory

// Element offset of row i of batch index b in a tensor of len rows of w values per head (kernels.ts,
// AttentionShape.heads): ((b / H · len + i) · H + b mod H) · w. Statistics and dropout index b·lq + i either way.
fn row_off(b: u32, i: u32, len: u32, w: u32) -> u32 {
  let h = pu(16u);
  return ((b / h * len + i) * h + b % h) * w;
}

fn lo_of(i: u32) -> u32 {
  let w = pi(7u);
  if (w >= 0 && i > u32(w)) { return i - u32(w); }
  return 0u;
}
fn hi_of(i: u32) -> u32 {
  var hi = pu(2u);
  if (pu(6u) == 1u) { hi = min(hi, i + 1u); }
  let w = pi(7u);
  if (w >= 0) { hi = min(hi, i + u32(w) + 1u); }
  return hi;
}

// Dropout: the Philox block of the last element is cached (consecutive keys share blocks of 4).
var<private> cached_block: vec2<u32> = vec2<u32>(0xffffffffu, 0xffffffffu);
var<private> cached_words: vec4<u32>;
fn keep_factor(idx: u32) -> f32 {
  let lo = pu(11u) + idx;
  let hi = pu(12u) + select(0u, 1u, lo < idx);
  let blk = vec2<u32>((lo >> 2u) | (hi << 30u), hi >> 2u);
  if (any(blk != cached_block)) {
    cached_words = philox(vec4<u32>(blk.x, blk.y, 0u, 0u), vec2<u32>(pu(9u), pu(10u)));
    cached_block = blk;
  }
  let u = f32(cached_words[lo & 3u] >> 8u) * 5.9604644775390625e-8;
  return select(0.0, pf(14u), u < pf(13u));
}

// ---- forward: q(1) k(2) v(3) → out(4) rowMax(5) logSumExp(6) ----------------------------------------------
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read_write> MX: array<f32>;
@group(0) @binding(6) var<storage, read_write> LSE: array<f32>;

var<workgroup> ks: array<f32, KB * EC>;
var<workgroup> vs: array<f32, KB * EVC>;

@compute @workgroup_size(TQ)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let g = flat_group(wid, nwg);
  let b = g / pu(15u);
  if (b >= pu(0u)) { return; }
  let lq = pu(1u);
  let lk = pu(2u);
  let e = pu(3u);
  let ev = pu(4u);
  let scale = pf(5u);
  let drop = pu(8u) == 1u;
  let i0 = (g % pu(15u)) * TQ;
  let i = i0 + lid;
  let live = i < lq;
  let jlo = lo_of(i0);
  let jhi = hi_of(min(i0 + TQ, lq) - 1u);
  let lo = lo_of(i);
  let hi = hi_of(i);
  let row = b * lq + i;
  var qr: array<f32, EC>;
  var acc: array<f32, EVC>;
  let qo = row_off(b, i, lq, e);
  let oo = row_off(b, i, lq, ev);
  if (live) { for (var t = 0u; t < e; t++) { qr[t] = Q[qo + t]; } }
  var m = -f_inf();
  var l = 0.0;
  for (var j0 = jlo; j0 < jhi; j0 += KB) {
    let nb = min(KB, jhi - j0);
    workgroupBarrier();
    for (var x = lid; x < nb * e; x += TQ) { ks[x] = K[row_off(b, j0 + x / e, lk, e) + x % e]; }
    for (var x = lid; x < nb * ev; x += TQ) { vs[x] = V[row_off(b, j0 + x / ev, lk, ev) + x % ev]; }
    workgroupBarrier();
    if (live) {
      for (var jj = 0u; jj < nb; jj++) {
        let j = j0 + jj;
        if (j < lo || j >= hi) { continue; }
        var d = 0.0;
        for (var t = 0u; t < EC; t++) { d += qr[t] * ks[jj * EC + t]; }
        let s = d * scale;
        if (s > m) {
          // A new maximum: rescale what was summed so far (e^{m_old − m_new}; 0 at the first key).
          let a = exp_f(m - s);
          l = l * a;
          for (var c = 0u; c < EVC; c++) { acc[c] = acc[c] * a; }
          m = s;
        }
        let p = exp_f(s - m);
        l += p;
        var pz = p;
        if (drop) { pz = p * keep_factor(row * lk + j); }
        for (var c = 0u; c < EVC; c++) { acc[c] += pz * vs[jj * EVC + c]; }
      }
    }
  }
  if (!live) { return; }
  if (hi <= lo) {
    for (var c = 0u; c < ev; c++) { O[oo + c] = f_nan(); }
    MX[row] = -f_inf();
    LSE[row] = -f_inf();
    return;
  }
  let inv = 1.0 / l;
  for (var c = 0u; c < ev; c++) { O[oo + c] = acc[c] * inv; }
  MX[row] = m;
  LSE[row] = m + log_f(l);
}

// ---- backward dQ: dOut(1) q(2) k(3) v(4) out(5) logSumExp(6) → dq(7) D(8) ---------------------------------
@group(0) @binding(1) var<storage, read> GDO: array<f32>;
@group(0) @binding(2) var<storage, read> GQ: array<f32>;
@group(0) @binding(3) var<storage, read> GK: array<f32>;
@group(0) @binding(4) var<storage, read> GV: array<f32>;
@group(0) @binding(5) var<storage, read> GO: array<f32>;
@group(0) @binding(6) var<storage, read> GL: array<f32>;
@group(0) @binding(7) var<storage, read_write> DQ: array<f32>;
@group(0) @binding(8) var<storage, read_write> GD: array<f32>;

var<workgroup> bks: array<f32, KB * EC>;
var<workgroup> bvs: array<f32, KB * EVC>;

@compute @workgroup_size(TQ)
fn backward_dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let g = flat_group(wid, nwg);
  let b = g / pu(15u);
  if (b >= pu(0u)) { return; }
  let lq = pu(1u);
  let lk = pu(2u);
  let e = pu(3u);
  let ev = pu(4u);
  let scale = pf(5u);
  let drop = pu(8u) == 1u;
  let i0 = (g % pu(15u)) * TQ;
  let i = i0 + lid;
  let live = i < lq;
  let jlo = lo_of(i0);
  let jhi = hi_of(min(i0 + TQ, lq) - 1u);
  let lo = lo_of(i);
  let hi = hi_of(i);
  let row = b * lq + i;
  var qr: array<f32, EC>;
  var dor: array<f32, EVC>;
  var dqa: array<f32, EC>;
  var dsum = 0.0;
  var lse = 0.0;
  if (live) {
    for (var t = 0u; t < e; t++) { qr[t] = GQ[row_off(b, i, lq, e) + t]; }
    for (var c = 0u; c < ev; c++) {
      dor[c] = GDO[row_off(b, i, lq, ev) + c];
      dsum += dor[c] * GO[row_off(b, i, lq, ev) + c];
    }
    lse = GL[row];
  }
  for (var j0 = jlo; j0 < jhi; j0 += KB) {
    let nb = min(KB, jhi - j0);
    workgroupBarrier();
    for (var x = lid; x < nb * e; x += TQ) { bks[x] = GK[row_off(b, j0 + x / e, lk, e) + x % e]; }
    for (var x = lid; x < nb * ev; x += TQ) { bvs[x] = GV[row_off(b, j0 + x / ev, lk, ev) + x % ev]; }
    workgroupBarrier();
    if (live) {
      for (var jj = 0u; jj < nb; jj++) {
        let j = j0 + jj;
        if (j < lo || j >= hi) { continue; }
        var d = 0.0;
        for (var t = 0u; t < EC; t++) { d += qr[t] * bks[jj * EC + t]; }
        let p = exp_f(d * scale - lse);
        var dp = 0.0;
        for (var c = 0u; c < EVC; c++) { dp += dor[c] * bvs[jj * EVC + c]; }
        var z = 1.0;
        if (drop) { z = keep_factor(row * lk + j); }
        let ds = p * (z * dp - dsum);
        for (var t = 0u; t < EC; t++) { dqa[t] += ds * bks[jj * EC + t]; }
      }
    }
  }
  if (!live) { return; }
  for (var t = 0u; t < e; t++) { DQ[row_off(b, i, lq, e) + t] = scale * dqa[t]; }
  GD[row] = dsum;
}

// ---- backward dK, dV: dOut(1) q(2) k(3) v(4) logSumExp(5) D(6) → dk(7) dv(8) -----------------------------
@group(0) @binding(1) var<storage, read> HDO: array<f32>;
@group(0) @binding(2) var<storage, read> HQ: array<f32>;
@group(0) @binding(3) var<storage, read> HK: array<f32>;
@group(0) @binding(4) var<storage, read> HV: array<f32>;
@group(0) @binding(5) var<storage, read> HL: array<f32>;
@group(0) @binding(6) var<storage, read> HD: array<f32>;
@group(0) @binding(7) var<storage, read_write> DK: array<f32>;
@group(0) @binding(8) var<storage, read_write> DV: array<f32>;

var<workgroup> qs: array<f32, KB * EC>;
var<workgroup> dos: array<f32, KB * EVC>;
var<workgroup> ls: array<f32, KB>;
var<workgroup> dss: array<f32, KB>;

@compute @workgroup_size(TQ)
fn backward_dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let g = flat_group(wid, nwg);
  let b = g / pu(15u);
  if (b >= pu(0u)) { return; }
  let lq = pu(1u);
  let lk = pu(2u);
  let e = pu(3u);
  let ev = pu(4u);
  let scale = pf(5u);
  let drop = pu(8u) == 1u;
  let j0t = (g % pu(15u)) * TQ;
  let j = j0t + lid;
  let live = j < lk;
  // Query rows that see some key of this tile: causal needs i ≥ j, a window |i − j| ≤ w.
  let j1t = min(j0t + TQ, lk);
  var ilo = 0u;
  var ihi = lq;
  if (pu(6u) == 1u) { ilo = j0t; }
  let w = pi(7u);
  if (w >= 0) {
    if (j0t > u32(w)) { ilo = max(ilo, j0t - u32(w)); }
    ihi = min(ihi, j1t + u32(w));
  }
  var kr: array<f32, EC>;
  var vr: array<f32, EVC>;
  var dka: array<f32, EC>;
  var dva: array<f32, EVC>;
  if (live) {
    for (var t = 0u; t < e; t++) { kr[t] = HK[row_off(b, j, lk, e) + t]; }
    for (var c = 0u; c < ev; c++) { vr[c] = HV[row_off(b, j, lk, ev) + c]; }
  }
  for (var r0 = ilo; r0 < ihi; r0 += KB) {
    let nb = min(KB, ihi - r0);
    workgroupBarrier();
    for (var x = lid; x < nb * e; x += TQ) { qs[x] = HQ[row_off(b, r0 + x / e, lq, e) + x % e]; }
    for (var x = lid; x < nb * ev; x += TQ) { dos[x] = HDO[row_off(b, r0 + x / ev, lq, ev) + x % ev]; }
    for (var x = lid; x < nb; x += TQ) {
      ls[x] = HL[b * lq + r0 + x];
      dss[x] = HD[b * lq + r0 + x];
    }
    workgroupBarrier();
    if (live) {
      for (var ii = 0u; ii < nb; ii++) {
        let i = r0 + ii;
        if (j < lo_of(i) || j >= hi_of(i)) { continue; }
        var d = 0.0;
        for (var t = 0u; t < EC; t++) { d += qs[ii * EC + t] * kr[t]; }
        let p = exp_f(d * scale - ls[ii]);
        var dp = 0.0;
        for (var c = 0u; c < EVC; c++) { dp += dos[ii * EVC + c] * vr[c]; }
        var z = 1.0;
        if (drop) { z = keep_factor((b * lq + i) * lk + j); }
        let ds = p * (z * dp - dss[ii]);
        let pz = p * z;
        for (var c = 0u; c < EVC; c++) { dva[c] += pz * dos[ii * EVC + c]; }
        for (var t = 0u; t < EC; t++) { dka[t] += ds * qs[ii * EC + t]; }
      }
    }
  }
  if (!live) { return; }
  for (var t = 0u; t < e; t++) { DK[row_off(b, j, lk, e) + t] = scale * dka[t]; }
  for (var c = 0u; c < ev; c++) { DV[row_off(b, j, lk, ev) + c] = dva[c]; }
}
