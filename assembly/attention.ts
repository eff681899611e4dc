// Fused attention (contract: src/backend/kernels.ts, `attention` / `attentionBackward`).
//
// Per batch (B·H), K (and V for the backward pass) is transposed once into [e][lkPad] panels, zero-padded to a
// multiple of 8 keys, so a score tile is a small GEMM with the same 4×8 register tile as assembly/gemm.ts.
// Query rows go TQ at a time: the tile's scores cover only the keys [jlo, jhi) that some row of the tile can
// see (causal / window band), rounded out to multiples of 8, so blocks outside the band are never computed and
// no more than TQ × lkPad scores exist. The softmax is two-pass over the tile's rows (exact max, then e^{s−max}
// and its sum); the value product runs on the unnormalized weights and each output row is scaled by 1/Σ after
// it. Masked keys are −∞ (exp gives exactly 0), dropout factors come from the same Philox counters as the
// unfused dropout (randomUniform, bernoulli).
//
// Summation orders (fixed, so runs are bit-reproducible): dot products accumulate ((0 + a0·b0) + a1·b1) + … in
// increasing index, as the GEMM does, so the scores come out as the unfused path's matmul; dK and dV
// accumulate over query rows in increasing order across tiles.
import { expF4, logF4 } from './vmath.ts';
import { randomUniform } from './random.ts';
import { hmax, hsum, transpose4x4 } from './common.ts';

/** Query rows per tile (4 register row groups). */
const TQ: i32 = 16;

const NEG_INF: f32 = -Infinity;

