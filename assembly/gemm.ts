// Single-precision GEMM: packed, cache-blocked, register-tiled with f32x4 accumulators.
//
//   C[m, n] = op(A)[m, k] · op(B)[k, n] (+ bias[n]),  batched with per-operand batch strides.
//
// Operands are described by element strides, so transposes cost nothing here: op(A)[i, p] lives at
// a + 4·(i·aRs + p·aCs) and op(B)[p, j] at b + 4·(p·bRs + j·bCs). Packing copies an MC×KC block of op(A)
// into MR-row micro-panels ([kc][MR] each, every value pre-broadcast to 4 lanes in the default build) and a
// KC×NC block of op(B) into NR-column micro-panels ([kc][NR] each), zero-padding the edges; the micro-kernel
// then streams both panels with unit stride.
//
// Determinism: every output element is accumulated as ((0 + a0·b0) + a1·b1) + … in increasing k (the KC
// blocks are visited in increasing order and each one resumes from the partial sums stored in C), then the
// bias is added once at the final write-back. In the default build each step is a separate f32 multiply and
// add, so the result depends only on the shapes and is bit-identical on every WebAssembly engine. The relaxed
// build (ASC_FEATURE_RELAXED_SIMD) uses f32x4.relaxed_madd, which may or may not fuse.

// Register tile: 4 rows × 8 columns = 8 f32x4 accumulators. V8 (TurboFan, x64) gives wasm SIMD values 15 xmm
// registers (xmm15 is its scratch) and issues all loads of a loop iteration before the arithmetic, so the
// live set per k step is accumulators + every loaded operand (2 B vectors + 4 broadcast A values) + 1 product
// temporary = 15 here: the largest tile that does not spill. Measured on this Zen 4 (V8 11.3 / Node 20),
// GFLOP/s at 1024³, default / relaxed build: 4×8 44.8 / 51.1, 2×16 44.3 / 49.9, 3×12 15 / 50.7,
// 5×8 23.6 / 22.3, 6×8 27.3 / 26 (the larger tiles spill accumulators to the stack every k step).
// Unrolling the k loop hurts too (Binaryen nests each accumulator's chain across the unrolled steps and V8
// hoists every step's loads: 26 GFLOP/s at 4 steps). The relaxed build's loop is one k step bounded by the B
// pointer (V8 unrolls it itself); the default build's is unrolled by 4 with an exit test between the steps
// (see mk4x8), which keeps the loads of each step in their own block. Per k step the default build runs 16 FP ops + 6 loads + ~3-5 loop ops, close to the
// dispatch width; the relaxed build's 8 FMAs make it FMA-port bound (~87% of the 58.6 GFLOP/s peak).
import { edgeScratch, madd, transpose4Store } from './common.ts';

const NR: i32 = 8;
const MR: i32 = 4;
// The default build packs every A value pre-broadcast to an f32x4 (panel [kc][MR][4]), so the micro-kernel
// reads A with plain 16-byte loads instead of load32_splat: +2–3% (45.0 → 46.3 GFLOP/s at 1024³, best of
// interleaved runs; the 4× larger A block wants MC = 96 to stay in L2). The relaxed build is FMA-port bound
// and loses ~1% with it, so it keeps the compact [kc][MR] panel.
const A_SPLAT: bool = !ASC_FEATURE_RELAXED_SIMD;
/** log2 of the packed bytes per A element. */
const A_SHIFT: usize = A_SPLAT ? 4 : 2;
/** k steps per iteration of the default build's micro-kernel loop (see mk4x8). */
const KU: usize = ASC_SHRINK_LEVEL > 0 ? 4 : 16;
// Cache blocking for one Zen 4 core (32 KiB L1d, 1 MiB L2). Relaxed build: a KC×NR B micro-panel (8 KiB)
// stays in L1 while the MC×KC packed A block (192 KiB) stays in L2; the KC×NC packed B block (1 MiB) streams
// from L2/L3. (Flat within ±2% for KC 256–512, MC 96–384, NC 1024–4096; KC = 128 loses ~4%.)
// Default build: a deep KC = 1024 (one pass over C for k ≤ 1024, so the C tiles are loaded and stored a
// quarter as often) with a shallow MC = 24 (the 384 KiB pre-broadcast A block stays in L2): +2–3% over
// KC 256 / MC 96 at 512³–3072×512×2048 (KC 512 / MC 24–48 and KC 2048 / MC 12 measure within 1%). MC 12
// measured +1–3.5% on the Transformer step's 64-column products in the bench (operands hot in cache), but
// 7–19% slower on the forward products inside a training step, where op(A) is packed from L3/memory.
// These are the build's defaults. The host may pass another blocking per call (gemmBlocked, gemmRows, the
// shared-B split): the best one depends on the CPU's cache sizes (a 512 KiB-L2 Zen 3 is not this Zen 4), so
// the host picks it by a short measurement at first use (src/backend/wasm/gemm-tune.ts). Any blocking gives
// the same bits: KC only cuts the increasing-k chain into stretches whose partial sums are stored in C as the
// f32 accumulators hold them and reloaded (see Determinism above), MC and NC only choose which elements are
// computed when. Only the loop bounds read them: the micro-kernel already takes kc at run time, and MR × NR
// and the k unrolling stay compile-time.
const KC: i32 = A_SPLAT ? 1024 : 256;
const MC: i32 = A_SPLAT ? 24 : 192;
const NC: i32 = 1024;

/** A depth block from the host: its value, or this build's KC where it passes 0 (or anything < 1). */
@inline function depthBlock(kc: i32): i32 {
  return kc > 0 ? kc : KC;
}

/** A row block from the host (a multiple of MR: rounded up), or this build's MC where it passes 0. */
@inline function rowBlock(mc: i32): i32 {
  return mc > 0 ? (mc + MR - 1) / MR * MR : MC;
}

