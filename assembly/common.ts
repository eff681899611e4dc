// Helpers shared by the kernel families (nothing here is exported from the module).

/** Odometer counters for N-d walks (rank ≤ 32, checked by the glue). */
export const CNT: usize = memory.data(32 * 4, 16);
/** 16-byte scratch for partial vectors at the end of a row (never read or write past a storage). */
export const TAIL_A: usize = memory.data(16, 16);
export const TAIL_B: usize = memory.data(16, 16);

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