@inline function pad8(n: i32): i32 {
  return (n + 7) & ~7;
}
@inline function al16(n: usize): usize {
  return (n + 15) & ~(<usize>15);
}
@inline function f4(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * Element offset of row i of batch index b in a tensor of `len` rows of `w` values per head: [batch, len, w]
 * when heads = 1, [B, len, heads, w] otherwise (kernels.ts, AttentionShape.heads); rows are heads·w apart.
 */
@inline function rowOff(b: i32, i: i32, len: i32, w: i32, heads: i32): usize {
  return <usize>(((b / heads) * len + i) * heads + b % heads) * <usize>w;
}

/** Keys [rangeLo, rangeHi) are visible from query row i (none when rangeHi ≤ rangeLo). */
@inline function rangeLo(i: i32, window: i32): i32 {
  return window >= 0 ? max(0, i - window) : 0;
}
@inline function rangeHi(i: i32, lk: i32, causal: i32, window: i32): i32 {
  let hi = lk;
  if (causal) hi = min(hi, i + 1);
  if (window >= 0) hi = min(hi, i + window + 1);
  return hi;
}

/**
 * dst[t][j] = src[j][t] for j < n, t < d (source rows `srs` elements apart); columns n .. ld − 1 zero. 4×4
 * blocks through registers (transpose4x4); the ragged edges element by element.
 */
function transposePad(src: usize, n: i32, d: i32, srs: i32, dst: usize, ld: i32): void {
  const n4 = n & ~3;
  const d4 = d & ~3;
  const rs = <usize>srs << 2;
  const ds = <usize>ld << 2;
  for (let j = 0; j < n4; j += 4) {
    for (let t = 0; t < d4; t += 4) {
      transpose4x4(src + (<usize>(j * srs + t) << 2), dst + (<usize>(t * ld + j) << 2), rs, ds);
    }
    for (let t = d4; t < d; t++) {
      for (let x = j; x < j + 4; x++) store<f32>(f4(dst, t * ld + x), load<f32>(f4(src, x * srs + t)));
    }
  }
  for (let t = 0; t < d; t++) {
    const row = dst + (<usize>(t * ld) << 2);
    for (let j = n4; j < n; j++) store<f32>(f4(row, j), load<f32>(f4(src, j * srs + t)));
    for (let j = n; j < ld; j++) store<f32>(f4(row, j), 0);
  }
}

/**
 * C[r][0 .. nc) (+)= Σ_{t < kd} A[r][t] · B[t][0 .. nc) for rows r < nr (≤ 4), where A[r][t] lives at
 * a + 4·(r·ars + t·acs) (so Aᵀ of a row-major tile is ars = 1, acs = its row stride: no transpose copy) and
 * B rows have stride ldb. Columns go 8, then 4, then 1 at a time. With `acc`, the sums start from C's values.
 */
function tileAB(a: usize, ars: i32, acs: i32, nr: i32, b: usize, ldb: i32, kd: i32, c: usize, ldc: i32, nc: i32, acc: bool): void {
  const a0 = a;
  const a1 = a + (<usize>(min(1, nr - 1) * ars) << 2);
  const a2 = a + (<usize>(min(2, nr - 1) * ars) << 2);
  const a3 = a + (<usize>(min(3, nr - 1) * ars) << 2);
  const c0 = c;
  const c1 = c + (<usize>(min(1, nr - 1) * ldc) << 2);
  const c2 = c + (<usize>(min(2, nr - 1) * ldc) << 2);
  const c3 = c + (<usize>(min(3, nr - 1) * ldc) << 2);
  const step = <usize>ldb << 2;
  const astep = <usize>acs << 2;
  let col = 0;
  for (; col + 8 <= nc; col += 8) {
    const o = <usize>col << 2;
    let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
    let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
    let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
    let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
    if (acc) {
      s00 = v128.load(c0 + o); s01 = v128.load(c0 + o, 16);
      s10 = v128.load(c1 + o); s11 = v128.load(c1 + o, 16);
      s20 = v128.load(c2 + o); s21 = v128.load(c2 + o, 16);
      s30 = v128.load(c3 + o); s31 = v128.load(c3 + o, 16);
    }
    let pb = b + o;
    let q: usize = 0;
    for (let t = 0; t < kd; t++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const x0 = v128.load32_splat(a0 + q);
      const x1 = v128.load32_splat(a1 + q);
      const x2 = v128.load32_splat(a2 + q);
      const x3 = v128.load32_splat(a3 + q);
      s00 = f32x4.add(s00, f32x4.mul(x0, b0)); s01 = f32x4.add(s01, f32x4.mul(x0, b1));
      s10 = f32x4.add(s10, f32x4.mul(x1, b0)); s11 = f32x4.add(s11, f32x4.mul(x1, b1));
      s20 = f32x4.add(s20, f32x4.mul(x2, b0)); s21 = f32x4.add(s21, f32x4.mul(x2, b1));
      s30 = f32x4.add(s30, f32x4.mul(x3, b0)); s31 = f32x4.add(s31, f32x4.mul(x3, b1));
      pb += step;
      q += astep;
    }
    v128.store(c0 + o, s00); v128.store(c0 + o, s01, 16);
    if (nr > 1) { v128.store(c1 + o, s10); v128.store(c1 + o, s11, 16); }
    if (nr > 2) { v128.store(c2 + o, s20); v128.store(c2 + o, s21, 16); }
    if (nr > 3) { v128.store(c3 + o, s30); v128.store(c3 + o, s31, 16); }
  }
  for (; col + 4 <= nc; col += 4) {
    const o = <usize>col << 2;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    if (acc) { s0 = v128.load(c0 + o); s1 = v128.load(c1 + o); s2 = v128.load(c2 + o); s3 = v128.load(c3 + o); }
    let pb = b + o;
    let q: usize = 0;
    for (let t = 0; t < kd; t++) {
      const b0 = v128.load(pb);
      s0 = f32x4.add(s0, f32x4.mul(v128.load32_splat(a0 + q), b0));
      s1 = f32x4.add(s1, f32x4.mul(v128.load32_splat(a1 + q), b0));
      s2 = f32x4.add(s2, f32x4.mul(v128.load32_splat(a2 + q), b0));
      s3 = f32x4.add(s3, f32x4.mul(v128.load32_splat(a3 + q), b0));
      pb += step;
      q += astep;
    }
    v128.store(c0 + o, s0);
    if (nr > 1) v128.store(c1 + o, s1);
    if (nr > 2) v128.store(c2 + o, s2);
    if (nr > 3) v128.store(c3 + o, s3);
  }
  for (; col < nc; col++) {
    for (let r = 0; r < nr; r++) {
      const ar = a + (<usize>(r * ars) << 2);
      const cr = c + (<usize>(r * ldc) << 2);
      let s: f32 = acc ? load<f32>(f4(cr, col)) : 0;
      for (let t = 0; t < kd; t++) s += load<f32>(f4(ar, t * acs)) * load<f32>(f4(b, t * ldb + col));
      store<f32>(f4(cr, col), s);
    }
  }
}

/**
 * dst[t][r] = splat(A[min(r, nr − 1)][t]) for t < kd, r < 4: a 4-row group of A laid out as the GEMM packs
 * A (assembly/gemm.ts), so the tile loop reads its four broadcasts as plain loads from one pointer.
 */
@inline function broadcastRows(a: usize, lda: i32, nr: i32, kd: i32, dst: usize): void {
  for (let r = 0; r < 4; r++) {
    const src = a + (<usize>(min(r, nr - 1) * lda) << 2);
    let o = dst + (<usize>r << 4);
    for (let t = 0; t < kd; t++) {
      v128.store(o, v128.load32_splat(src + (<usize>t << 2)));
      o += 64;
    }
  }
}

/**
 * C[r][j] = Σ_t A[r][t] · Bt[t][j] for rows r < nr (≤ 4) and columns j in [j0, j1) (multiples of 8 inside
 * Bt's padded width), with A in broadcastRows' layout (ab).
 */
function tileABtB(ab: usize, nr: i32, bt: usize, ldb: i32, kd: i32, c: usize, ldc: i32, j0: i32, j1: i32): void {
  const step = <usize>ldb << 2;
  for (let j = j0; j < j1; j += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let pb = f4(bt, j);
    let pa = ab;
    for (let t = 0; t < kd; t++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const x0 = v128.load(pa);
      const x1 = v128.load(pa, 16);
      const x2 = v128.load(pa, 32);
      const x3 = v128.load(pa, 48);
      c00 = f32x4.add(c00, f32x4.mul(x0, b0)); c01 = f32x4.add(c01, f32x4.mul(x0, b1));
      c10 = f32x4.add(c10, f32x4.mul(x1, b0)); c11 = f32x4.add(c11, f32x4.mul(x1, b1));
      c20 = f32x4.add(c20, f32x4.mul(x2, b0)); c21 = f32x4.add(c21, f32x4.mul(x2, b1));
      c30 = f32x4.add(c30, f32x4.mul(x3, b0)); c31 = f32x4.add(c31, f32x4.mul(x3, b1));
      pb += step;
      pa += 64;
    }
    const pc = f4(c, j);
    const rs = <usize>ldc << 2;
    v128.store(pc, c00); v128.store(pc, c01, 16);
    if (nr > 1) { v128.store(pc + rs, c10); v128.store(pc + rs, c11, 16); }
    if (nr > 2) { v128.store(pc + 2 * rs, c20); v128.store(pc + 2 * rs, c21, 16); }
    if (nr > 3) { v128.store(pc + 3 * rs, c30); v128.store(pc + 3 * rs, c31, 16); }
  }
}

/**
 * C[r][j0 .. j1) = A[r]·Bt[:, j] for rows r < nrows of A (row length kd, stride lda), through the broadcast
 * buffer wAb one 4-row group at a time.
 */
@inline function tileRowsABt(a: usize, lda: i32, nrows: i32, bt: usize, ldb: i32, kd: i32, c: usize, ldc: i32, j0: i32, j1: i32): void {
  for (let r = 0; r < nrows; r += 4) {
    const nr = min(4, nrows - r);
    broadcastRows(a + (<usize>(r * lda) << 2), lda, nr, kd, wAb);
    tileABtB(wAb, nr, bt, ldb, kd, c + (<usize>(r * ldc) << 2), ldc, j0, j1);
  }
}

/** x[j0 .. j1) *= v (j0, j1 multiples of 4). */
@inline function scaleRange(x: usize, j0: i32, j1: i32, v: f32): void {
  const vs = f32x4.splat(v);
  for (let j = j0; j < j1; j += 4) v128.store(f4(x, j), f32x4.mul(v128.load(f4(x, j)), vs));
}

/** x[0 .. n) *= v (any n). */
@inline function scaleRow(x: usize, n: i32, v: f32): void {
  const vs = f32x4.splat(v);
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) v128.store(f4(x, j), f32x4.mul(v128.load(f4(x, j)), vs));
  for (let j = n4; j < n; j++) store<f32>(f4(x, j), load<f32>(f4(x, j)) * v);
}