/** A column block from the host (a multiple of NR: rounded up), or this build's NC where it passes 0. */
@inline function columnBlock(nc: i32): i32 {
  return nc > 0 ? (nc + NR - 1) / NR * NR : NC;
}
/**
 * Widest op(B) for which `tiles` reads op(A) in place by default (see directA, blockRowsDirect); the host may
 * ask for it at every width (`inPlaceA`), which another CPU may run faster.
 */
const DIRECT_A_MAX_N: i32 = 64;

// Edge micro-tiles (MR × NR) run on a scratch tile: edgeScratch() in common.ts (one per thread).

// 4×8 micro-kernel: C[4][8] (+)= Apanel[kc][4] · Bpanel[kc][8], k in increasing order (A values packed
// pre-broadcast, 16 bytes each, when A_SPLAT).
@inline function mk4x8(kc: i32, pa: usize, direct: bool, rsb: usize, pb: usize, c: usize, ldc: usize, acc0: bool, bias: usize): void {
  const r0 = c;
  const r1 = c + ldc;
  const r2 = c + 2 * ldc;
  const r3 = c + 3 * ldc;
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (acc0) {
    c00 = v128.load(r0, 0);
    c01 = v128.load(r0, 16);
    c10 = v128.load(r1, 0);
    c11 = v128.load(r1, 16);
    c20 = v128.load(r2, 0);
    c21 = v128.load(r2, 16);
    c30 = v128.load(r3, 0);
    c31 = v128.load(r3, 16);
  } else {
    c00 = f32x4.splat(0);
    c01 = f32x4.splat(0);
    c10 = f32x4.splat(0);
    c11 = f32x4.splat(0);
    c20 = f32x4.splat(0);
    c21 = f32x4.splat(0);
    c30 = f32x4.splat(0);
    c31 = f32x4.splat(0);
  }
  const pbEnd = pb + (<usize>kc << 5);
  if (A_SPLAT) {
    // k unrolled by KU with an exit test after each step (same per-element order: one k step at a time). The
    // exits split the body into blocks, so V8 cannot hoist all the steps' loads ahead of the arithmetic (that
    // spilled: 26 GFLOP/s), and the constant load offsets replace all but one pointer bump per KU steps. Per
    // loop iteration V8 also runs an interrupt check (a load, a compare, a branch) and the two bumps: against
    // ~23 macro-ops per step, at a dispatch-bound kernel, 16 steps instead of 4 measured +2–3% at 512³ and
    // 1024³ (8 steps +1%). The size-optimised inference build keeps 4 steps (16 cost it 0.7 KB gzip).
    let b0: v128, b1: v128, a0: v128, a1: v128, a2: v128, a3: v128;
    let q1 = pa + rsb, q2 = pa + 2 * rsb, q3 = pa + 3 * rsb;
    while (true) {
      b0 = v128.load(pb, 0);
      b1 = v128.load(pb, 16);
      a0 = direct ? v128.load32_splat(pa, 0) : v128.load(pa, 0);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      a1 = direct ? v128.load32_splat(q1, 0) : v128.load(pa, 16);
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      a2 = direct ? v128.load32_splat(q2, 0) : v128.load(pa, 32);
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      a3 = direct ? v128.load32_splat(q3, 0) : v128.load(pa, 48);
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
      if (pb >= pbEnd - 32) break;
      b0 = v128.load(pb, 32);
      b1 = v128.load(pb, 48);
      a0 = direct ? v128.load32_splat(pa, 4) : v128.load(pa, 64);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      a1 = direct ? v128.load32_splat(q1, 4) : v128.load(pa, 80);
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      a2 = direct ? v128.load32_splat(q2, 4) : v128.load(pa, 96);
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      a3 = direct ? v128.load32_splat(q3, 4) : v128.load(pa, 112);
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
      if (pb >= pbEnd - 64) break;
      b0 = v128.load(pb, 64);
      b1 = v128.load(pb, 80);
      a0 = direct ? v128.load32_splat(pa, 8) : v128.load(pa, 128);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      a1 = direct ? v128.load32_splat(q1, 8) : v128.load(pa, 144);
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      a2 = direct ? v128.load32_splat(q2, 8) : v128.load(pa, 160);
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      a3 = direct ? v128.load32_splat(q3, 8) : v128.load(pa, 176);
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
      if (pb >= pbEnd - 96) break;
      b0 = v128.load(pb, 96);
      b1 = v128.load(pb, 112);
      a0 = direct ? v128.load32_splat(pa, 12) : v128.load(pa, 192);
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      a1 = direct ? v128.load32_splat(q1, 12) : v128.load(pa, 208);
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      a2 = direct ? v128.load32_splat(q2, 12) : v128.load(pa, 224);
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      a3 = direct ? v128.load32_splat(q3, 12) : v128.load(pa, 240);
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
      if (KU == 16) {
        if (pb >= pbEnd - 128) break;
        b0 = v128.load(pb, 128);
        b1 = v128.load(pb, 144);
        a0 = direct ? v128.load32_splat(pa, 16) : v128.load(pa, 256);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 16) : v128.load(pa, 272);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 16) : v128.load(pa, 288);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 16) : v128.load(pa, 304);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 160) break;
        b0 = v128.load(pb, 160);
        b1 = v128.load(pb, 176);
        a0 = direct ? v128.load32_splat(pa, 20) : v128.load(pa, 320);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 20) : v128.load(pa, 336);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 20) : v128.load(pa, 352);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 20) : v128.load(pa, 368);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 192) break;
        b0 = v128.load(pb, 192);
        b1 = v128.load(pb, 208);
        a0 = direct ? v128.load32_splat(pa, 24) : v128.load(pa, 384);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 24) : v128.load(pa, 400);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 24) : v128.load(pa, 416);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 24) : v128.load(pa, 432);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 224) break;
        b0 = v128.load(pb, 224);
        b1 = v128.load(pb, 240);
        a0 = direct ? v128.load32_splat(pa, 28) : v128.load(pa, 448);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 28) : v128.load(pa, 464);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 28) : v128.load(pa, 480);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 28) : v128.load(pa, 496);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 256) break;
        b0 = v128.load(pb, 256);
        b1 = v128.load(pb, 272);
        a0 = direct ? v128.load32_splat(pa, 32) : v128.load(pa, 512);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 32) : v128.load(pa, 528);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 32) : v128.load(pa, 544);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 32) : v128.load(pa, 560);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 288) break;
        b0 = v128.load(pb, 288);
        b1 = v128.load(pb, 304);
        a0 = direct ? v128.load32_splat(pa, 36) : v128.load(pa, 576);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 36) : v128.load(pa, 592);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 36) : v128.load(pa, 608);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 36) : v128.load(pa, 624);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 320) break;
        b0 = v128.load(pb, 320);
        b1 = v128.load(pb, 336);
        a0 = direct ? v128.load32_splat(pa, 40) : v128.load(pa, 640);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 40) : v128.load(pa, 656);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 40) : v128.load(pa, 672);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 40) : v128.load(pa, 688);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 352) break;
        b0 = v128.load(pb, 352);
        b1 = v128.load(pb, 368);
        a0 = direct ? v128.load32_splat(pa, 44) : v128.load(pa, 704);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 44) : v128.load(pa, 720);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 44) : v128.load(pa, 736);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 44) : v128.load(pa, 752);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 384) break;
        b0 = v128.load(pb, 384);
        b1 = v128.load(pb, 400);
        a0 = direct ? v128.load32_splat(pa, 48) : v128.load(pa, 768);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 48) : v128.load(pa, 784);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 48) : v128.load(pa, 800);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 48) : v128.load(pa, 816);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 416) break;
        b0 = v128.load(pb, 416);
        b1 = v128.load(pb, 432);
        a0 = direct ? v128.load32_splat(pa, 52) : v128.load(pa, 832);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 52) : v128.load(pa, 848);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 52) : v128.load(pa, 864);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 52) : v128.load(pa, 880);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 448) break;
        b0 = v128.load(pb, 448);
        b1 = v128.load(pb, 464);
        a0 = direct ? v128.load32_splat(pa, 56) : v128.load(pa, 896);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 56) : v128.load(pa, 912);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 56) : v128.load(pa, 928);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 56) : v128.load(pa, 944);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        if (pb >= pbEnd - 480) break;
        b0 = v128.load(pb, 480);
        b1 = v128.load(pb, 496);
        a0 = direct ? v128.load32_splat(pa, 60) : v128.load(pa, 960);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        a1 = direct ? v128.load32_splat(q1, 60) : v128.load(pa, 976);
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        a2 = direct ? v128.load32_splat(q2, 60) : v128.load(pa, 992);
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        a3 = direct ? v128.load32_splat(q3, 60) : v128.load(pa, 1008);
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
      }
      if (direct) {
        pa += KU << 2;
        q1 += KU << 2;
        q2 += KU << 2;
        q3 += KU << 2;
      } else {
        pa += KU << 6;
      }
      pb += KU << 5;
      if (pb >= pbEnd) break;
    }
  } else while (pb < pbEnd) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const a0 = A_SPLAT ? v128.load(pa, 0) : v128.load32_splat(pa, 0);
    c00 = madd(c00, a0, b0);
    c01 = madd(c01, a0, b1);
    const a1 = A_SPLAT ? v128.load(pa, 16) : v128.load32_splat(pa, 4);
    c10 = madd(c10, a1, b0);
    c11 = madd(c11, a1, b1);
    const a2 = A_SPLAT ? v128.load(pa, 32) : v128.load32_splat(pa, 8);
    c20 = madd(c20, a2, b0);
    c21 = madd(c21, a2, b1);
    const a3 = A_SPLAT ? v128.load(pa, 48) : v128.load32_splat(pa, 12);
    c30 = madd(c30, a3, b0);
    c31 = madd(c31, a3, b1);
    pa += A_SPLAT ? 64 : 16;
    pb += 32;
  }
  if (bias) {
    const v0 = v128.load(bias, 0);
    const v1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, v0);
    c01 = f32x4.add(c01, v1);
    c10 = f32x4.add(c10, v0);
    c11 = f32x4.add(c11, v1);
    c20 = f32x4.add(c20, v0);
    c21 = f32x4.add(c21, v1);
    c30 = f32x4.add(c30, v0);
    c31 = f32x4.add(c31, v1);
  }
  v128.store(r0, c00, 0);
  v128.store(r0, c01, 16);
  v128.store(r1, c10, 0);
  v128.store(r1, c11, 16);
  v128.store(r2, c20, 0);
  v128.store(r2, c21, 16);
  v128.store(r3, c30, 0);
  v128.store(r3, c31, 16);
}

