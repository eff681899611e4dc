// Helpers shared by the kernel families (nothing here is exported from the module).

// Kernel scratch in linear memory. In the single-threaded builds these are fixed static blocks. In the
// shared-memory build (kernels-threads.wasm) one module instance runs per thread on the same memory, so a
// static block would be written by several threads at once: there each instance gets its own block
// (setThreadScratch, called once by the thread pool), and the accessors below read the instance's pointer
// (wasm globals are per instance). ASC_FEATURE_THREADS is a compile-time constant, so the single-threaded
// builds still see plain constants.

/** Bytes of per-thread scratch a thread pool hands each worker instance (layout: the offsets below). */
export const THREAD_SCRATCH_BYTES: i32 = 320;
const STATIC_SCRATCH: usize = memory.data(THREAD_SCRATCH_BYTES, 64);
const CNT_OFF: usize = 0; // 32 × i32
const TAIL_A_OFF: usize = 128; // 16 bytes
const TAIL_B_OFF: usize = 144; // 16 bytes
const EDGE_OFF: usize = 192; // 128 bytes: gemm's MR × NR (4 × 8) f32 edge tile
let threadScratch: usize = STATIC_SCRATCH;

/** Point this instance's scratch at `ptr` (THREAD_SCRATCH_BYTES bytes, 64-byte aligned; threads build). */
export function setThreadScratch(ptr: usize): void {
  threadScratch = ptr;
}

/** The size of the per-thread scratch block the host must allocate. */
export function threadScratchBytes(): i32 {
  return THREAD_SCRATCH_BYTES;
}

@inline function scratch(off: usize): usize {
  return ASC_FEATURE_THREADS ? threadScratch + off : STATIC_SCRATCH + off;
}

/** Odometer counters for N-d walks (rank ≤ 32, checked by the glue). */
@inline export function cnt(): usize {
  return scratch(CNT_OFF);
}
/** 16-byte scratch for partial vectors at the end of a row (never read or write past a storage). */
@inline export function tailA(): usize {
  return scratch(TAIL_A_OFF);
}
@inline export function tailB(): usize {
  return scratch(TAIL_B_OFF);
}
/** GEMM's scratch tile for edge micro-tiles (4 × 8 f32). */
@inline export function edgeScratch(): usize {
  return scratch(EDGE_OFF);
}

/** Load `t` (< 4) f32/i32 lanes from `ptr` into a vector (other lanes 0). */
@inline export function loadTail(ptr: usize, t: i32, scratch: usize): v128 {
  v128.store(scratch, i32x4.splat(0));
  for (let j = 0; j < t; j++) store<u32>(scratch + (<usize>j << 2), load<u32>(ptr + (<usize>j << 2)));
  return v128.load(scratch);
}

/** Store the first `t` (< 4) lanes of `v` to `ptr`. */
@inline export function storeTail(ptr: usize, v: v128, t: i32, scratch: usize): void {
  v128.store(scratch, v);
  for (let j = 0; j < t; j++) store<u32>(ptr + (<usize>j << 2), load<u32>(scratch + (<usize>j << 2)));
}

/** Horizontal sum of f32x4 lanes in a fixed order ((l0 + l1) + (l2 + l3)). */
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** A 4×4 block of 4-byte elements transposed: 4 rows at x (rs bytes apart) → 4 rows at out (cs bytes apart). */
@inline export function transpose4x4(x: usize, out: usize, rs: usize, cs: usize): void {
  const a = v128.load(x);
  const b = v128.load(x + rs);
  const c = v128.load(x + 2 * rs);
  const d = v128.load(x + 3 * rs);
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(out, i64x2.shuffle(t0, t2, 0, 2));
  v128.store(out + cs, i64x2.shuffle(t0, t2, 1, 3));
  v128.store(out + 2 * cs, i64x2.shuffle(t1, t3, 0, 2));
  v128.store(out + 3 * cs, i64x2.shuffle(t1, t3, 1, 3));
}

/** 4×4 transpose of four rows held in registers r0..r3: column q is stored at d + q·step (GEMM packing, BSR output). */
@inline export function transpose4Store(r0: v128, r1: v128, r2: v128, r3: v128, d: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(d + step, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(d + 2 * step, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(d + 3 * step, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * acc + a·b on f32x4: a separate multiply and add in the default build (the same bits on every engine), the
 * relaxed build's fused multiply-add (f32x4.relaxed_madd, which may or may not fuse) there.
 */
@inline export function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * out[i][j] += bias[j] for rows i < rows of n floats (row-major, n apart): a Linear layer's bias after its
 * sparse product, added to each finished sum as the GEMM's write-back adds it, so the bits are those of a
 * separate add; called per output tile while the tile is still in cache. bias = 0: nothing to add.
 */
export function addRowBias(out: usize, rows: i32, n: i32, bias: usize): void {
  if (bias == 0) return;
  // The size-optimised inference build adds lane by lane (the same f32 adds; its 60 kB budget has no room for
  // the vector loop).
  const n4 = ASC_SHRINK_LEVEL > 0 ? 0 : n & ~3;
  for (let i = 0; i < rows; i++) {
    const o = out + ((<usize>i * <usize>n) << 2);
    for (let j = 0; j < n4; j += 4) {
      const p = o + (<usize>j << 2);
      v128.store(p, f32x4.add(v128.load(p), v128.load(bias + (<usize>j << 2))));
    }
    for (let j = n4; j < n; j++) {
      const p = o + (<usize>j << 2);
      store<f32>(p, load<f32>(p) + load<f32>(bias + (<usize>j << 2)));
    }
  }
}