/**
 * e^{x − c} for c = the row max (forward) or logSumExp (backward): x − c ≤ ~0 for visible keys, −∞ for masked
 * ones (exactly 0 out). Plain f32 range reduction (≤ ~2 ulp, results below 2^-126 flushed to 0): about half
 * the cost of assembly/softmax.ts's compensated expDiffF4, and well inside the fused-vs-unfused tolerance.
 */
@inline function expBelow(x: v128, lse: v128): v128 {
  const d = f32x4.sub(x, lse);
  const floor = f32x4.splat(-87.0);
  return v128.andnot(expF4(f32x4.pmax(d, floor), f32x4.splat(0)), f32x4.lt(d, floor));
}

/** Weights of keys j .. j + 3 to the score tile: e, times the dropout factors from the keep bits when `drop`. */
@inline function storeWeight(row: usize, j: i32, e: v128, drop: bool, mrow: usize, keepScale: v128): void {
  v128.store(f4(row, j), drop ? f32x4.mul(e, zOf(mrow + <usize>j, keepScale)) : e);
}

/** x[a .. b) = value. */
@inline function fillRange(x: usize, a: i32, b: i32, value: f32): void {
  for (let j = a; j < b; j++) store<f32>(f4(x, j), value);
}

/**
 * Dropout keep bits (u8) of the tile's rows at m[r·lk + j] for the visible keys of each row: bit (i, j) is
 * uniform(counter + (b·lq + i)·lk + j) < keepP, the unfused path's bernoulli keep mask. Rows that see every key
 * are drawn in one call (their counters are contiguous); banded rows one at a time, from lo(i) for a length
 * rounded up to 16 keys (the generator's vector width, staying inside the row), so a causal tile draws about
 * half of its rows' counters instead of all of them.
 */