@inline function micro(kc: i32, pa: usize, direct: bool, rsb: usize, pb: usize, c: usize, ldc: usize, acc0: bool, bias: usize): void {
  mk4x8(kc, pa, direct, rsb, pb, c, ldc, acc0, bias);
}

/** Bytes of workspace `tiles` needs for these sizes (packed A block + packed B block). */
function tilesWorkspaceBytes(m: i32, n: i32, k: i32, KC: i32, MC: i32, NC: i32): i32 {
  const kc = min(KC, max(k, 1));
  const mc = min(MC, (m + MR - 1) / MR * MR);
  const nc = min(NC, (n + NR - 1) / NR * NR);
  return ((mc * kc) << <i32>A_SHIFT) + kc * nc * 4 + 64;
}

/** Whether gemm1 computes Cᵀ = op(B)ᵀ·op(A)ᵀ instead (see there). */
@inline function narrowC(m: i32, n: i32, k: i32): bool {
  return n < NR && m >= NR && k > 0;
}

/** Bytes of the Cᵀ buffer at the start of the workspace when narrowC (64-byte aligned). */
@inline function ctBytes(m: i32, n: i32): i32 {
  return (m * n * 4 + 63) & ~63;
}

/** Bytes of workspace `gemm` needs for these sizes (for gemmRows: the largest row block's). */
export function gemmWorkspaceBytes(m: i32, n: i32, k: i32): i32 {
  return gemmBlockedWorkspaceBytes(m, n, k, 0, 0, 0);
}

