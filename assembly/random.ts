// Philox4x32-10, bit-exact with src/tensor/random.ts (the stream definition lives there).
// Counters and offsets are u64 (callers pass f64 integers < 2^53).
//
// uniform / bernoulli: four consecutive blocks are encrypted at once, one block per i32x4 lane; the
// 32×32→64 products come from i64x2.extmul_{low,high}_i32x4_u (high halves) and i32x4.mul (low halves).
// A 4×4 transpose puts each block's four words back in stream order. The unaligned head and the tail
// (< 16 elements) use the scalar generator.

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const INV_2_24: f64 = 1.0 / 16777216.0;

// The four output words of the last block.
let R0: u32 = 0;
let R1: u32 = 0;
let R2: u32 = 0;
let R3: u32 = 0;

@inline function philox(c0: u32, c1: u32, k0: u32, k1: u32): void {
  let x0 = c0;
  let x1 = c1;
  let x2: u32 = 0;
  let x3: u32 = 0;
  let key0 = k0;
  let key1 = k1;
  for (let round = 0; round < 10; round++) {
    const p0 = M0 * <u64>x0;
    const p1 = M1 * <u64>x2;
    const n0 = <u32>(p1 >> 32) ^ x1 ^ key0;
    const n1 = <u32>p1;
    const n2 = <u32>(p0 >> 32) ^ x3 ^ key1;
    const n3 = <u32>p0;
    x0 = n0;
    x1 = n1;
    x2 = n2;
    x3 = n3;
    key0 += W0;
    key1 += W1;
  }
  R0 = x0;
  R1 = x1;
  R2 = x2;
  R3 = x3;
}

@inline function word(j: u32): u32 {
  return j == 0 ? R0 : j == 1 ? R1 : j == 2 ? R2 : R3;
}

/** Scalar stream elements i0 .. i1−1 (relative to offset). */
function uniformScalar(out: usize, i0: i32, i1: i32, k0: u32, k1: u32, off: u64, kind: i32, p: f32): void {
  let block: u64 = 0xffffffffffffffff;
  for (let i = i0; i < i1; i++) {
    const c = off + <u64>i;
    const b = c >> 2;
    if (b != block) {
      philox(<u32>b, <u32>(b >> 32), k0, k1);
      block = b;
    }
    const u = <f32>(<f64>(word(<u32>(c & 3)) >>> 8) * INV_2_24);
    if (kind == 0) store<f32>(out + (<usize>i << 2), u);
    else store<u8>(out + <usize>i, u < p ? 1 : 0);
  }
}

/** High 32 bits of the lane-wise u32 products a·m. */
@inline function mulhi4(a: v128, m: v128): v128 {
  return i32x4.shuffle(i64x2.extmul_low_i32x4_u(a, m), i64x2.extmul_high_i32x4_u(a, m), 1, 3, 5, 7);
}

@inline function toUniform(w: v128): v128 {
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(w, 8)), f32x4.splat(<f32>INV_2_24));
}

/** Uniform [0,1) f32 stream elements offset .. offset+n-1 (kind 0), or bernoulli u8 (kind 1, u < p). */
export function randomUniform(out: usize, n: i32, k0: u32, k1: u32, offset: f64, kind: i32, p: f32): void {
  const off = <u64>offset;
  // Head: up to the next block boundary.
  let i = min(n, <i32>((4 - <i32>(off & 3)) & 3));
  uniformScalar(out, 0, i, k0, k1, off, kind, p);
  const m0 = i32x4.splat(<i32>M0);
  const m1 = i32x4.splat(<i32>M1);
  const w0 = i32x4.splat(<i32>W0);
  const w1 = i32x4.splat(<i32>W1);
  const lanes = i32x4(0, 1, 2, 3);
  const pv = f32x4.splat(p);
  const one8 = i8x16.splat(1);
  for (; n - i >= 16; i += 16) {
    const b = (off + <u64>i) >> 2;
    const blo = i32x4.splat(<i32>(<u32>b));
    let x0 = i32x4.add(blo, lanes);
    // carry into the high counter word when the low word wraps inside this group
    let x1 = i32x4.sub(i32x4.splat(<i32>(<u32>(b >> 32))), i32x4.lt_u(x0, blo));
    let x2 = i32x4.splat(0);
    let x3 = i32x4.splat(0);
    let key0 = i32x4.splat(<i32>k0);
    let key1 = i32x4.splat(<i32>k1);
    for (let round = 0; round < 10; round++) {
      const n0 = v128.xor(v128.xor(mulhi4(x2, m1), x1), key0);
      const n1 = i32x4.mul(x2, m1);
      const n2 = v128.xor(v128.xor(mulhi4(x0, m0), x3), key1);
      const n3 = i32x4.mul(x0, m0);
      x0 = n0;
      x1 = n1;
      x2 = n2;
      x3 = n3;
      key0 = i32x4.add(key0, w0);
      key1 = i32x4.add(key1, w1);
    }
    // Transpose: lane j of xk is word k of block j → rows rj = the four words of block j.
    const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
    const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
    const u0 = toUniform(i64x2.shuffle(t0, t1, 0, 2));
    const u1 = toUniform(i64x2.shuffle(t0, t1, 1, 3));
    const u2 = toUniform(i64x2.shuffle(t2, t3, 0, 2));
    const u3 = toUniform(i64x2.shuffle(t2, t3, 1, 3));
    if (kind == 0) {
      const o = out + (<usize>i << 2);
      v128.store(o, u0);
      v128.store(o, u1, 16);
      v128.store(o, u2, 32);
      v128.store(o, u3, 48);
    } else {
      const lo = i16x8.narrow_i32x4_s(f32x4.lt(u0, pv), f32x4.lt(u1, pv));
      const hi = i16x8.narrow_i32x4_s(f32x4.lt(u2, pv), f32x4.lt(u3, pv));
      v128.store(out + <usize>i, v128.and(i8x16.narrow_i16x8_s(lo, hi), one8));
    }
  }
  uniformScalar(out, i, n, k0, k1, off, kind, p);
}

/** Standard normal stream: element c from block c by Box–Muller in f64. */
export function randomNormal(out: usize, n: i32, k0: u32, k1: u32, offset: f64): void {
  const off = <u64>offset;
  for (let i = 0; i < n; i++) {
    const c = off + <u64>i;
    philox(<u32>c, <u32>(c >> 32), k0, k1);
    const u1 = (<f64>(R0 >>> 8) + 1.0) * INV_2_24;
    const u2 = <f64>(R1 >>> 8) * INV_2_24;
    store<f32>(out + (<usize>i << 2), <f32>(Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2)));
  }
}