function tileMask(
  m: usize, b: i32, i0: i32, nrows: i32, lq: i32, lk: i32, causal: i32, window: i32,
  k0: u32, k1: u32, counter: f64, keepP: f32,
): void {
  const base = counter + <f64>(b * lq + i0) * <f64>lk;
  if (rangeLo(i0 + nrows - 1, window) == 0 && rangeHi(i0, lk, causal, window) == lk) {
    randomUniform(m, nrows * lk, k0, k1, base, 1, keepP);
    return;
  }
  for (let r = 0; r < nrows; r++) {
    const lo = rangeLo(i0 + r, window);
    const hi = rangeHi(i0 + r, lk, causal, window);
    if (hi <= lo) continue;
    const n = min(lk - lo, (hi - lo + 15) & ~15);
    randomUniform(m + <usize>(r * lk + lo), n, k0, k1, base + <f64>(r * lk + lo), 1, keepP);
  }
}

/**
 * Dropout factors of 4 keys from their keep bits: keepScale where kept, else 0. Bits of keys a row does not
 * see are stale, which is harmless: their weights are exactly 0.
 */
@inline function zOf(m: usize, keepScale: v128): v128 {
  const bits = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(m)));
  return v128.and(i32x4.ne(bits, i32x4.splat(0)), keepScale);
}

/**
 * Copy rows [i0, i0 + n) of q (row length e, rows qrs elements apart) into qs (rows e apart), times `scale`
 * when prescale is set.
 */
@inline function loadQ(q: usize, qrs: i32, i0: i32, n: i32, e: i32, qs: usize, prescale: i32, scale: f32): void {
  const e4 = e & ~3;
  const sv = f32x4.splat(scale);
  for (let r = 0; r < n; r++) {
    const src = q + (<usize>((i0 + r) * qrs) << 2);
    const dst = qs + (<usize>(r * e) << 2);
    if (prescale) {
      for (let x = 0; x < e4; x += 4) v128.store(f4(dst, x), f32x4.mul(v128.load(f4(src, x)), sv));
      for (let x = e4; x < e; x++) store<f32>(f4(dst, x), load<f32>(f4(src, x)) * scale);
    } else {
      memory.copy(dst, src, <usize>e << 2);
    }
  }
}

/** Bytes of workspace for these sizes (both passes). */
export function attentionWorkspaceBytes(lk: i32, e: i32, ev: i32): f64 {
  const lp = <f64>pad8(lk);
  return 4.0 * (lp * <f64>e + lp * <f64>ev + <f64>(TQ * e) + 2.0 * <f64>TQ * lp + 3.0 * <f64>TQ + 16.0 * <f64>max(e, ev)) + <f64>(TQ * lk) + 320.0;
}

// Workspace sub-blocks, set by `layout` (globals: nothing here allocates from the AssemblyScript heap).
let wKt: usize = 0;
let wVt: usize = 0;
let wQs: usize = 0;
let wS: usize = 0;
let wDp: usize = 0;
let wM: usize = 0;
let wInv: usize = 0;
let wMax: usize = 0;
let wLse: usize = 0;
let wAb: usize = 0;

function layout(ws: usize, lk: i32, e: i32, ev: i32): void {
  const lp = <usize>pad8(lk);
  let p = al16(ws);
  wKt = p; p = al16(p + (lp * <usize>e << 2));
  wVt = p; p = al16(p + (lp * <usize>ev << 2));
  wQs = p; p = al16(p + (<usize>(TQ * e) << 2));
  wS = p; p = al16(p + (<usize>TQ * lp << 2));
  wDp = p; p = al16(p + (<usize>TQ * lp << 2));
  wInv = p; p = al16(p + (<usize>TQ << 2));
  wMax = p; p = al16(p + (<usize>TQ << 2));
  wLse = p; p = al16(p + (<usize>TQ << 2));
  wAb = p; p = al16(p + (<usize>(16 * max(e, ev)) << 2));
  wM = p; // keep bits: TQ·lk bytes + 16 of slack (zOf reads up to 7 past a row's end)
}