/** Bytes of workspace gemmBlocked / gemmRows need for these sizes and this blocking (0: the build's). */
export function gemmBlockedWorkspaceBytes(m: i32, n: i32, k: i32, kc: i32, mc: i32, nc: i32): i32 {
  const KC = depthBlock(kc), MC = rowBlock(mc), NC = columnBlock(nc);
  const direct = tilesWorkspaceBytes(m, n, k, KC, MC, NC);
  if (!narrowC(m, n, k)) return direct;
  // A smaller row block of the same product (gemmRows' last) may not take the narrow path: cover both.
  return max(direct, ctBytes(m, n) + tilesWorkspaceBytes(n, m, k, KC, MC, NC));
}

/** Pack an mc×kc block of op(A) (top-left at src) into MR-row micro-panels [kc][MR] at dst. */
function packACompact(mc: i32, kc: i32, src: usize, rs: i32, cs: i32, dst: usize): void {
  const rsb = <usize>rs << 2;
  const csb = <usize>cs << 2;
  const step = <usize>(MR << 2);
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = min(MR, mc - i0);
    const d = dst + ((<usize>i0 * <usize>kc) << 2);
    const s = src + <usize>i0 * rsb;
    if (mr == MR && cs == 1) {
      // Rows are contiguous in k: transpose 4×4 blocks.
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const sp = s + (<usize>p << 2);
        const dp = d + <usize>p * step;
        let g = 0;
        for (; g + 4 <= MR; g += 4) {
          const sg = sp + <usize>g * rsb;
          transpose4Store(v128.load(sg), v128.load(sg + rsb), v128.load(sg + 2 * rsb), v128.load(sg + 3 * rsb),
            dp + (<usize>g << 2), step);
        }
        if (MR - g == 2) {
          const x = v128.load(sp + <usize>g * rsb);
          const y = v128.load(sp + <usize>(g + 1) * rsb);
          const lo = v128.shuffle<f32>(x, y, 0, 4, 1, 5);
          const hi = v128.shuffle<f32>(x, y, 2, 6, 3, 7);
          const dg = dp + (<usize>g << 2);
          v128.store64_lane(dg, lo, 0);
          v128.store64_lane(dg + step, lo, 1);
          v128.store64_lane(dg + 2 * step, hi, 0);
          v128.store64_lane(dg + 3 * step, hi, 1);
        } else {
          for (; g < MR; g++) {
            const x = v128.load(sp + <usize>g * rsb);
            const dg = dp + (<usize>g << 2);
            v128.store32_lane(dg, x, 0);
            v128.store32_lane(dg + step, x, 1);
            v128.store32_lane(dg + 2 * step, x, 2);
            v128.store32_lane(dg + 3 * step, x, 3);
          }
        }
      }
      for (; p < kc; p++) {
        const sp = s + (<usize>p << 2);
        const dp = d + <usize>p * step;
        for (let i = 0; i < MR; i++) store<f32>(dp + (<usize>i << 2), load<f32>(sp + <usize>i * rsb));
      }
    } else if (mr == MR && rs == 1) {
      // Columns of op(A) are contiguous (A transposed): copy MR floats per k.
      for (let p = 0; p < kc; p++) {
        const sp = s + <usize>p * csb;
        const dp = d + <usize>p * step;
        let i = 0;
        for (; i + 4 <= MR; i += 4) v128.store(dp + (<usize>i << 2), v128.load(sp + (<usize>i << 2)));
        for (; i < MR; i++) store<f32>(dp + (<usize>i << 2), load<f32>(sp + (<usize>i << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const sp = s + <usize>p * csb;
        const dp = d + <usize>p * step;
        for (let i = 0; i < MR; i++) {
          store<f32>(dp + (<usize>i << 2), i < mr ? load<f32>(sp + <usize>i * rsb) : 0);
        }
      }
    }
  }
}

/** The four lanes of x, each broadcast to a vector, stored `step` bytes apart from dst (pre-broadcast A). */
@inline function splatLanes(x: v128, dst: usize, step: usize): void {
  v128.store(dst, v128.shuffle<f32>(x, x, 0, 0, 0, 0));
  v128.store(dst + step, v128.shuffle<f32>(x, x, 1, 1, 1, 1));
  v128.store(dst + 2 * step, v128.shuffle<f32>(x, x, 2, 2, 2, 2));
  v128.store(dst + 3 * step, v128.shuffle<f32>(x, x, 3, 3, 3, 3));
}

/**
 * Pack an mc×kc block of op(A) (top-left at src) into MR-row micro-panels at dst, each value pre-broadcast to
 * an f32x4: panel layout [kc][MR][4]. The micro-kernel then reads A with plain 16-byte loads.
 */
function packASplat(mc: i32, kc: i32, src: usize, rs: i32, cs: i32, dst: usize): void {
  const rsb = <usize>rs << 2;
  const csb = <usize>cs << 2;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = min(MR, mc - i0);
    const d = dst + ((<usize>i0 * <usize>kc) << 4);
    const s = src + <usize>i0 * rsb;
    if (mr == MR && cs == 1) {
      // Rows are contiguous in k: load four k values of a row, broadcast each lane.
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const sp = s + (<usize>p << 2);
        const dp = d + (<usize>p << 6);
        for (let i = 0; i < MR; i++) {
          const x = v128.load(sp + <usize>i * rsb);
          splatLanes(x, dp + (<usize>i << 4), 64);
        }
      }
      for (; p < kc; p++) {
        const sp = s + (<usize>p << 2);
        const dp = d + (<usize>p << 6);
        for (let i = 0; i < MR; i++) v128.store(dp + (<usize>i << 4), v128.load32_splat(sp + <usize>i * rsb));
      }
    } else if (mr == MR && rs == 1) {
      // Columns of op(A) are contiguous (A transposed, as in the weight gradients Gᵀ·X): one load gives the
      // MR values of a k step, each lane is broadcast. (The per-element path below took a quarter of
      // 64×64×3072 with A transposed.)
      for (let p = 0; p < kc; p++) {
        const x = v128.load(s + <usize>p * csb);
        const dp = d + (<usize>p << 6);
        splatLanes(x, dp, 16);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const sp = s + <usize>p * csb;
        const dp = d + (<usize>p << 6);
        for (let i = 0; i < MR; i++) {
          v128.store(dp + (<usize>i << 4), i < mr ? v128.load32_splat(sp + <usize>i * rsb) : f32x4.splat(0));
        }
      }
    }
  }
}

