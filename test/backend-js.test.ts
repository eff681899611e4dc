/**
 * The js backend is the oracle every other backend is compared with, so its own tests use values worked
 * out by hand (or by a separate naive f64 loop written here, in the most obvious way) — never the js
 * kernels themselves.
 */
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { erf, erfc, gelu } from '../src/backend/js/math.ts';
import { KERNEL_NAMES, type CsrStorage, type Storage } from '../src/backend/kernels.ts';
import { bernoulliStream, normalStream, uniformStream } from '../src/tensor/random.ts';

const be = createJsBackend();
const K = be.kernels;

const f32 = (a: readonly number[]): Storage => be.upload(new Float32Array(a));
const i32 = (a: readonly number[]): Storage => be.upload(new Int32Array(a));
const u8 = (a: readonly number[]): Storage => be.upload(new Uint8Array(a));
const read = (s: Storage): number[] => Array.from(be.readSync(s));

/** Elementwise closeness: |a − e| ≤ atol + rtol·|e|; NaN matches NaN, ±∞ must match exactly. */
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-6, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `index ${i}: expected NaN, got ${a}`).toBe(true);
    } else if (!Number.isFinite(e)) {
      expect(a, `index ${i}`).toBe(e);
    } else {
      expect(Math.abs(a - e) <= atol + rtol * Math.abs(e), `index ${i}: got ${a}, expected ${e}`).toBe(true);
    }
  }
}

/** Deterministic pseudo-random test data (a small LCG; not the library RNG, to keep tests independent). */
function data(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround((s / 4294967296) * 4 - 2));
  }
  return out;
}

const fr = Math.fround;

// ---------------------------------------------------------------------------------------------------------