/**
 * Forward: out [batch, lq, ev], rowMax and logSumExp [batch, lq]. prescale: scale is a power of two and Q is
 * scaled before the dot products (same bits as scaling the scores). window < 0: none. drop: dropout on
 * (a constant in each exported wrapper below).
 */
@inline function forwardBody(
  q: usize, k: usize, v: usize, out: usize, rowMax: usize, lse: usize,
  batch: i32, lq: i32, lk: i32, e: i32, ev: i32, scale: f32, prescale: i32, causal: i32, window: i32, heads: i32,
  drop: bool, k0: u32, k1: u32, counter: f64, keepP: f32, keepScale: f32, keepOut: usize, ws: usize,
): void {
  layout(ws, lk, e, ev);
  const lp = pad8(lk);
  const kt = wKt, qs = wQs, S = wS;
  const ks = f32x4.splat(keepScale);
  // Row strides of q/k and of v/out (heads interleaved: heads·width).
  const ers = heads * e;
  const vrs = heads * ev;
  for (let b = 0; b < batch; b++) {
    const qb = q + (rowOff(b, 0, lq, e, heads) << 2);
    const kb = k + (rowOff(b, 0, lk, e, heads) << 2);
    const vb = v + (rowOff(b, 0, lk, ev, heads) << 2);
    transposePad(kb, lk, e, ers, kt, lp);
    for (let i0 = 0; i0 < lq; i0 += TQ) {
      const nrows = min(TQ, lq - i0);
      const jlo = rangeLo(i0, window);
      const jhi = rangeHi(i0 + nrows - 1, lk, causal, window);
      const ob = out + (rowOff(b, i0, lq, ev, heads) << 2);
      const statB = <usize>(b * lq + i0) << 2;
      if (jhi <= jlo) {
        // Every row of the tile is blind: NaN rows (softmax of all −∞), statistics −∞.
        for (let r = 0; r < nrows; r++) for (let c = 0; c < ev; c++) store<f32>(f4(ob, r * vrs + c), <f32>NaN);
        for (let r = 0; r < nrows; r++) {
          store<f32>(rowMax + statB + (<usize>r << 2), NEG_INF);
          store<f32>(lse + statB + (<usize>r << 2), NEG_INF);
        }
        continue;
      }
      const j0 = jlo & ~7;
      const j1 = min(lp, pad8(jhi));
      loadQ(qb, ers, i0, nrows, e, qs, prescale, scale);
      tileRowsABt(qs, e, nrows, kt, lp, e, S, lp, j0, j1);
      // The tile's keep bits: straight into the caller's record (read again by the backward pass) when given.
      const mk = keepOut ? keepOut + <usize>(b * lq + i0) * <usize>lk : wM;
      if (drop) tileMask(mk, b, i0, nrows, lq, lk, causal, window, k0, k1, counter, keepP);
      for (let r = 0; r < nrows; r++) {
        const i = i0 + r;
        const lo = rangeLo(i, window);
        const hi = max(lo, rangeHi(i, lk, causal, window));
        const row = S + (<usize>(r * lp) << 2);
        if (hi <= lo) {
          fillRange(row, j0, j1, 0);
          store<f32>(wInv + (<usize>r << 2), 0);
          store<f32>(wMax + (<usize>r << 2), NEG_INF);
          continue;
        }
        if (!prescale) scaleRange(row, j0, j1, scale);
        fillRange(row, j0, lo, NEG_INF);
        fillRange(row, hi, j1, NEG_INF);
        let mv = f32x4.splat(NEG_INF);
        let mw = f32x4.splat(NEG_INF);
        for (let j = j0; j < j1; j += 8) {
          mv = f32x4.pmax(mv, v128.load(f4(row, j)));
          mw = f32x4.pmax(mw, v128.load(f4(row, j + 4)));
        }
        const m = hmax(f32x4.pmax(mv, mw));
        const ms = f32x4.splat(m);
        // Unnormalized weights e^{s−m} (times the dropout factor) go to the tile; 1/Σ scales the output row
        // after the value product instead of every weight (L/Ev times fewer multiplies, one pass less).
        // Eight vectors per step, then four, then two (j1 − j0 is a multiple of 8): the exp is a ~12-deep
        // dependency chain, so independent ones must overlap to fill the pipes (two per step ran latency-bound;
        // eight measured 4–6% faster attention than four at the small preset's shapes, same process). The sums
        // alternate between two accumulators exactly as a two-vector loop would (sv: keys j, j + 8, …; sw:
        // j + 4, j + 12, …): the same bits whatever the step.
        let sv = f32x4.splat(0);
        let sw = f32x4.splat(0);
        let j = j0;
        const mrow = mk + <usize>(r * lk);
        for (; j + 32 <= j1; j += 32) {
          const e0 = expBelow(v128.load(f4(row, j)), ms);
          const e1 = expBelow(v128.load(f4(row, j + 4)), ms);
          const e2 = expBelow(v128.load(f4(row, j + 8)), ms);
          const e3 = expBelow(v128.load(f4(row, j + 12)), ms);
          const e4 = expBelow(v128.load(f4(row, j + 16)), ms);
          const e5 = expBelow(v128.load(f4(row, j + 20)), ms);
          const e6 = expBelow(v128.load(f4(row, j + 24)), ms);
          const e7 = expBelow(v128.load(f4(row, j + 28)), ms);
          sv = f32x4.add(f32x4.add(f32x4.add(f32x4.add(sv, e0), e2), e4), e6);
          sw = f32x4.add(f32x4.add(f32x4.add(f32x4.add(sw, e1), e3), e5), e7);
          storeWeight(row, j, e0, drop, mrow, ks);
          storeWeight(row, j + 4, e1, drop, mrow, ks);
          storeWeight(row, j + 8, e2, drop, mrow, ks);
          storeWeight(row, j + 12, e3, drop, mrow, ks);
          storeWeight(row, j + 16, e4, drop, mrow, ks);
          storeWeight(row, j + 20, e5, drop, mrow, ks);
          storeWeight(row, j + 24, e6, drop, mrow, ks);
          storeWeight(row, j + 28, e7, drop, mrow, ks);
        }
        if (j + 16 <= j1) {
          const e0 = expBelow(v128.load(f4(row, j)), ms);
          const e1 = expBelow(v128.load(f4(row, j + 4)), ms);
          const e2 = expBelow(v128.load(f4(row, j + 8)), ms);
          const e3 = expBelow(v128.load(f4(row, j + 12)), ms);
          sv = f32x4.add(f32x4.add(sv, e0), e2);
          sw = f32x4.add(f32x4.add(sw, e1), e3);
          storeWeight(row, j, e0, drop, mrow, ks);
          storeWeight(row, j + 4, e1, drop, mrow, ks);
          storeWeight(row, j + 8, e2, drop, mrow, ks);
          storeWeight(row, j + 12, e3, drop, mrow, ks);
          j += 16;
        }
        if (j < j1) {
          const e0 = expBelow(v128.load(f4(row, j)), ms);
          const e1 = expBelow(v128.load(f4(row, j + 4)), ms);
          sv = f32x4.add(sv, e0);
          sw = f32x4.add(sw, e1);
          storeWeight(row, j, e0, drop, mrow, ks);
          storeWeight(row, j + 4, e1, drop, mrow, ks);
        }
        sv = f32x4.add(sv, sw);
        const sum = hsum(sv);
        store<f32>(wInv + (<usize>r << 2), sum);
        store<f32>(wMax + (<usize>r << 2), m);
      }
      // logSumExp = m + ln Σ and 1/Σ, four rows per vector (one f32 vector log instead of an f64 log per row).
      // Σ ≥ 1 on visible rows (the max contributes e⁰); blind rows have Σ = 0 and m = −∞, so lse = −∞.
      for (let r = 0; r < nrows; r += 4) {
        const sums = v128.load(wInv + (<usize>r << 2));
        v128.store(wLse + (<usize>r << 2), f32x4.add(v128.load(wMax + (<usize>r << 2)), logF4(f32x4.pmax(sums, f32x4.splat(1)))));
        v128.store(wInv + (<usize>r << 2), f32x4.div(f32x4.splat(1), sums));
      }
      memory.copy(rowMax + statB, wMax, <usize>nrows << 2);
      memory.copy(lse + statB, wLse, <usize>nrows << 2);
      // out rows = (E[:, jlo .. jhi) · V[jlo .. jhi)) / Σ
      for (let r = 0; r < nrows; r += 4) {
        tileAB(
          S + (<usize>(r * lp + jlo) << 2), lp, 1, min(4, nrows - r), vb + (<usize>(jlo * vrs) << 2), vrs, jhi - jlo,
          ob + (<usize>(r * vrs) << 2), vrs, ev, false,
        );
      }
      for (let r = 0; r < nrows; r++) scaleRow(ob + (<usize>(r * vrs) << 2), ev, load<f32>(wInv + (<usize>r << 2)));
      for (let r = 0; r < nrows; r++) {
        const i = i0 + r;
        if (rangeHi(i, lk, causal, window) <= rangeLo(i, window)) {
          for (let c = 0; c < ev; c++) store<f32>(f4(ob, r * vrs + c), <f32>NaN);
        }
      }
    }
  }
}