/** Pack an mc×kc block of op(A) in this build's layout. */
@inline function packA(mc: i32, kc: i32, src: usize, rs: i32, cs: i32, dst: usize): void {
  if (A_SPLAT) packASplat(mc, kc, src, rs, cs, dst);
  else packACompact(mc, kc, src, rs, cs, dst);
}

/** Pack a kc×nc block of op(B) (top-left at src) into NR-column micro-panels [kc][NR] at dst. */
function packB(kc: i32, nc: i32, src: usize, rs: i32, cs: i32, dst: usize): void {
  const rsb = <usize>rs << 2;
  const csb = <usize>cs << 2;
  const step = <usize>(NR << 2);
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = min(NR, nc - j0);
    const d = dst + ((<usize>j0 * <usize>kc) << 2);
    const s = src + <usize>j0 * csb;
    if (nr == NR && cs == 1) {
      for (let p = 0; p < kc; p++) {
        const sp = s + <usize>p * rsb;
        const dp = d + <usize>p * step;
        for (let j = 0; j < NR; j += 4) v128.store(dp + (<usize>j << 2), v128.load(sp + (<usize>j << 2)));
      }
    } else if (nr == NR && rs == 1) {
      // B transposed: each column of op(B) is contiguous in k; transpose 4×4 blocks.
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const sp = s + (<usize>p << 2);
        const dp = d + <usize>p * step;
        for (let g = 0; g < NR; g += 4) {
          const sg = sp + <usize>g * csb;
          transpose4Store(v128.load(sg), v128.load(sg + csb), v128.load(sg + 2 * csb), v128.load(sg + 3 * csb),
            dp + (<usize>g << 2), step);
        }
      }
      for (; p < kc; p++) {
        const sp = s + (<usize>p << 2);
        const dp = d + <usize>p * step;
        for (let j = 0; j < NR; j++) store<f32>(dp + (<usize>j << 2), load<f32>(sp + <usize>j * csb));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const sp = s + <usize>p * rsb;
        const dp = d + <usize>p * step;
        for (let j = 0; j < NR; j++) {
          store<f32>(dp + (<usize>j << 2), j < nr ? load<f32>(sp + <usize>j * csb) : 0);
        }
      }
    }
  }
}

/** An edge micro-tile (mr < MR or nr < NR): run the full kernel on the scratch tile, copy the valid part. */
function edgeTile(kc: i32, pa: usize, rsb: usize, pb: usize, c: usize, ldc: usize, mr: i32, nr: i32, acc0: bool, bias: usize): void {
  const tl: usize = <usize>(NR << 2);
  const EDGE = edgeScratch();
  if (acc0) {
    for (let i = 0; i < mr; i++) {
      const cr = c + <usize>i * ldc;
      const er = EDGE + <usize>i * tl;
      for (let j = 0; j < nr; j++) store<f32>(er + (<usize>j << 2), load<f32>(cr + (<usize>j << 2)));
    }
  }
  if (rsb) micro(kc, pa, true, rsb, pb, EDGE, tl, acc0, 0);
  else micro(kc, pa, false, 0, pb, EDGE, tl, acc0, 0);
  for (let i = 0; i < mr; i++) {
    const cr = c + <usize>i * ldc;
    const er = EDGE + <usize>i * tl;
    if (bias) {
      for (let j = 0; j < nr; j++) {
        store<f32>(cr + (<usize>j << 2), load<f32>(er + (<usize>j << 2)) + load<f32>(bias + (<usize>j << 2)));
      }
    } else {
      for (let j = 0; j < nr; j++) store<f32>(cr + (<usize>j << 2), load<f32>(er + (<usize>j << 2)));
    }
  }
}

/**
 * Whether `tiles` reads op(A) in place (blockRowsDirect) instead of packing it: the default build packs A
 * pre-broadcast (16 bytes per value), which pays off over many B panels but costs a large share of a product with few columns (the
 * Transformer's 64-wide projections: a 3072×64×64 product packs 3 MB of A for 8 panels). In place, the
 * micro-kernel broadcasts A values with load32_splat from four rows that are contiguous in k (aCs = 1) and
 * must exist (m a multiple of MR). Same products, same order: the same bits. Measured (A/B of the two builds,
 * CPU time): n ≤ 64 gains 5–8% (3072×64×64, 4608×64×64); n = 128 and 192 are even; at n ≥ 256 (and 512³,
 * 1024³) the pre-broadcast panel wins by 3–5%. That was a Zen 4; on a family-26 EPYC (Zen 5) in place ran
 * 512³ and 1024³ 5–10% faster instead, so the host may ask for it at every n (`inPlaceA`, picked by the
 * tuner's trial). The size-optimised inference build leaves it out (its second inlined micro-kernel costs
 * ~0.7 KB gzip of that bundle's 60 KB budget).
 */
