/**
 * The one random-number generator of sparsecast: Philox4x32-10 (Salmon et al., SC'11), counter-based, so any
 * element of a stream can be computed on its own. The same definition is written in AssemblyScript
 * (assembly/random.ts) and WGSL (shaders/random.wgsl); every backend gives the same bits.
 *
 * Stream definition (the contract; backends must match it exactly):
 * - key = (seed mod 2^32, floor(seed / 2^32) mod 2^32), seed a non-negative integer < 2^53.
 * - block b (a non-negative integer < 2^53) is encrypted as counter (b mod 2^32, floor(b / 2^32), 0, 0),
 *   giving four 32-bit words.
 * - uniform element c (absolute index offset + i): word (c mod 4) of block floor(c / 4), as
 *   (word >>> 8) · 2^-24, an f32 in [0, 1).
 * - bernoulli element c: 1 when uniform(c) < p, else 0.
 * - normal element c: block c; u1 = ((w0 >>> 8) + 1) · 2^-24 ∈ (0, 1], u2 = (w1 >>> 8) · 2^-24;
 *   z = sqrt(-2 ln u1) · cos(2π u2), computed in f64 and rounded to f32.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const lohi = aLo * bHi;
  const hilo = aHi * bLo;
  const hihi = aHi * bHi;
  const cross = (lolo >>> 16) + (lohi & 0xffff) + (hilo & 0xffff);
  return (hihi + (lohi >>> 16) + (hilo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/** Encrypt one counter block; writes 4 u32 words into `out`. */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    const n0 = (hi1 ^ x1 ^ key0) >>> 0;
    const n1 = lo1;
    const n2 = (hi0 ^ x3 ^ key1) >>> 0;
    const n3 = lo0;
    x0 = n0;
    x1 = n1;
    x2 = n2;
    x3 = n3;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

const TWO_POW_32 = 4294967296;
const INV_2_24 = 1 / 16777216;

export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`random: seed must be a non-negative safe integer, got ${seed}`);
  }
  return [seed % TWO_POW_32 >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

/** Fill `out` with the uniform stream elements offset .. offset + out.length - 1. */
export function uniformStream(seed: number, offset: number, out: Float32Array): void {
  const [k0, k1] = seedKey(seed);
  const words = new Uint32Array(4);
  let block = -1;
  for (let i = 0; i < out.length; i++) {
    const c = offset + i;
    const b = Math.floor(c / 4);
    if (b !== block) {
      philox4x32(b % TWO_POW_32, Math.floor(b / TWO_POW_32), 0, 0, k0, k1, words);
      block = b;
    }
    out[i] = (words[c % 4]! >>> 8) * INV_2_24;
  }
}

export function bernoulliStream(seed: number, offset: number, p: number, out: Uint8Array): void {
  const u = new Float32Array(out.length);
  uniformStream(seed, offset, u);
  const pf = Math.fround(p);
  for (let i = 0; i < out.length; i++) out[i] = u[i]! < pf ? 1 : 0;
}

export function normalStream(seed: number, offset: number, out: Float32Array): void {
  const [k0, k1] = seedKey(seed);
  const words = new Uint32Array(4);
  for (let i = 0; i < out.length; i++) {
    const c = offset + i;
    philox4x32(c % TWO_POW_32, Math.floor(c / TWO_POW_32), 0, 0, k0, k1, words);
    const u1 = ((words[0]! >>> 8) + 1) * INV_2_24;
    const u2 = (words[1]! >>> 8) * INV_2_24;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * A seeded generator for host-side draws (parameter init, shuffles, sampling). It hands out disjoint
 * ranges of the counter space, so its state is two integers and can be checkpointed.
 */
export class Rng {
  constructor(
    public seed: number,
    public offset = 0,
  ) {
    seedKey(seed);
  }

  /** Reserve `n` counters and return the first; kernels draw from (seed, offset). */
  take(n: number): number {
    const start = this.offset;
    this.offset += n;
    return start;
  }

  uniform(n: number): Float32Array {
    const out = new Float32Array(n);
    uniformStream(this.seed, this.take(n), out);
    return out;
  }

  normal(n: number): Float32Array {
    const out = new Float32Array(n);
    normalStream(this.seed, this.take(n), out);
    return out;
  }

  /** Integer in [0, n), uniform up to 2^-24 bias (fine for shuffles and sampling). */
  int(n: number): number {
    const u = this.uniform(1)[0]!;
    return Math.min(n - 1, Math.floor(u * n));
  }

  /** Fisher–Yates permutation of 0 .. n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    const u = this.uniform(n);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(u[i]! * (i + 1)));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  state(): { seed: number; offset: number } {
    return { seed: this.seed, offset: this.offset };
  }
}