/** Forward without dropout (inference, eval): the dropout code folds away, so kernels-infer.wasm has no RNG. */
export function attentionForward(
  q: usize, k: usize, v: usize, out: usize, rowMax: usize, lse: usize,
  batch: i32, lq: i32, lk: i32, e: i32, ev: i32, scale: f32, prescale: i32, causal: i32, window: i32, heads: i32, ws: usize,
): void {
  forwardBody(q, k, v, out, rowMax, lse, batch, lq, lk, e, ev, scale, prescale, causal, window, heads, false, 0, 0, 0, 1, 1, 0, ws);
}

/**
 * Forward with dropout on the weights (training). keepOut: batch·lq·lk + 16 bytes for the keep bits, row
 * (b·lq + i) at (b·lq + i)·lk (only each row's visible keys are meaningful), or 0 to keep them per tile only.
 */
export function attentionForwardDropout(
  q: usize, k: usize, v: usize, out: usize, rowMax: usize, lse: usize,
  batch: i32, lq: i32, lk: i32, e: i32, ev: i32, scale: f32, prescale: i32, causal: i32, window: i32, heads: i32,
  k0: u32, k1: u32, counter: f64, keepP: f32, keepScale: f32, keepOut: usize, ws: usize,
): void {
  forwardBody(q, k, v, out, rowMax, lse, batch, lq, lk, e, ev, scale, prescale, causal, window, heads, true, k0, k1, counter, keepP, keepScale, keepOut, ws);
}