@inline function directA(m: i32, n: i32, aCs: i32, inPlaceA: bool): bool {
  return A_SPLAT && ASC_SHRINK_LEVEL == 0 && aCs == 1 && m % MR == 0 && (inPlaceA || n <= DIRECT_A_MAX_N);
}

/**
 * blockRows with op(A) read in place (see directA): the micro-kernel walks four rows of A (an MC-row block of
 * them is reused from L1 across the B panels); `a` points at op(A)[0, pc] with rows aRs elements apart. A
 * function of its own so that each loop nest inlines one micro-kernel (both in one function cost the packed
 * path 7–9%: V8 allocates registers per function).
 */
function blockRowsDirect(
  m: i32, nc: i32, kc: i32, a: usize, aRs: i32, pB: usize, c: usize, ldcb: usize, acc0: bool, bias: usize, MC: i32,
): void {
  const rsb = <usize>aRs << 2;
  for (let ic = 0; ic < m; ic += MC) {
    const mc = min(MC, m - ic);
    const aBlock = a + <usize>ic * rsb;
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = min(NR, nc - jr);
      const pb = pB + ((<usize>jr * <usize>kc) << 2);
      const bj: usize = bias ? bias + (<usize>jr << 2) : 0;
      const cj = c + <usize>ic * ldcb + (<usize>jr << 2);
      for (let ir = 0; ir < mc; ir += MR) {
        const pa = aBlock + <usize>ir * rsb;
        const cp = cj + <usize>ir * ldcb;
        if (nr == NR) micro(kc, pa, true, rsb, pb, cp, ldcb, acc0, bj);
        else edgeTile(kc, pa, rsb, pb, cp, ldcb, MR, nr, acc0, bj);
      }
    }
  }
}

/** C = op(A)·op(B) (+ bias) by packed blocks and micro-tiles: the GEMM proper. */
function tiles(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, bias: usize, ws: usize, KC: i32, MC: i32, NC: i32, inPlaceA: bool,
): void {
  const ldcb = <usize>ldc << 2;
  if (k == 0) {
    for (let i = 0; i < m; i++) {
      const cr = c + <usize>i * ldcb;
      for (let j = 0; j < n; j++) store<f32>(cr + (<usize>j << 2), bias ? load<f32>(bias + (<usize>j << 2)) : 0);
    }
    return;
  }
  const direct = directA(m, n, aCs, inPlaceA);
  const kcMax = min(KC, k);
  const mcMax = min(MC, (m + MR - 1) / MR * MR);
  const pA = (ws + 63) & ~(<usize>63);
  const pB = pA + ((<usize>mcMax * <usize>kcMax) << A_SHIFT);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const acc0 = pc > 0;
      const last = pc + kc >= k;
      packB(kc, nc, b + ((<usize>pc * <usize>bRs + <usize>jc * <usize>bCs) << 2), bRs, bCs, pB);
      const aBlock = a + ((<usize>pc * <usize>aCs) << 2);
      const cBlock = c + (<usize>jc << 2);
      const bj: usize = last && bias ? bias + (<usize>jc << 2) : 0;
      if (direct) blockRowsDirect(m, nc, kc, aBlock, aRs, pB, cBlock, ldcb, acc0, bj, MC);
      else blockRows(m, nc, kc, aBlock, aRs, aCs, pA, pB, cBlock, ldcb, acc0, bj, MC);
    }
  }
}

/**
 * One (jc, pc) block of `tiles` for rows [0, m): C[:, jc, +nc] (+)= op(A)[:, pc, +kc] · the packed op(B) block
 * at pB, op(A) packed MC rows at a time into pA. `a` points at op(A)[0, pc], `c` at C[0, jc], `bias` at
 * bias[jc] on the last k block (else 0); acc0: resume from the partial sums in C (pc > 0). The shared-B split
 * (gemmBlockRows) runs this same code on each thread's rows, so the arithmetic cannot drift from `tiles`.
 */
function blockRows(
  m: i32, nc: i32, kc: i32, a: usize, aRs: i32, aCs: i32, pA: usize, pB: usize, c: usize, ldcb: usize, acc0: bool,
  bias: usize, MC: i32,
): void {
  for (let ic = 0; ic < m; ic += MC) {
    const mc = min(MC, m - ic);
    packA(mc, kc, a + ((<usize>ic * <usize>aRs) << 2), aRs, aCs, pA);
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = min(NR, nc - jr);
      const pb = pB + ((<usize>jr * <usize>kc) << 2);
      const bj: usize = bias ? bias + (<usize>jr << 2) : 0;
      const cj = c + <usize>ic * ldcb + (<usize>jr << 2);
      for (let ir = 0; ir < mc; ir += MR) {
        const mr = min(MR, mc - ir);
        const pa = pA + ((<usize>ir * <usize>kc) << A_SHIFT);
        const cp = cj + <usize>ir * ldcb;
        if (mr == MR && nr == NR) micro(kc, pa, false, 0, pb, cp, ldcb, acc0, bj);
        else edgeTile(kc, pa, 0, pb, cp, ldcb, mr, nr, acc0, bj);
      }
    }
  }
}

