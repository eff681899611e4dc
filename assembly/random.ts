// Philox4x32-10, bit-exact with src/tensor/random.ts (the stream definition lives there).
// Counters and offsets are u64 (callers pass f64 integers < 2^53).

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

/** Uniform [0,1) f32 stream elements offset .. offset+n-1 (kind 0), or bernoulli u8 (kind 1, u < p). */
export function randomUniform(out: usize, n: i32, k0: u32, k1: u32, offset: f64, kind: i32, p: f32): void {
  const off = <u64>offset;
  let block: u64 = 0xffffffffffffffff;
  for (let i = 0; i < n; i++) {
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