/**
 * Backward: dq [batch, lq, e], dk [batch, lk, e], dv [batch, lk, ev] (dk and dv zero on entry; all in the
 * layout `heads` says). Weights are recomputed from logSumExp; see kernels.ts for the formulas. keepIn: the
 * forward pass's keep bits (attentionForwardDropout's keepOut), or 0 to draw them again.
 */
export function attentionBackwardKernel(
  dO: usize, q: usize, k: usize, v: usize, out: usize, lse: usize, dq: usize, dk: usize, dv: usize,
  batch: i32, lq: i32, lk: i32, e: i32, ev: i32, scale: f32, prescale: i32, causal: i32, window: i32, heads: i32,
  drop: i32, k0: u32, k1: u32, counter: f64, keepP: f32, keepScale: f32, keepIn: usize, ws: usize,
): void {
  layout(ws, lk, e, ev);
  const lp = pad8(lk);
  const kt = wKt, vt = wVt, qs = wQs, S = wS, DP = wDp;
  const ks = f32x4.splat(keepScale);
  const ers = heads * e;
  const vrs = heads * ev;
  for (let b = 0; b < batch; b++) {
    const qb = q + (rowOff(b, 0, lq, e, heads) << 2);
    const kb = k + (rowOff(b, 0, lk, e, heads) << 2);
    const vb = v + (rowOff(b, 0, lk, ev, heads) << 2);
    const dkb = dk + (rowOff(b, 0, lk, e, heads) << 2);
    const dvb = dv + (rowOff(b, 0, lk, ev, heads) << 2);
    transposePad(kb, lk, e, ers, kt, lp);
    transposePad(vb, lk, ev, vrs, vt, lp);
    for (let i0 = 0; i0 < lq; i0 += TQ) {
      const nrows = min(TQ, lq - i0);
      const jlo = rangeLo(i0, window);
      const jhi = rangeHi(i0 + nrows - 1, lk, causal, window);
      const dqb = dq + (rowOff(b, i0, lq, e, heads) << 2);
      if (jhi <= jlo) {
        for (let r = 0; r < nrows; r++) for (let t = 0; t < e; t++) store<f32>(f4(dqb, r * ers + t), 0);
        continue;
      }
      const j0 = jlo & ~7;
      const j1 = min(lp, pad8(jhi));
      const dob = dO + (rowOff(b, i0, lq, ev, heads) << 2);
      const oub = out + (rowOff(b, i0, lq, ev, heads) << 2);
      loadQ(qb, ers, i0, nrows, e, qs, prescale, scale);
      tileRowsABt(qs, e, nrows, kt, lp, e, S, lp, j0, j1);
      // Keep bits: the forward pass's record when the caller kept it, else drawn again from the same counters.
      const mk = keepIn ? keepIn + <usize>(b * lq + i0) * <usize>lk : wM;
      if (drop && !keepIn) tileMask(mk, b, i0, nrows, lq, lk, causal, window, k0, k1, counter, keepP);
      // dP̃ = dO · Vᵀ over the same keys.
      tileRowsABt(dob, vrs, nrows, vt, lp, ev, DP, lp, j0, j1);
      for (let r = 0; r < nrows; r++) {
        const i = i0 + r;
        const lo = rangeLo(i, window);
        const hi = max(lo, rangeHi(i, lk, causal, window));
        const row = S + (<usize>(r * lp) << 2);
        const drow = DP + (<usize>(r * lp) << 2);
        if (hi <= lo) {
          fillRange(row, j0, j1, 0);
          fillRange(drow, j0, j1, 0);
          continue;
        }
        let dsum: f64 = 0;
        for (let c = 0; c < ev; c++) dsum += <f64>load<f32>(f4(dob, r * vrs + c)) * <f64>load<f32>(f4(oub, r * vrs + c));
        const dv4 = f32x4.splat(<f32>dsum);
        if (!prescale) scaleRange(row, j0, j1, scale);
        fillRange(row, j0, lo, NEG_INF);
        fillRange(row, hi, j1, NEG_INF);
        const ls = f32x4.splat(load<f32>(lse + (<usize>(b * lq + i) << 2)));
        // Two vectors per step, as in the forward.
        if (drop) {
          const mrow = mk + <usize>(r * lk);
          for (let j = j0; j < j1; j += 8) {
            const p = expBelow(v128.load(f4(row, j)), ls);
            const pp = expBelow(v128.load(f4(row, j + 4)), ls);
            const zz = zOf(mrow + <usize>j, ks);
            const zy = zOf(mrow + <usize>(j + 4), ks);
            v128.store(f4(row, j), f32x4.mul(p, zz));
            v128.store(f4(row, j + 4), f32x4.mul(pp, zy));
            v128.store(f4(drow, j), f32x4.mul(p, f32x4.sub(f32x4.mul(zz, v128.load(f4(drow, j))), dv4)));
            v128.store(f4(drow, j + 4), f32x4.mul(pp, f32x4.sub(f32x4.mul(zy, v128.load(f4(drow, j + 4))), dv4)));
          }
        } else {
          for (let j = j0; j < j1; j += 8) {
            const p = expBelow(v128.load(f4(row, j)), ls);
            const pp = expBelow(v128.load(f4(row, j + 4)), ls);
            v128.store(f4(row, j), p);
            v128.store(f4(row, j + 4), pp);
            v128.store(f4(drow, j), f32x4.mul(p, f32x4.sub(v128.load(f4(drow, j)), dv4)));
            v128.store(f4(drow, j + 4), f32x4.mul(pp, f32x4.sub(v128.load(f4(drow, j + 4)), dv4)));
          }
        }
      }
      const n = jhi - jlo;
      // dV[jlo .. jhi) += (P∘Z)ᵀ · dO and dK[jlo .. jhi) += dSᵀ · Qs, reading the tiles transposed in place.
      for (let j = 0; j < n; j += 4) {
        tileAB(S + (<usize>(jlo + j) << 2), 1, lp, min(4, n - j), dob, vrs, nrows, dvb + (<usize>((jlo + j) * vrs) << 2), vrs, ev, true);
        tileAB(DP + (<usize>(jlo + j) << 2), 1, lp, min(4, n - j), qs, e, nrows, dkb + (<usize>((jlo + j) * ers) << 2), ers, e, true);
      }
      // dQ rows = scale · dS · K[jlo .. jhi)
      for (let r = 0; r < nrows; r += 4) {
        tileAB(
          DP + (<usize>(r * lp + jlo) << 2), lp, 1, min(4, nrows - r), kb + (<usize>(jlo * ers) << 2), ers, n,
          dqb + (<usize>(r * ers) << 2), ers, e, false,
        );
      }
      for (let r = 0; r < nrows; r++) scaleRow(dqb + (<usize>(r * ers) << 2), e, scale);
    }
    // With Q scaled up front, dSᵀ·Qs already carries the scale.
    if (!prescale) for (let j = 0; j < lk; j++) scaleRow(dkb + (<usize>(j * ers) << 2), e, scale);
  }
}