/**
 * One GEMM. A narrow C (n < NR columns, m ≥ NR rows: the embeddings' and output projection's products with 4
 * or 7 columns) is computed transposed, Cᵀ = op(B)ᵀ·op(A)ᵀ, into the workspace and copied back: directly, every
 * micro-tile would be an edge tile and each op(A) value would be packed pre-broadcast (16 bytes) for a single
 * B panel that is mostly zero padding (64×4×4608 with A transposed ran at 5 GFLOP/s). Transposed, op(A) is
 * packed as the 4-byte B panels and the short side as one or two A panels. Each element sums the same
 * products b·a = a·b (exact, commutative) in the same increasing k order, then adds the bias once: the same
 * bits as the direct path.
 */
function gemm1(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, bias: usize, ws: usize, KC: i32, MC: i32, NC: i32, inPlaceA: bool,
): void {
  if (!narrowC(m, n, k)) {
    tiles(m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, bias, ws, KC, MC, NC, inPlaceA);
    return;
  }
  const ct = (ws + 63) & ~(<usize>63);
  tiles(n, m, k, b, bCs, bRs, a, aCs, aRs, ct, m, 0, ct + <usize>ctBytes(m, n), KC, MC, NC, inPlaceA);
  const ldcb = <usize>ldc << 2;
  const mb = <usize>m << 2;
  for (let j = 0; j < n; j++) {
    const bj: f32 = bias ? load<f32>(bias + (<usize>j << 2)) : 0;
    const src = ct + <usize>j * mb;
    const dst = c + (<usize>j << 2);
    // Without a bias the sum is stored as it is (adding 0 would turn −0 into +0).
    if (bias) for (let i = 0; i < m; i++) store<f32>(dst + <usize>i * ldcb, load<f32>(src + (<usize>i << 2)) + bj);
    else for (let i = 0; i < m; i++) store<f32>(dst + <usize>i * ldcb, load<f32>(src + (<usize>i << 2)));
  }
}

/**
 * Batched GEMM. For t in [0, batch): C_t[m, n] = op(A_t) · op(B_t) (+ bias), with A_t = a + 4·t·aBs etc.
 * (element batch strides; 0 broadcasts an operand). op(A)[i, p] = A_t[i·aRs + p·aCs],
 * op(B)[p, j] = B_t[p·bRs + j·bCs], C_t[i, j] at C_t[i·ldc + j]. `bias` is 0 or the byte offset of f32[n].
 * `ws` points at gemmWorkspaceBytes(m, n, k) bytes of scratch.
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, bias: usize,
  batch: i32, aBs: i32, bBs: i32, cBs: i32,
  ws: usize,
): void {
  gemmBlocked(m, n, k, a, aRs, aCs, b, bRs, bCs, c, ldc, bias, batch, aBs, bBs, cBs, ws, 0, 0, 0, 0);
}

/**
 * `gemm` with the blocking given: depth kc, rows mc (rounded up to a multiple of MR), columns nc (rounded up
 * to a multiple of NR); 0 takes the build's KC / MC / NC. inPlaceA = 1: read op(A) in place wherever it can be
 * (directA) whatever n, 0: only where n ≤ DIRECT_A_MAX_N. Same bits for every blocking and either choice (see
 * KC above and directA). `ws` points at gemmBlockedWorkspaceBytes(m, n, k, kc, mc, nc) bytes.
 */
export function gemmBlocked(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, bias: usize,
  batch: i32, aBs: i32, bBs: i32, cBs: i32,
  ws: usize, kc: i32, mc: i32, nc: i32, inPlaceA: i32,
): void {
  if (m <= 0 || n <= 0) return;
  const KC = depthBlock(kc), MC = rowBlock(mc), NC = columnBlock(nc);
  for (let t = 0; t < batch; t++) {
    gemm1(m, n, k,
      a + ((<usize>t * <usize>aBs) << 2), aRs, aCs,
      b + ((<usize>t * <usize>bBs) << 2), bRs, bCs,
      c + ((<usize>t * <usize>cBs) << 2), ldc, bias, ws, KC, MC, NC, inPlaceA != 0);
  }
}

/**
 * One thread's share of a batched GEMM (the shared-memory build splits a product across threads with it).
 * The work is cut into items: batch t, rows [r·rb, min(m, (r+1)·rb)) of C_t, numbered w = t·⌈m/rb⌉ + r;
 * this call runs items [w0, w1), each as its own gemm1 on its rows (pointers offset, same k blocking), so
 * every element of C is summed in exactly the order `gemm` uses, whichever thread computes it. `ws` is this
 * thread's workspace of gemmBlockedWorkspaceBytes(rb, n, k, kc, mc, nc) bytes; kc, mc, nc, inPlaceA: the
 * blocking, as gemmBlocked takes it.
 */
export function gemmRows(
  m: i32, n: i32, k: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, bias: usize,
  aBs: i32, bBs: i32, cBs: i32,
  ws: usize, rb: i32, w0: i32, w1: i32, kc: i32, mc: i32, nc: i32, inPlaceA: i32,
): void {
  if (m <= 0 || n <= 0 || rb <= 0) return;
  const KC = depthBlock(kc), MC = rowBlock(mc), NC = columnBlock(nc);
  const per = (m + rb - 1) / rb;
  for (let w = w0; w < w1; w++) {
    const t = w / per;
    const i0 = (w - t * per) * rb;
    gemm1(min(rb, m - i0), n, k,
      a + ((<usize>t * <usize>aBs + <usize>i0 * <usize>aRs) << 2), aRs, aCs,
      b + ((<usize>t * <usize>bBs) << 2), bRs, bCs,
      c + ((<usize>t * <usize>cBs + <usize>i0 * <usize>ldc) << 2), ldc, bias, ws, KC, MC, NC, inPlaceA != 0);
  }
}

/** NC, the build's column block of op(B) packed at a time (the host's default blocking). */
export function gemmColumnBlock(): i32 {
  return NC;
}