describe('js backend: storage', () => {
  it('implements every kernel of the contract', () => {
    for (const name of KERNEL_NAMES) expect(typeof K[name], name).toBe('function');
    expect(be.name).toBe('js');
  });

  it('allocates zero-filled storages and counts live bytes', () => {
    const before = be.bytesInUse();
    const a = be.alloc(5, 'f32');
    const b = be.alloc(3, 'u8');
    const c = be.alloc(2, 'i32');
    expect(read(a)).toEqual([0, 0, 0, 0, 0]);
    expect(read(b)).toEqual([0, 0, 0]);
    expect(be.bytesInUse() - before).toBe(20 + 3 + 8);
    be.free(a);
    be.free(b);
    be.free(c);
    expect(be.bytesInUse()).toBe(before);
  });

  it('upload and read copy', async () => {
    const src = new Float32Array([1, 2, 3]);
    const s = be.upload(src);
    src[0] = 99;
    expect(read(s)).toEqual([1, 2, 3]);
    const r = (await be.read(s)) as Float32Array;
    expect(r).toBeInstanceOf(Float32Array);
    r[1] = 42;
    expect(read(s)).toEqual([1, 2, 3]);
    expect(s.dtype).toBe('f32');
    expect(be.upload(new Int32Array([1])).dtype).toBe('i32');
    expect(be.upload(new Uint8Array([1])).dtype).toBe('u8');
  });

  it('reports use of a freed storage, naming the op', () => {
    const a = f32([1, 2]);
    const before = be.bytesInUse();
    be.free(a);
    expect(be.bytesInUse()).toBe(before - 8);
    expect(() => K.binary('add', a, [2], a, [2])).toThrow('binary: storage was already freed');
    expect(() => K.unary('exp', a)).toThrow('unary: storage was already freed');
    expect(() => be.readSync(a)).toThrow('readSync: storage was already freed');
    expect(() => be.free(a)).toThrow('free: storage was already freed');
  });

  it('rejects storages of another backend and wrong sizes', () => {
    const foreign: Storage = { backend: 'wasm', size: 2, dtype: 'f32' };
    expect(() => K.unary('neg', foreign)).toThrow(/unary: storage belongs to backend 'wasm'/);
    expect(() => K.binary('add', f32([1, 2, 3]), [2], f32([1]), [1])).toThrow(/binary: a storage holds 3 elements/);
  });

  it('kernel outputs are counted and freeable', () => {
    const before = be.bytesInUse();
    const x = f32([1, 2, 3, 4]);
    const y = K.unary('neg', x);
    expect(be.bytesInUse() - before).toBe(32);
    be.free(x);
    be.free(y);
    expect(be.bytesInUse()).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('creation: fill, cast, random', () => {
  it('fill casts the value to the dtype', () => {
    expect(read(K.fill(3, 'f32', 1.5))).toEqual([1.5, 1.5, 1.5]);
    expect(read(K.fill(2, 'f32', 0.1))).toEqual([fr(0.1), fr(0.1)]);
    expect(read(K.fill(2, 'i32', -2.7))).toEqual([-2, -2]);
    expect(read(K.fill(2, 'u8', 5))).toEqual([1, 1]);
    expect(read(K.fill(1, 'u8', 0))).toEqual([0]);
    expect(read(K.fill(0, 'f32', 1))).toEqual([]);
  });

  it('cast: f32→i32 truncates toward zero (saturating), anything→u8 is x != 0', () => {
    expect(read(K.cast(f32([-1.5, 2.9, 0, NaN, 3e9, -3e9]), 'i32'))).toEqual([-1, 2, 0, 0, 2147483647, -2147483648]);
    expect(read(K.cast(f32([0, -0, 0.5, NaN, -2]), 'u8'))).toEqual([0, 0, 1, 1, 1]);
    expect(read(K.cast(i32([3, -4, 0]), 'u8'))).toEqual([1, 1, 0]);
    expect(read(K.cast(i32([16777217, -7]), 'f32'))).toEqual([16777216, -7]);
    expect(read(K.cast(u8([1, 0]), 'f32'))).toEqual([1, 0]);
    const c = K.cast(f32([1.25]), 'f32');
    expect(c.dtype).toBe('f32');
    expect(read(c)).toEqual([1.25]);
    expect(read(K.cast(f32([]), 'i32'))).toEqual([]);
  });

  it('random reproduces the Philox streams of src/tensor/random.ts', () => {
    const u = new Float32Array(11);
    uniformStream(42, 5, u);
    expect(read(K.random(11, 'uniform', 42, 5, 0))).toEqual(Array.from(u));
    const z = new Float32Array(7);
    normalStream(2 ** 40 + 3, 9, z);
    expect(read(K.random(7, 'normal', 2 ** 40 + 3, 9, 0))).toEqual(Array.from(z));
    const bits = new Uint8Array(13);
    bernoulliStream(7, 1, 0.3, bits);
    const r = K.random(13, 'bernoulli', 7, 1, 0.3);
    expect(r.dtype).toBe('u8');
    expect(read(r)).toEqual(Array.from(bits));
    // Element i uses counter offset + i: a later window of the stream is a suffix of an earlier one.
    expect(read(K.random(8, 'uniform', 3, 0, 0)).slice(3)).toEqual(read(K.random(5, 'uniform', 3, 3, 0)));
    const all = read(K.random(1000, 'uniform', 1, 0, 0));
    expect(all.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(read(K.random(0, 'normal', 1, 0, 0))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('erf and gelu', () => {
  // Reference values from high-precision tables (glibc erf/erfc agree to the last digit shown).
  const erfTable: Array<[number, number]> = [
    [0, 0],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [-2, -0.9953222650189527],
    [3.5, 0.9999992569016276],
  ];
  const erfcTable: Array<[number, number]> = [
    [1, 0.15729920705028513],
    [3, 2.2090496998585438e-5],
    [5, 1.5374597944280351e-12],
    [10, 2.088487583762545e-45],
    [26, 5.663192408856143e-296],
  ];

  it('erf and erfc are accurate to ~1e-13 relative', () => {
    for (const [x, e] of erfTable) close([erf(x)], [e], 1e-14, 0);
    for (const [x, e] of erfcTable) close([erfc(x)], [e], 1e-13, 0);
    expect(erfc(-1)).toBeCloseTo(2 - 0.15729920705028513, 15);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  it('gelu is x·Φ(x), accurate in the far negative tail too', () => {
    const table: Array<[number, number]> = [
      [0, 0],
      [1, 0.8413447460685429],
      [-1, -0.15865525393145707],
      [0.5, 0.34573123063700656],
      [2, 1.9544997361036416],
      [-3, -0.004049694094890287],
      [-10, -7.619853024160593e-23],
    ];
    for (const [x, e] of table) close([gelu(x)], [e], 1e-13, 0);
    expect(gelu(-Infinity)).toBe(0);
    expect(gelu(Infinity)).toBe(Infinity);
  });
});

describe('elementwise: unary', () => {
  const x = [-2, -0.5, 0, 0.5, 3];
  const cases: Array<[Parameters<typeof K.unary>[0], (v: number) => number]> = [
    ['neg', (v) => -v],
    ['exp', Math.exp],
    ['abs', Math.abs],
    ['tanh', Math.tanh],
    ['sigmoid', (v) => 1 / (1 + Math.exp(-v))],
    ['relu', (v) => (v > 0 ? v : 0)],
    ['sin', Math.sin],
    ['cos', Math.cos],
    ['square', (v) => v * v],
    ['floor', Math.floor],
  ];
  for (const [op, f] of cases) {
    it(op, () => {
      close(read(K.unary(op, f32(x))), x.map(f));
    });
  }

  it('hand values for the rest', () => {
    close(read(K.unary('log', f32([1, Math.E, 0, -1]))), [0, 1, -Infinity, NaN]);
    close(read(K.unary('sqrt', f32([4, 2, 0, -1]))), [2, Math.SQRT2, 0, NaN]);
    close(read(K.unary('rsqrt', f32([4, 0.25, 0]))), [0.5, 2, Infinity]);
    expect(read(K.unary('sign', f32([-3, 0, -0, 2.5])))).toEqual([-1, 0, 0, 1]);
    expect(Number.isNaN(read(K.unary('sign', f32([NaN])))[0])).toBe(true);
    close(read(K.unary('elu', f32([-1, 0, 2]))), [Math.exp(-1) - 1, 0, 2]);
    close(read(K.unary('erf', f32([0.5, -2]))), [0.5204998778130465, -0.9953222650189527]);
    close(read(K.unary('gelu', f32([1, -1, 0]))), [0.8413447460685429, -0.15865525393145707, 0]);
    close(read(K.unary('reciprocal', f32([4, -0.5, 0]))), [0.25, -2, Infinity]);
    expect(Number.isNaN(read(K.unary('relu', f32([NaN])))[0])).toBe(true);
    close(read(K.unary('sigmoid', f32([-1000, 1000]))), [0, 1]);
  });

  it('empty and scalar inputs', () => {
    expect(read(K.unary('exp', f32([])))).toEqual([]);
    expect(read(K.unary('exp', f32([0])))).toEqual([1]);
  });
});

describe('elementwise: binary, compare, where', () => {
  it('broadcasts a row across a matrix', () => {
    const a = f32([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(read(K.binary('add', a, [2, 3], f32([10, 20, 30]), [3]))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(read(K.binary('sub', f32([10, 20, 30]), [3], a, [2, 3]))).toEqual([9, 18, 27, 6, 15, 24]);
  });

  it('broadcasts [2,1] against [1,3] and scalars', () => {
    expect(read(K.binary('mul', f32([1, 2]), [2, 1], f32([3, 4, 5]), [1, 3]))).toEqual([3, 4, 5, 6, 8, 10]);
    expect(read(K.binary('div', f32([1, 2, 3]), [3], f32([2]), []))).toEqual([0.5, 1, 1.5]);
    expect(read(K.binary('add', f32([1]), [], f32([2]), []))).toEqual([3]);
  });

  it('pow, max, min (NaN propagates)', () => {
    close(read(K.binary('pow', f32([2, 4, -8, 0]), [4], f32([3, 0.5, 1 / 3, 0]), [4])), [8, 2, NaN, 1]);
    const mx = read(K.binary('max', f32([1, NaN, 3]), [3], f32([2, 0, NaN]), [3]));
    expect(mx[0]).toBe(2);
    expect(Number.isNaN(mx[1]) && Number.isNaN(mx[2])).toBe(true);
    const mn = read(K.binary('min', f32([1, NaN, 3]), [3], f32([2, 0, -1]), [3]));
    expect(mn[0]).toBe(1);
    expect(Number.isNaN(mn[1])).toBe(true);
    expect(mn[2]).toBe(-1);
    expect(read(K.binary('div', f32([1, -1, 0]), [3], f32([0]), [1]))[0]).toBe(Infinity);
  });

  it('computes in f64 and rounds once', () => {
    // 16777216 + 1 is not an f32; f64 computes 16777217 − 16777216 = 1 before storing.
    expect(read(K.binary('sub', f32([16777216]), [1], f32([16777216]), [1]))).toEqual([0]);
    expect(read(K.binary('mul', f32([fr(0.1)]), [1], f32([10]), [1]))).toEqual([fr(fr(0.1) * 10)]);
  });

  it('i32 inputs stay i32 for add/sub/mul/max/min (wrapping)', () => {
    const r = K.binary('add', i32([1, 2147483647]), [2], i32([2, 1]), [2]);
    expect(r.dtype).toBe('i32');
    expect(read(r)).toEqual([3, -2147483648]);
    expect(read(K.binary('mul', i32([3, 65536]), [2], i32([-4, 65536]), [2]))).toEqual([-12, 0]);
    expect(read(K.binary('max', i32([3, -5]), [2], i32([1]), [1]))).toEqual([3, 1]);
    expect(K.binary('div', i32([3]), [1], i32([2]), [1]).dtype).toBe('f32');
  });

  it('empty dims give empty outputs', () => {
    const r = K.binary('add', f32([]), [0, 3], f32([1, 2, 3]), [3]);
    expect(r.size).toBe(0);
    expect(K.binary('add', f32([1, 2]), [2, 1], f32([]), [0]).size).toBe(0);
  });

  it('compare gives u8 with broadcasting; NaN compares false except ne', () => {
    const r = K.compare('lt', f32([1, 2, 3, 4]), [2, 2], f32([2.5, 2]), [2]);
    expect(r.dtype).toBe('u8');
    expect(read(r)).toEqual([1, 0, 0, 0]);
    const a = f32([1, NaN, 2]);
    const b = f32([1, NaN, 3]);
    expect(read(K.compare('eq', a, [3], b, [3]))).toEqual([1, 0, 0]);
    expect(read(K.compare('ne', a, [3], b, [3]))).toEqual([0, 1, 1]);
    expect(read(K.compare('le', a, [3], b, [3]))).toEqual([1, 0, 1]);
    expect(read(K.compare('ge', a, [3], b, [3]))).toEqual([1, 0, 0]);
    expect(read(K.compare('gt', f32([3, 1]), [2, 1], f32([2]), []))).toEqual([1, 0]);
  });

  it('where broadcasts cond, a and b', () => {
    const r = K.where(u8([1, 0]), [2, 1], f32([1, 2, 3]), [3], f32([-1]), []);
    expect(read(r)).toEqual([1, 2, 3, -1, -1, -1]);
    const s = K.where(u8([1, 0, 1]), [3], i32([1, 2, 3]), [3], i32([7, 8, 9]), [3]);
    expect(s.dtype).toBe('i32');
    expect(read(s)).toEqual([1, 8, 3]);
    expect(K.where(u8([]), [0], f32([1]), [1], f32([2]), [1]).size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('reductions', () => {
  const x = f32([1, 2, 3, 4, 5, 6]); // [2, 3]

  it('sum / mean / max / min over one axis', () => {
    expect(read(K.reduce('sum', x, [2, 3], [1]))).toEqual([6, 15]);
    expect(read(K.reduce('sum', x, [2, 3], [0]))).toEqual([5, 7, 9]);
    expect(read(K.reduce('mean', x, [2, 3], [1]))).toEqual([2, 5]);
    expect(read(K.reduce('max', x, [2, 3], [0]))).toEqual([4, 5, 6]);
    expect(read(K.reduce('min', x, [2, 3], [1]))).toEqual([1, 4]);
  });

  it('several axes and all axes', () => {
    const y = f32([1, 2, 3, 4, 5, 6, 7, 8]); // [2, 2, 2]
    expect(read(K.reduce('sum', y, [2, 2, 2], [0, 2]))).toEqual([1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
    expect(read(K.reduce('max', y, [2, 2, 2], [1, 2]))).toEqual([4, 8]);
    expect(read(K.reduce('mean', y, [2, 2, 2], [0, 1, 2]))).toEqual([4.5]);
    expect(read(K.reduce('sum', f32([7]), [], []))).toEqual([7]);
    expect(read(K.reduce('sum', x, [2, 3], []))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accumulates in f64 in index order', () => {
    // In f32, 1e8 + 1 = 1e8, so an f32 accumulator would return 0.
    expect(read(K.reduce('sum', f32([1e8, 1, -1e8]), [3], [0]))).toEqual([1]);
    expect(read(K.reduce('mean', f32([1e8, 1, -1e8, 0]), [4], [0]))).toEqual([0.25]);
  });

  it('empty reductions: sum 0, mean NaN, max -inf, min +inf', () => {
    const e = f32([]);
    expect(read(K.reduce('sum', e, [2, 0], [1]))).toEqual([0, 0]);
    expect(read(K.reduce('mean', e, [2, 0], [1])).every(Number.isNaN)).toBe(true);
    expect(read(K.reduce('max', e, [2, 0], [1]))).toEqual([-Infinity, -Infinity]);
    expect(read(K.reduce('min', e, [2, 0], [1]))).toEqual([Infinity, Infinity]);
    expect(read(K.reduce('sum', e, [0, 3], [0]))).toEqual([0, 0, 0]);
    expect(K.reduce('sum', e, [0, 3], [1]).size).toBe(0);
  });

  it('max propagates NaN', () => {
    expect(Number.isNaN(read(K.reduce('max', f32([1, NaN, 3]), [3], [0]))[0])).toBe(true);
  });

  it('argmax picks the first maximum', () => {
    const r = K.argmax(f32([1, 3, 3, 2, 5, 5]), [2, 3], 1);
    expect(r.dtype).toBe('i32');
    expect(read(r)).toEqual([1, 1]);
    expect(read(K.argmax(f32([1, 7, 7, 2, 7, 9]), [3, 2], 0))).toEqual([1, 2]);
    expect(read(K.argmax(f32([2, 2, 2]), [3], 0))).toEqual([0]);
    expect(read(K.argmax(f32([1, NaN, 5]), [3], 0))).toEqual([1]);
    expect(read(K.argmax(f32([-Infinity, -Infinity]), [2], 0))).toEqual([0]);
    expect(K.argmax(f32([]), [0, 3], 1).size).toBe(0);
  });
});

describe('softmax and logSoftmax', () => {
  it('known values', () => {
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    close(read(K.softmax(f32([1, 2, 3, 0, 0, 0]), [2, 3])), [...e.map((v) => v / s), 1 / 3, 1 / 3, 1 / 3]);
    close(read(K.logSoftmax(f32([1, 2, 3]), [3])), [1, 2, 3].map((v) => v - Math.log(s)));
  });

  it('is stable for large inputs and masked (-inf) entries', () => {
    close(read(K.softmax(f32([1000, 1001]), [2])), [1 / (1 + Math.E), Math.E / (1 + Math.E)]);
    close(read(K.logSoftmax(f32([1000, 1000]), [2])), [-Math.LN2, -Math.LN2]);
    expect(read(K.softmax(f32([0, -Infinity]), [2]))).toEqual([1, 0]);
    expect(read(K.logSoftmax(f32([0, -Infinity]), [2]))).toEqual([0, -Infinity]);
  });

  it('size-1 and empty rows', () => {
    expect(read(K.softmax(f32([5, -3]), [2, 1]))).toEqual([1, 1]);
    expect(read(K.logSoftmax(f32([5]), [1]))).toEqual([0]);
    expect(K.softmax(f32([]), [0, 4]).size).toBe(0);
    expect(K.logSoftmax(f32([]), [3, 0]).size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Layer norm of one row in plain f64, for finite differences. */
function layerNormRef(x: number[], g: number[], b: number[], eps: number): number[] {
  const d = x.length;
  const mu = x.reduce((s, v) => s + v, 0) / d;
  const v = x.reduce((s, t) => s + (t - mu) ** 2, 0) / d;
  return x.map((t, j) => ((t - mu) / Math.sqrt(v + eps)) * g[j]! + b[j]!);
}

describe('normalisation', () => {
  it('layerNorm: hand values', () => {
    const eps = 1e-5;
    const { y, mean, rstd } = K.layerNorm(f32([1, 2, 3, 2, 4, 6]), [2, 3], f32([1, 2, 1]), f32([0, 0, 1]), eps);
    const r1 = 1 / Math.sqrt(2 / 3 + eps);
    const r2 = 1 / Math.sqrt(8 / 3 + eps);
    close(read(mean), [2, 4]);
    close(read(rstd), [r1, r2]);
    close(read(y), [-r1, 0, r1 + 1, -2 * r2, 0, 2 * r2 + 1]);
  });

  it('layerNorm: constant rows and empty inputs', () => {
    const { y, rstd } = K.layerNorm(f32([3, 3]), [1, 2], f32([1, 1]), f32([0.5, 0.5]), 1e-5);
    close(read(y), [0.5, 0.5]);
    close(read(rstd), [1 / Math.sqrt(1e-5)]);
    const e = K.layerNorm(f32([]), [0, 4], f32([1, 1, 1, 1]), f32([0, 0, 0, 0]), 1e-5);
    expect([e.y.size, e.mean.size, e.rstd.size]).toEqual([0, 0, 0]);
  });

  it('layerNormBackward matches finite differences of Σ dy·y', () => {
    const rows = 3;
    const d = 5;
    const eps = 1e-5;
    const xs = data(rows * d, 3);
    const gs = data(d, 4).map((v) => v + 2);
    const bs = data(d, 5);
    const dys = data(rows * d, 6);
    const fwd = K.layerNorm(f32(xs), [rows, d], f32(gs), f32(bs), eps);
    const { dx, dgamma, dbeta } = K.layerNormBackward(f32(dys), f32(xs), [rows, d], f32(gs), fwd.mean, fwd.rstd);
    const loss = (x: number[], g: number[], b: number[]): number => {
      let s = 0;
      for (let r = 0; r < rows; r++) {
        const y = layerNormRef(x.slice(r * d, r * d + d), g, b, eps);
        for (let j = 0; j < d; j++) s += dys[r * d + j]! * y[j]!;
      }
      return s;
    };
    const h = 1e-6;
    const numeric = (vec: number[], which: 0 | 1 | 2): number[] =>
      vec.map((_, i) => {
        const plus = vec.slice();
        const minus = vec.slice();
        plus[i]! += h;
        minus[i]! -= h;
        const args = (v: number[]): [number[], number[], number[]] =>
          which === 0 ? [v, gs, bs] : which === 1 ? [xs, v, bs] : [xs, gs, v];
        return (loss(...args(plus)) - loss(...args(minus))) / (2 * h);
      });
    close(read(dx), numeric(xs, 0), 1e-4, 1e-5);
    close(read(dgamma), numeric(gs, 1), 1e-4, 1e-5);
    close(read(dbeta), numeric(bs, 2), 1e-4, 1e-5);
    // dbeta is just the column sums of dy.
    close(read(dbeta), Array.from({ length: d }, (_, j) => dys[j]! + dys[d + j]! + dys[2 * d + j]!));
  });

  it('batchNormStats: mean and biased variance over outer and inner axes', () => {
    // [outer=2, C=2, inner=2]: channel 0 holds 1,2,5,6; channel 1 holds 3,4,7,8.
    const { mean, variance } = K.batchNormStats(f32([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2]);
    expect(read(mean)).toEqual([3.5, 5.5]);
    expect(read(variance)).toEqual([4.25, 4.25]);
    const one = K.batchNormStats(f32([2, 4, 9]), [3, 1, 1]);
    expect(read(one.mean)).toEqual([5]);
    close(read(one.variance), [(9 + 1 + 16) / 3]);
    const empty = K.batchNormStats(f32([]), [0, 2, 3]);
    expect(read(empty.mean).every(Number.isNaN)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Plain matmul of row-major [m,k]·[k,n] in f64. */
function naiveMatmul(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
      out.push(s);
    }
  }
  return out;
}

function transpose(a: number[], rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) out.push(a[i * cols + j]!);
  return out;
}

describe('matmul', () => {
  const A = [1, 2, 3, 4, 5, 6]; // [2, 3]
  const B = [7, 8, 9, 10, 11, 12]; // [3, 2]
  const AB = [58, 64, 139, 154];

  it('2-d product by hand, with every transpose flag', () => {
    expect(read(K.matmul({ a: f32(A), b: f32(B), aShape: [2, 3], bShape: [3, 2], transA: false, transB: false }))).toEqual(AB);
    const At = transpose(A, 2, 3);
    const Bt = transpose(B, 3, 2);
    expect(read(K.matmul({ a: f32(At), b: f32(B), aShape: [3, 2], bShape: [3, 2], transA: true, transB: false }))).toEqual(AB);
    expect(read(K.matmul({ a: f32(A), b: f32(Bt), aShape: [2, 3], bShape: [2, 3], transA: false, transB: true }))).toEqual(AB);
    expect(read(K.matmul({ a: f32(At), b: f32(Bt), aShape: [3, 2], bShape: [2, 3], transA: true, transB: true }))).toEqual(AB);
  });

  it('fused bias', () => {
    const r = K.matmul({ a: f32(A), b: f32(B), aShape: [2, 3], bShape: [3, 2], transA: false, transB: false, bias: f32([1, -1]) });
    expect(read(r)).toEqual([59, 63, 140, 153]);
  });

  it('broadcasts batch dims', () => {
    // a [2, 1, 2, 3] · b [3, 3, 2] → [2, 3, 2, 2]
    const a = data(2 * 2 * 3, 11);
    const b = data(3 * 3 * 2, 12);
    const r = read(K.matmul({ a: f32(a), b: f32(b), aShape: [2, 1, 2, 3], bShape: [3, 3, 2], transA: false, transB: false }));
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        expected.push(...naiveMatmul(a.slice(i * 6, i * 6 + 6), b.slice(j * 6, j * 6 + 6), 2, 3, 2));
      }
    }
    close(r, expected);
    // a [1, 2, 3] against b [4, 3, 2] with transB on a b stored as [4, 2, 3]
    const bt = data(4 * 2 * 3, 13);
    const r2 = read(K.matmul({ a: f32(A), b: f32(bt), aShape: [1, 2, 3], bShape: [4, 2, 3], transA: false, transB: true }));
    const exp2: number[] = [];
    for (let j = 0; j < 4; j++) exp2.push(...naiveMatmul(A, transpose(bt.slice(j * 6, j * 6 + 6), 2, 3), 2, 3, 2));
    close(r2, exp2);
  });

  it('odd sizes against a naive loop', () => {
    const [m, k, n] = [5, 7, 3];
    const a = data(m * k, 21);
    const b = data(k * n, 22);
    close(read(K.matmul({ a: f32(a), b: f32(b), aShape: [m, k], bShape: [k, n], transA: false, transB: false })), naiveMatmul(a, b, m, k, n));
  });

  it('empty dims: k = 0 gives zeros (plus bias); m = 0 or batch 0 gives empty', () => {
    expect(read(K.matmul({ a: f32([]), b: f32([]), aShape: [2, 0], bShape: [0, 3], transA: false, transB: false }))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(read(K.matmul({ a: f32([]), b: f32([]), aShape: [1, 0], bShape: [0, 2], transA: false, transB: false, bias: f32([1, 2]) }))).toEqual([1, 2]);
    expect(K.matmul({ a: f32([]), b: f32(B), aShape: [0, 3], bShape: [3, 2], transA: false, transB: false }).size).toBe(0);
    expect(K.matmul({ a: f32([]), b: f32(B), aShape: [0, 2, 3], bShape: [3, 2], transA: false, transB: false }).size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('indexing', () => {
  it('indexSelect along each axis, with repeats', () => {
    const x = f32([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(read(K.indexSelect(x, [2, 3], 1, i32([2, 0, 2]), 3))).toEqual([3, 1, 3, 6, 4, 6]);
    expect(read(K.indexSelect(x, [2, 3], 0, i32([1]), 1))).toEqual([4, 5, 6]);
    expect(K.indexSelect(x, [2, 3], 0, i32([]), 0).size).toBe(0);
    expect(() => K.indexSelect(x, [2, 3], 1, i32([3]), 1)).toThrow(/indexSelect: index 3 at position 0 is out of range/);
    // i32 data keeps its dtype
    expect(K.indexSelect(i32([1, 2]), [2], 0, i32([1]), 1).dtype).toBe('i32');
  });

  it('gather (torch.gather semantics)', () => {
    const x = f32([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(read(K.gather(x, [2, 3], 1, i32([2, 0, 1, 1]), [2, 2]))).toEqual([3, 1, 5, 5]);
    expect(read(K.gather(x, [2, 3], 0, i32([1, 0, 1]), [1, 3]))).toEqual([4, 2, 6]);
    expect(() => K.gather(x, [2, 3], 0, i32([2, 0, 1]), [1, 3])).toThrow(/gather: index 2/);
  });

  it('scatterAdd accumulates duplicates', () => {
    const r = K.scatterAdd(f32([1, 2, 3, 4]), i32([0, 2, 0, 1]), [1, 4], 1, [1, 3]);
    expect(read(r)).toEqual([4, 4, 2]);
    // axis 0 of a [2, 2] output from a [3, 2] src
    const r2 = K.scatterAdd(f32([1, 2, 3, 4, 5, 6]), i32([1, 0, 1, 1, 0, 0]), [3, 2], 0, [2, 2]);
    // column 0: rows 1, 1, 0 get 1, 3, 5; column 1: rows 0, 1, 0 get 2, 4, 6
    expect(read(r2)).toEqual([5, 2 + 6, 1 + 3, 4]);
    expect(() => K.scatterAdd(f32([1]), i32([-1]), [1], 0, [2])).toThrow(/scatterAdd: index -1/);
    expect(read(K.scatterAdd(f32([]), i32([]), [0], 0, [3]))).toEqual([0, 0, 0]);
  });

  it('topk: sorted, ties by lower index, ascending when !largest', () => {
    const x = f32([3, 1, 3, 2, 5, 5, 5, 0]); // [2, 4]
    const { values, indices } = K.topk(x, [2, 4], 2, true);
    expect(read(values)).toEqual([3, 3, 5, 5]);
    expect(read(indices)).toEqual([0, 2, 0, 1]);
    const low = K.topk(x, [2, 4], 3, false);
    expect(read(low.values)).toEqual([1, 2, 3, 0, 5, 5]);
    expect(read(low.indices)).toEqual([1, 3, 0, 3, 0, 1]);
    const all = K.topk(f32([-1, 4, 2]), [3], 3, true);
    expect(read(all.indices)).toEqual([1, 2, 0]);
    expect(K.topk(x, [2, 4], 0, true).values.size).toBe(0);
    expect(K.topk(f32([]), [0, 4], 2, true).indices.size).toBe(0);
  });

  it('oneHot: out-of-range indices give zero rows', () => {
    const r = K.oneHot(i32([0, 2, -1, 3]), 4, 3);
    expect(read(r)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(K.oneHot(i32([]), 0, 3).size).toBe(0);
  });

  it('maskedTopK: largest |x| among candidates, ties by lower flat index', () => {
    const x = f32([0.5, -3, 2, 3, -2, 9]);
    const cand = u8([1, 1, 1, 1, 1, 0]);
    expect(read(K.maskedTopK(x, cand, 2))).toEqual([0, 1, 0, 1, 0, 0]);
    expect(read(K.maskedTopK(x, cand, 3))).toEqual([0, 1, 1, 1, 0, 0]);
    expect(read(K.maskedTopK(x, cand, 0))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(read(K.maskedTopK(x, cand, 5))).toEqual([1, 1, 1, 1, 1, 0]);
    expect(() => K.maskedTopK(x, cand, 6)).toThrow(/maskedTopK: k = 6/);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('data movement', () => {
  it('cumsum forward and reverse along each axis', () => {
    const x = f32([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(read(K.cumsum(x, [2, 3], 1, false))).toEqual([1, 3, 6, 4, 9, 15]);
    expect(read(K.cumsum(x, [2, 3], 1, true))).toEqual([6, 5, 3, 15, 11, 6]);
    expect(read(K.cumsum(x, [2, 3], 0, false))).toEqual([1, 2, 3, 5, 7, 9]);
    expect(read(K.cumsum(x, [2, 3], 0, true))).toEqual([5, 7, 9, 4, 5, 6]);
    // f64 running sum
    expect(read(K.cumsum(f32([1e8, 1, -1e8]), [3], 0, false))).toEqual([1e8, 1e8, 1]);
    expect(K.cumsum(f32([]), [2, 0], 1, false).size).toBe(0);
  });

  it('roll: out[i] = x[(i − shift) mod n]', () => {
    const x = f32([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(read(K.roll(x, [2, 3], 1, 1))).toEqual([3, 1, 2, 6, 4, 5]);
    expect(read(K.roll(x, [2, 3], 1, -1))).toEqual([2, 3, 1, 5, 6, 4]);
    expect(read(K.roll(x, [2, 3], 1, 7))).toEqual([3, 1, 2, 6, 4, 5]);
    expect(read(K.roll(x, [2, 3], 0, 1))).toEqual([4, 5, 6, 1, 2, 3]);
    expect(K.roll(f32([]), [0, 3], 0, 2).size).toBe(0);
  });

  it('pad: zero, circular, replicate', () => {
    const x = f32([1, 2, 3]);
    expect(read(K.pad(x, [3], [[2, 1]], 'zero'))).toEqual([0, 0, 1, 2, 3, 0]);
    expect(read(K.pad(x, [3], [[2, 1]], 'circular'))).toEqual([2, 3, 1, 2, 3, 1]);
    expect(read(K.pad(x, [3], [[2, 1]], 'replicate'))).toEqual([1, 1, 1, 2, 3, 3]);
    // wider than the axis: circular keeps wrapping
    expect(read(K.pad(f32([1, 2]), [2], [[3, 0]], 'circular'))).toEqual([2, 1, 2, 1, 2]);
    const m = f32([1, 2, 3, 4]); // [2, 2]
    expect(read(K.pad(m, [2, 2], [[1, 0], [0, 1]], 'zero'))).toEqual([0, 0, 0, 1, 2, 0, 3, 4, 0]);
    expect(read(K.pad(m, [2, 2], [[1, 0], [0, 1]], 'replicate'))).toEqual([1, 2, 2, 1, 2, 2, 3, 4, 4]);
    expect(read(K.pad(m, [2, 2], [[0, 1], [1, 0]], 'circular'))).toEqual([2, 1, 2, 4, 3, 4, 2, 1, 2]);
    expect(read(K.pad(f32([]), [0], [[1, 1]], 'zero'))).toEqual([0, 0]);
    expect(K.pad(f32([]), [0, 2], [[0, 0], [1, 1]], 'replicate').size).toBe(0);
    expect(K.pad(i32([5]), [1], [[1, 0]], 'zero').dtype).toBe('i32');
  });

  it('concat along each axis, with empty parts', () => {
    const a = f32([1, 2, 3, 4]); // [2, 2]
    const b = f32([5, 6]); // [2, 1] or [1, 2]
    expect(read(K.concat([a, b], [[2, 2], [2, 1]], 1))).toEqual([1, 2, 5, 3, 4, 6]);
    expect(read(K.concat([a, b], [[2, 2], [1, 2]], 0))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(read(K.concat([f32([]), a, f32([])], [[2, 0], [2, 2], [2, 0]], 1))).toEqual([1, 2, 3, 4]);
    expect(K.concat([f32([]), f32([])], [[0, 3], [0, 3]], 0).size).toBe(0);
  });

  it('slice', () => {
    const x = f32(Array.from({ length: 12 }, (_, i) => i)); // [3, 4]
    expect(read(K.slice(x, [3, 4], [1, 1], [2, 2]))).toEqual([5, 6, 9, 10]);
    expect(read(K.slice(x, [3, 4], [0, 3], [3, 1]))).toEqual([3, 7, 11]);
    expect(K.slice(x, [3, 4], [1, 0], [0, 4]).size).toBe(0);
    expect(read(K.slice(f32([9]), [], [], []))).toEqual([9]);
  });

  it('permute matches a naive transpose', () => {
    const dims = [2, 3, 4];
    const xs = Array.from({ length: 24 }, (_, i) => i);
    const r = read(K.permute(f32(xs), dims, [2, 0, 1])); // out [4, 2, 3]
    const expected: number[] = [];
    for (let c = 0; c < 4; c++) for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) expected.push(a * 12 + b * 4 + c);
    expect(r).toEqual(expected);
    expect(read(K.permute(f32([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(K.permute(f32([]), [0, 3], [1, 0]).size).toBe(0);
    expect(K.permute(u8([1, 0]), [2, 1], [1, 0]).dtype).toBe('u8');
  });
});

// ---------------------------------------------------------------------------------------------------------

/** conv1d as the obvious loop, in f64. */
function naiveConv(
  x: number[], [N, Cin, L]: number[], w: number[], [Cout, , Kk]: number[],
  stride: number, dil: number, pl: number, pr: number,
): { out: number[]; lout: number } {
  const lout = Math.floor((L! + pl + pr - dil * (Kk! - 1) - 1) / stride) + 1;
  const out: number[] = [];
  for (let n = 0; n < N!; n++) {
    for (let co = 0; co < Cout!; co++) {
      for (let lo = 0; lo < lout; lo++) {
        let s = 0;
        for (let ci = 0; ci < Cin!; ci++) {
          for (let k = 0; k < Kk!; k++) {
            const p = lo * stride + k * dil - pl;
            if (p >= 0 && p < L!) s += x[(n * Cin! + ci) * L! + p]! * w[(co * Cin! + ci) * Kk! + k]!;
          }
        }
        out.push(s);
      }
    }
  }
  return { out, lout };
}

const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe('conv1d', () => {
  it('hand example: derivative filter with padding', () => {
    // out[lo] = x[lo − 1] − x[lo + 1]
    const r = K.conv1d({ x: f32([1, 2, 3, 4, 5]), xShape: [1, 1, 5], w: f32([1, 0, -1]), wShape: [1, 1, 3], stride: 1, dilation: 1, padLeft: 1, padRight: 1 });
    expect(read(r)).toEqual([-2, -2, -2, -2, 4]);
    // stride 2, dilation 2, no padding: one output, x0 − x4
    const s = K.conv1d({ x: f32([1, 2, 3, 4, 5]), xShape: [1, 1, 5], w: f32([1, 0, -1]), wShape: [1, 1, 3], stride: 2, dilation: 2, padLeft: 0, padRight: 0 });
    expect(read(s)).toEqual([-4]);
    // two input channels summed, asymmetric padding
    const t = K.conv1d({ x: f32([1, 2, 10, 20]), xShape: [1, 2, 2], w: f32([1, 1, 1, 0]), wShape: [1, 2, 2], stride: 1, dilation: 1, padLeft: 0, padRight: 1 });
    // lo=0: 1+2 + 10 = 13; lo=1: 2 + 20 = 22
    expect(read(t)).toEqual([13, 22]);
  });

  const cases: Array<[number[], number[], number, number, number, number]> = [
    [[2, 3, 7], [4, 3, 3], 1, 1, 1, 1],
    [[1, 2, 9], [3, 2, 2], 2, 1, 0, 1],
    [[2, 1, 8], [2, 1, 3], 3, 2, 2, 0],
    [[1, 1, 1], [1, 1, 1], 1, 1, 0, 0],
  ];

  it('matches a naive loop; backward kernels are the adjoints', () => {
    let seed = 30;
    for (const [xShape, wShape, stride, dil, pl, pr] of cases) {
      const x = data(xShape[0]! * xShape[1]! * xShape[2]!, seed++);
      const w = data(wShape[0]! * wShape[1]! * wShape[2]!, seed++);
      const { out, lout } = naiveConv(x, xShape, w, wShape, stride, dil, pl, pr);
      const args = { x: f32(x), xShape, w: f32(w), wShape, stride, dilation: dil, padLeft: pl, padRight: pr };
      close(read(K.conv1d(args)), out);
      // <conv(x, w), dy> = <x, dX(dy)> = <w, dW(dy)> (conv is linear in each argument).
      const dyShape = [xShape[0]!, wShape[0]!, lout];
      const dy = data(dyShape[0]! * dyShape[1]! * lout, seed++);
      const dx = read(K.conv1dBackwardInput(f32(dy), dyShape, args));
      const dw = read(K.conv1dBackwardWeight(f32(dy), dyShape, args));
      const ref = dot(out, dy);
      expect(Math.abs(dot(x, dx) - ref)).toBeLessThan(1e-4);
      expect(Math.abs(dot(w, dw) - ref)).toBeLessThan(1e-4);
    }
  });

  it('backward by hand', () => {
    // x [1,1,3], w [1,1,2] = [a, b], no padding: y0 = a·x0 + b·x1, y1 = a·x1 + b·x2
    const args = { x: f32([1, 2, 3]), xShape: [1, 1, 3], w: f32([2, -1]), wShape: [1, 1, 2], stride: 1, dilation: 1, padLeft: 0, padRight: 0 };
    // dy = [1, 10]: dx = [a·1, b·1 + a·10, b·10] = [2, 19, -10]; dw = [x0 + 10·x1, x1 + 10·x2] = [21, 32]
    expect(read(K.conv1dBackwardInput(f32([1, 10]), [1, 1, 2], args))).toEqual([2, 19, -10]);
    expect(read(K.conv1dBackwardWeight(f32([1, 10]), [1, 1, 2], args))).toEqual([21, 32]);
  });

  it('empty batch and too-short input', () => {
    const args = { x: f32([]), xShape: [0, 2, 5], w: f32(data(6)), wShape: [1, 2, 3], stride: 1, dilation: 1, padLeft: 0, padRight: 0 };
    expect(K.conv1d(args).size).toBe(0);
    expect(read(K.conv1dBackwardWeight(f32([]), [0, 1, 3], args))).toEqual([0, 0, 0, 0, 0, 0]);
    const short = { x: f32([1, 2]), xShape: [1, 1, 2], w: f32([1, 1, 1]), wShape: [1, 1, 3], stride: 1, dilation: 1, padLeft: 0, padRight: 0 };
    expect(K.conv1d(short).size).toBe(0);
    expect(read(K.conv1dBackwardInput(f32([]), [1, 1, 0], short))).toEqual([0, 0]);
  });
});

describe('pooling', () => {
  const x = f32([1, 2, 3, 4, 5]);

  it('avgPool1d counts padding zeros', () => {
    // windows [-1,0], [1,2], [3,4]
    expect(read(K.avgPool1d(x, [1, 1, 5], 2, 2, 1))).toEqual([0.5, 2.5, 4.5]);
    expect(read(K.avgPool1d(x, [1, 1, 5], 3, 1, 0))).toEqual([2, 3, 4]);
    expect(read(K.avgPool1d(f32([1, 2, 3, 4, 5, 6]), [2, 1, 3], 3, 1, 1))).toEqual([1, 2, 5 / 3, 3, 5, 11 / 3].map(fr));
  });

  it('avgPool1dBackward spreads dy/k over each window', () => {
    // k=2 stride 2 pad 1 on L=5: windows [-1,0], [1,2], [3,4]
    expect(read(K.avgPool1dBackward(f32([2, 4, 6]), [1, 1, 3], [1, 1, 5], 2, 2, 1))).toEqual([1, 2, 2, 3, 3]);
    // overlapping windows k=3 stride 1 pad 0 on L=5: position p is in windows max(0,p−2)..min(2,p)
    expect(read(K.avgPool1dBackward(f32([3, 6, 9]), [1, 1, 3], [1, 1, 5], 3, 1, 0))).toEqual([1, 3, 6, 5, 3]);
  });

  it('maxPool1d ignores padding and takes the first maximum', () => {
    const { values, indices } = K.maxPool1d(f32([-1, -2, -3, -4, -5]), [1, 1, 5], 2, 2, 1);
    expect(read(values)).toEqual([-1, -2, -4]);
    expect(read(indices)).toEqual([0, 1, 3]);
    const ties = K.maxPool1d(f32([2, 2, 1, 3, 3]), [1, 1, 5], 2, 1, 0);
    expect(read(ties.values)).toEqual([2, 2, 3, 3]);
    expect(read(ties.indices)).toEqual([0, 1, 3, 3]);
  });

  it('maxPool1dBackward scatters to argmax positions, summing overlaps', () => {
    const ind = i32([0, 1, 3, 3]);
    expect(read(K.maxPool1dBackward(f32([1, 2, 3, 4]), ind, [1, 1, 4], [1, 1, 5]))).toEqual([1, 2, 0, 7, 0]);
    expect(() => K.maxPool1dBackward(f32([1]), i32([5]), [1, 1, 1], [1, 1, 5])).toThrow(/maxPool1dBackward: index 5/);
  });

  it('empty inputs', () => {
    expect(K.avgPool1d(f32([]), [0, 3, 4], 2, 2, 0).size).toBe(0);
    expect(K.maxPool1d(f32([]), [2, 0, 4], 2, 2, 0).values.size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** The textbook DFT with angles from Math.cos/sin(2π·j·k/n), in f64. */
function naiveRfft(x: number[]): number[] {
  const n = x.length;
  const out: number[] = [];
  for (let k = 0; k <= Math.floor(n / 2); k++) {
    let re = 0;
    let im = 0;
    for (let j = 0; j < n; j++) {
      const ang = (2 * Math.PI * j * k) / n;
      re += x[j]! * Math.cos(ang);
      im -= x[j]! * Math.sin(ang);
    }
    out.push(re, im);
  }
  return out;
}

describe('rfft / irfft', () => {
  it('known spectra', () => {
    // numpy.fft.rfft([1..7])
    close(read(K.rfft(f32([1, 2, 3, 4, 5, 6, 7]), [7])), [28, 0, -3.5, 7.26782489, -3.5, 2.79115686, -3.5, 0.79885216], 1e-6, 1e-5);
    // a cosine at bin 3 of n = 16 has X_3 = n/2, everything else 0
    const n = 16;
    const cosine = Array.from({ length: n }, (_, j) => Math.cos((2 * Math.PI * 3 * j) / n));
    const spec = read(K.rfft(f32(cosine), [n]));
    const expected = new Array(2 * (n / 2 + 1)).fill(0);
    expected[6] = n / 2;
    close(spec, expected, 1e-6, 1e-5);
    // impulse → all ones; constant → DC only
    expect(read(K.rfft(f32([1, 0, 0, 0]), [4]))).toEqual([1, 0, 1, 0, 1, 0]);
    close(read(K.rfft(f32([2, 2, 2]), [3])), [6, 0, 0, 0], 1e-6, 1e-6);
    expect(read(K.rfft(f32([5]), [1]))).toEqual([5, 0]);
  });

  it('matches the naive DFT and round-trips for many lengths', () => {
    for (const n of [1, 2, 3, 7, 96, 144, 192]) {
      const rows = 2;
      const x = data(rows * n, n);
      const m = Math.floor(n / 2) + 1;
      const spec = read(K.rfft(f32(x), [rows, n]));
      expect(spec.length).toBe(rows * m * 2);
      for (let r = 0; r < rows; r++) {
        close(spec.slice(r * m * 2, (r + 1) * m * 2), naiveRfft(x.slice(r * n, (r + 1) * n)), 1e-5, 1e-5 * Math.sqrt(n));
      }
      const back = read(K.irfft(f32(spec), [rows, m, 2], n));
      close(back, x, 1e-5, 1e-5);
    }
  });

  it('irfft by hand; ignores imaginary parts of DC and Nyquist', () => {
    // numpy.fft.irfft([1+5j, 2+1j, 3-2j], 4) = [2, -1, 0, 0]
    expect(read(K.irfft(f32([1, 5, 2, 1, 3, -2]), [3, 2], 4))).toEqual([2, -1, 0, 0]);
    expect(read(K.irfft(f32([1, 0, 2, 1, 3, 0]), [3, 2], 4))).toEqual([2, -1, 0, 0]);
    // odd n = 3: bin 1 is a full conjugate pair, its imaginary part counts
    // x_j = (1/3)(X0 + 2(Re X1 cos(2πj/3) − Im X1 sin(2πj/3)))
    const r = read(K.irfft(f32([3, 7, 1.5, 0.5]), [2, 2], 3));
    const exp = [0, 1, 2].map((j) => (3 + 2 * (1.5 * Math.cos((2 * Math.PI * j) / 3) - 0.5 * Math.sin((2 * Math.PI * j) / 3))) / 3);
    close(r, exp);
    expect(read(K.irfft(f32([6, 9]), [1, 2], 1))).toEqual([6]);
  });

  it('empty batches', () => {
    expect(K.rfft(f32([]), [0, 8]).size).toBe(0);
    expect(K.irfft(f32([]), [0, 5, 2], 8).size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

function csr(rows: number, cols: number, rowPtr: number[], colIdx: number[], values: number[]): CsrStorage {
  return { rows, cols, nnz: colIdx.length, rowPtr: i32(rowPtr), colIdx: i32(colIdx), values: f32(values) };
}

describe('sparse', () => {
  // A = [[1, 0, 2],
  //      [0, 0, 0],
  //      [0, 3, 0],
  //      [4, 0, 5]]   (4 × 3)
  const Adense = [1, 0, 2, 0, 0, 0, 0, 3, 0, 4, 0, 5];
  const A = (): CsrStorage => csr(4, 3, [0, 2, 2, 3, 5], [0, 2, 1, 0, 2], [1, 2, 3, 4, 5]);

  it('csrToDense and denseToCsr round-trip', () => {
    expect(read(K.csrToDense(A()))).toEqual(Adense);
    const c = K.denseToCsr(f32(Adense), 4, 3, 5);
    expect([c.rows, c.cols, c.nnz]).toEqual([4, 3, 5]);
    expect(read(c.rowPtr)).toEqual([0, 2, 2, 3, 5]);
    expect(read(c.colIdx)).toEqual([0, 2, 1, 0, 2]);
    expect(read(c.values)).toEqual([1, 2, 3, 4, 5]);
    expect(c.rowPtr.dtype).toBe('i32');
  });

  it('denseToCsr with a mask keeps explicit zeros', () => {
    const c = K.denseToCsr(f32([0, 7, 8, 0]), 2, 2, 3, u8([1, 0, 1, 1]));
    expect(c.nnz).toBe(3);
    expect(read(c.rowPtr)).toEqual([0, 1, 3]);
    expect(read(c.colIdx)).toEqual([0, 0, 1]);
    expect(read(c.values)).toEqual([0, 8, 0]);
    const e = K.denseToCsr(f32([]), 0, 3, 0);
    expect([e.nnz, e.rowPtr.size]).toEqual([0, 1]);
  });

  it('denseToCsr checks the caller\'s nnz against the real count', () => {
    expect(() => K.denseToCsr(f32([0, 7, 8, 0]), 2, 2, 3)).toThrow(/^denseToCsr: x \[2, 2\] has 2 stored entries, but nnz = 3/);
    expect(() => K.denseToCsr(f32([0, 7, 8, 0]), 2, 2, 2, u8([1, 0, 1, 1]))).toThrow(/^denseToCsr: the mask \[2, 2\] has 3 stored entries, but nnz = 2/);
  });

  it('spmm equals the dense product', () => {
    const n = 2;
    const B = [1, 2, 3, 4, 5, 6]; // [3, 2]
    expect(read(K.spmm(A(), f32(B), n))).toEqual(naiveMatmul(Adense, B, 4, 3, 2));
    expect(read(K.spmm(A(), f32([]), 0))).toEqual([]);
  });

  it('denseCsrT equals X · Wᵀ', () => {
    // W = A as [n=4, k=3]; X [2, 3]
    const X = [1, -1, 2, 0.5, 3, -2];
    const expected = naiveMatmul(X, transpose(Adense, 4, 3), 2, 3, 4);
    expect(read(K.denseCsrT(f32(X), 2, A()))).toEqual(expected);
    expect(K.denseCsrT(f32([]), 0, A()).size).toBe(0);
  });

  it('sddmm equals the dense product at the pattern positions, for every transpose flag', () => {
    // op(A) [4, 5], op(B) [5, 3], pattern = A's [4, 3]
    const a = data(20, 41);
    const b = data(15, 42);
    const full = naiveMatmul(a, b, 4, 5, 3);
    const expected = [[0, 0], [0, 2], [2, 1], [3, 0], [3, 2]].map(([i, j]) => full[i! * 3 + j!]!);
    const at = transpose(a, 4, 5); // stored [5, 4]
    const bt = transpose(b, 5, 3); // stored [3, 5]
    close(read(K.sddmm(f32(a), [4, 5], false, f32(b), [5, 3], false, A())), expected);
    close(read(K.sddmm(f32(at), [5, 4], true, f32(b), [5, 3], false, A())), expected);
    close(read(K.sddmm(f32(a), [4, 5], false, f32(bt), [3, 5], true, A())), expected);
    close(read(K.sddmm(f32(at), [5, 4], true, f32(bt), [3, 5], true, A())), expected);
    const empty = csr(4, 3, [0, 0, 0, 0, 0], [], []);
    expect(K.sddmm(f32(a), [4, 5], false, f32(b), [5, 3], false, empty).size).toBe(0);
  });

  it('rejects malformed CSR, naming the kernel and the bad index', () => {
    const badCol = csr(2, 3, [0, 1, 2], [0, 3], [1, 1]);
    expect(() => K.csrToDense(badCol)).toThrow(/csrToDense: .*colIdx\[1\] = 3 is out of range/);
    expect(() => K.spmm(badCol, f32([1, 2, 3]), 1)).toThrow(/spmm: .*colIdx\[1\] = 3/);
    const negCol = csr(1, 3, [0, 1], [-1], [1]);
    expect(() => K.denseCsrT(f32([1, 2, 3]), 1, negCol)).toThrow(/denseCsrT: .*colIdx\[0\] = -1/);
    const decreasing = csr(3, 3, [0, 2, 1, 2], [0, 1], [1, 1]);
    expect(() => K.spmm(decreasing, f32([1, 2, 3]), 1)).toThrow(/spmm: .*rowPtr\[2\] = 1 is out of range/);
    const tooBig = csr(2, 3, [0, 5, 2], [0, 1], [1, 1]);
    expect(() => K.csrToDense(tooBig)).toThrow(/csrToDense: .*rowPtr\[1\] = 5 is out of range/);
    const badEnd = { ...csr(2, 3, [0, 1, 1], [0, 1], [1, 1]) };
    expect(() => K.csrToDense(badEnd)).toThrow(/csrToDense: .*rowPtr\[2\] = 1; expected nnz = 2/);
    expect(() => K.sddmm(f32([1]), [1, 1], false, f32([1]), [1, 1], false, csr(1, 1, [0, 1], [4], [0]))).toThrow(/sddmm: .*colIdx\[0\] = 4/);
  });

  it('maskedTopK and denseToCsr compose (prune-style use)', () => {
    const w = f32([0.1, -0.9, 0.4, -0.4, 0.05, 0.7]);
    const mask = K.maskedTopK(w, u8([1, 1, 1, 1, 1, 1]), 3);
    expect(read(mask)).toEqual([0, 1, 1, 0, 0, 1]);
    const c = K.denseToCsr(w, 2, 3, 3, mask);
    expect(read(c.values)).toEqual([fr(-0.9), fr(0.4), fr(0.7)]);
    expect(read(c.rowPtr)).toEqual([0, 2, 3]);
  });
});