/** Bytes one packed element of op(A) takes (16 when pre-broadcast to f32x4): the host's packing-cost model. */
export function gemmPackedABytes(): i32 {
  return 1 << <i32>A_SHIFT;
}

/** KC, the build's depth of the op(B) blocks packed at a time (the host's default blocking). */
export function gemmDepthBlock(): i32 {
  return KC;
}

// Shared-B split: the thread pool's row split of one GEMM, with op(B) packed once. Per (jc, pc) block of
// `tiles`, in tiles' order, the host runs two pool jobs: in the first the threads pack the block's NR-column
// panels into one buffer in shared memory (gemmPackBClaim), in the second each thread computes rows of C from
// that buffer (gemmBlockRowsClaim); the end of the first job is the barrier between packing and reading.
// Within a job the threads claim work items from a shared counter (atomic.add) instead of taking fixed
// shares, so on a machine where other processes hold a core for a while the thread that runs does more of
// the work instead of waiting for the one that does not. Which thread packs a panel or computes a row block
// changes neither: every packed panel is the same bytes whoever packs it, and each element of C is summed by
// one thread in the order `tiles` uses (blockRows is tiles' own loop), so the result is bit-identical to one
// thread.

/** NR-column panels per packing work item (32 columns: 2¹⁵ elements, ~15 µs, at kc = 1024). */
const PACK_PANELS: i32 = 4;
/** Rows per tail work item of gemmBlockRowsClaim (see there). */
const TAIL_ROWS: i32 = 2 * MR;

/**
 * Bytes of the shared packed-op(B) block buffer for an n-column, depth-k product with depth block kc and
 * column block nc (0: the build's), aligned to 64 inside.
 */
export function gemmSharedBBytes(n: i32, k: i32, kc: i32, nc: i32): i32 {
  return min(depthBlock(kc), max(k, 1)) * min(columnBlock(nc), (n + NR - 1) / NR * NR) * 4 + 64;
}

/**
 * Bytes of one thread's gemmBlockRowsClaim workspace (its packed op(A) block) for an m-row, depth-k product
 * with row block mc and depth block kc (0: the build's).
 */
export function gemmBlockRowsBytes(m: i32, k: i32, mc: i32, kc: i32): i32 {
  return ((min(rowBlock(mc), (m + MR - 1) / MR * MR) * min(depthBlock(kc), max(k, 1))) << <i32>A_SHIFT) + 64;
}

/** Take the next work item from the counter at `ctr` (shared by the threads of a job; the host zeroes it). */
@inline function claim(ctr: usize): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(ctr, 1);
  const v = load<i32>(ctr);
  store<i32>(ctr, v + 1);
  return v;
}

/**
 * Pack the kc×nc block of op(B) whose top-left is at b into `buf` (gemmSharedBBytes), laid out as packB lays out
 * the whole block, PACK_PANELS panels per work item claimed from `ctr`, at most `quota` items this call.
 */
export function gemmPackBClaim(kc: i32, nc: i32, b: usize, bRs: i32, bCs: i32, buf: usize, ctr: usize, quota: i32): void {
  const pB = (buf + 63) & ~(<usize>63);
  const w = PACK_PANELS * NR;
  for (let q = 0; q < quota; q++) {
    const j0 = claim(ctr) * w;
    if (j0 >= nc) break;
    // packB on a slice of whole panels writes exactly what it writes there for the whole block (the last
    // panel zero-padded the same way).
    packB(kc, min(w, nc - j0), b + ((<usize>j0 * <usize>bCs) << 2), bRs, bCs, pB + ((<usize>j0 * <usize>kc) << 2));
  }
}

/**
 * Rows [0, m) of one (jc, pc) block against the op(B) block packed in `buf`: `a` points at op(A)[0, pc], `c`
 * at C[0, jc], `bias` at bias[jc] on the last k block (else 0), acc0 = 1 when pc > 0; `ws` is this thread's
 * gemmBlockRowsBytes(m, k, mc, kc); mc: the row block MC (0: the build's). Work items, claimed from `ctr` (at
 * most `quota` this call): items i < big are rows [i·MC, (i+1)·MC), the rest TAIL_ROWS rows each. The small tail
 * items even out the threads' finishing times (with MC-row items alone one thread may finish a whole item, ~1 ms
 * at 1024³, after the other); the large ones keep the repeated streaming of the op(B) block (once per item) as
 * rare as tiles' own MC blocking.
 */
export function gemmBlockRowsClaim(
  m: i32, nc: i32, kc: i32, a: usize, aRs: i32, aCs: i32, buf: usize, c: usize, ldc: i32, bias: usize, acc0: i32,
  ws: usize, ctr: usize, big: i32, quota: i32, mc: i32,
): void {
  if (m <= 0 || nc <= 0 || kc <= 0) return;
  const MC = rowBlock(mc);
  const pB = (buf + 63) & ~(<usize>63);
  const pA = (ws + 63) & ~(<usize>63);
  const ldcb = <usize>ldc << 2;
  for (let q = 0; q < quota; q++) {
    const i = claim(ctr);
    const ic = i < big ? i * MC : big * MC + (i - big) * TAIL_ROWS;
    if (ic >= m) break;
    const rows = min(i < big ? MC : TAIL_ROWS, m - ic);
    blockRows(rows, nc, kc, a + ((<usize>ic * <usize>aRs) << 2), aRs, aCs, pA, pB, c + <usize>ic * ldcb, ldcb, acc0 != 0, bias, MC);
  }
}

/** The work-item sizes of gemmPackBClaim (columns) and gemmBlockRowsClaim (the build's MC, then tail rows), for the host. */
export function gemmClaimSizes(which: i32): i32 {
  return which == 0 ? PACK_PANELS * NR : which == 1 ? MC : TAIL_ROWS;
}
