// Every wasm kernel except matmul and the sparse family, against the js backend (the reference), on shapes
// with size 1, broadcasting, odd sizes, lengths that are not multiples of 4 and empty dimensions.
// Prints the worst error per kernel at the end.
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyTypedArray, Backend, BinaryOp, CompareOp, PadMode, ReduceOp, Storage, UnaryOp } from '../src/backend/kernels.ts';
import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_OPS } from '../src/backend/kernels.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { WasmBackend, createWasmBackendSync, wasmBytes } from '../src/backend/wasm/backend.ts';
import { WasmRuntime } from '../src/backend/wasm/runtime.ts';
import { FORWARD_FAMILIES } from '../src/backend/wasm/kernels/index.ts';
import { sizeOf } from '../src/tensor/shape.ts';

const js = createJsBackend();
const wasm = createWasmBackendSync();

const bytesAtStart = wasm.bytesInUse();
const worst = new Map<string, number>();
function record(name: string, err: number): void {
  worst.set(name, Math.max(worst.get(name) ?? 0, err));
}
afterAll(() => {
  const lines = [...worst.entries()].map(([k, v]) => `  ${k.padEnd(22)} ${v.toExponential(2)}`);
  console.log(`worst error per wasm kernel (vs js):\n${lines.join('\n')}`);
});

// Deterministic inputs.
let seed = 12345;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
}
function randn(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}
function randInt(n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(rand() * (hi - lo));
  return a;
}

type Out = Storage | Record<string, Storage>;

/**
 * Run `f` on both backends (inputs uploaded through `up`), compare every output: integer dtypes exactly,
 * f32 by |w − j| / max(|j|, floor) ≤ tol. Returns the worst error.
 */
function check(name: string, f: (b: Backend, up: (d: AnyTypedArray) => Storage) => Out, tol: number, floor = 1e-30): number {
  const run = (b: Backend) => {
    const ins: Storage[] = [];
    const out = f(b, (d) => {
      const s = b.upload(d);
      ins.push(s);
      return s;
    });
    const outs = 'size' in out && 'dtype' in out ? { out: out as Storage } : (out as Record<string, Storage>);
    const data: Record<string, AnyTypedArray> = {};
    for (const [k, s] of Object.entries(outs)) {
      data[k] = b.readSync!(s);
      b.free(s);
    }
    ins.forEach((s) => b.free(s));
    return data;
  };
  // Inputs drawn inside `f` must be the same on both backends: replay the generator.
  const s0 = seed;
  const rj = run(js);
  seed = s0;
  const rw = run(wasm);
  let err = 0;
  for (const k of Object.keys(rj)) {
    const a = rw[k]!;
    const e = rj[k]!;
    expect(a.constructor.name, `${name}.${k} dtype`).toBe(e.constructor.name);
    expect(a.length, `${name}.${k} length`).toBe(e.length);
    if (!(e instanceof Float32Array)) {
      for (let i = 0; i < e.length; i++) {
        if (a[i] !== e[i]) throw new Error(`${name}.${k}[${i}]: wasm ${a[i]} vs js ${e[i]}`);
      }
      continue;
    }
    for (let i = 0; i < e.length; i++) {
      const w = a[i]!;
      const j = e[i]!;
      let d: number;
      if (Number.isNaN(j) || Number.isNaN(w)) d = Number.isNaN(j) && Number.isNaN(w) ? 0 : Infinity;
      else if (w === j) d = 0;
      else d = Math.abs(w - j) / Math.max(Math.abs(j), floor);
      if (d > tol) throw new Error(`${name}.${k}[${i}]: wasm ${w} vs js ${j} (error ${d.toExponential(2)} > ${tol})`);
      err = Math.max(err, d);
    }
  }
  record(name, err);
  return err;
}

/** Max |x| of the js result of `f`, for scale-relative floors. */
const ODD = [1, 3, 7, 17, 33, 127];

describe('wasm creation kernels', () => {
  it('fill', () => {
    for (const n of [0, 1, 7, 33]) {
      for (const v of [0, 1.5, -2.7, NaN, 3e9, -Infinity]) {
        for (const dt of ['f32', 'i32', 'u8'] as const) check('fill', (b) => b.kernels.fill(n, dt, v), 0);
      }
    }
  });

  it('cast between every dtype pair', () => {
    const f = new Float32Array([0, -0, 1.5, -1.5, 2.7, -2.7, NaN, Infinity, -Infinity, 3e9, -3e9, 255, 256, 1e-30]);
    const i = new Int32Array([0, 1, -1, 7, 2147483647, -2147483648, 16777217, 255, 256]);
    const u = new Uint8Array([0, 1, 2, 255, 0, 1, 1]);
    for (const src of [f, i, u]) {
      for (const dt of ['f32', 'i32', 'u8'] as const) check('cast', (b, up) => b.kernels.cast(up(src), dt), 0);
    }
  });

  it('random: uniform and bernoulli bit-identical, normal within 1e-6', () => {
    for (const [s, off, n] of [[0, 0, 17], [7, 3, 33], [2 ** 40 + 5, 2 ** 32 - 5, 29], [123, 1000, 1], [1, 0, 0]] as const) {
      check('random', (b) => b.kernels.random(n, 'uniform', s, off, 0), 0);
      check('random', (b) => b.kernels.random(n, 'bernoulli', s, off, 0.3), 0);
      check('random', (b) => b.kernels.random(n, 'normal', s, off, 0), 1e-6, 1e-3);
    }
    // Long streams (the four-blocks-per-vector path) at every alignment, and across a 2^32 block boundary
    // (the low counter word wraps inside a vector).
    for (const [s, off, n] of [[3, 0, 1000], [3, 1, 1001], [3, 2, 999], [3, 3, 64], [9, 2 ** 34 - 22, 100], [9, 2 ** 34 - 8, 48], [9, 2 ** 34 - 40, 100], [2 ** 45 + 3, 2 ** 36 - 13, 77]] as const) {
      check('random', (b) => b.kernels.random(n, 'uniform', s, off, 0), 0);
      check('random', (b) => b.kernels.random(n, 'bernoulli', s, off, 0.7), 0);
    }
    // The vector bernoulli compares integers against ceil(p·2^24): p on and beside a multiple of 2^-24, and
    // out of [0, 1] (never / always).
    for (const p of [0, 2 ** -24, 0.5, 0.5 + 2 ** -24, Math.fround(0.9), 1 - 2 ** -24, 1, 1.5, -0.5, NaN]) {
      check('random', (b) => b.kernels.random(1001, 'bernoulli', 11, 1, p), 0);
    }
  });
});

describe('wasm elementwise kernels', () => {
  const specials = [0, -0, 1, -1, 0.5, 1e-8, -1e-8, 1e-30, 3, -3, 10, -10, 20, -20, 88, 89, -87, -104, 1e5, 1.5e5, -3e6, 1e20,
    NaN, Infinity, -Infinity, 0.05, -0.05, 0.0099, -0.0101, 2, -2, 1.9999, 6, -6, 27, -27, 3.14159265, 1.5707964, 1e-40];
  it('unary: every op', () => {
    for (const op of UNARY_OPS) {
      for (const n of [...ODD, 0]) {
        const x = randn(n, 4);
        check(`unary ${op}`, (b, up) => b.kernels.unary(op as UnaryOp, up(x)), 1e-6);
      }
      check(`unary ${op}`, (b, up) => b.kernels.unary(op as UnaryOp, up(new Float32Array(specials))), 1e-6);
      const wide = new Float32Array(257);
      for (let i = 0; i < wide.length; i++) wide[i] = (rand() * 2 - 1) * 10 ** (rand() * 12 - 6);
      check(`unary ${op}`, (b, up) => b.kernels.unary(op as UnaryOp, up(wide)), 1e-6);
    }
  });

  it('unary: dense sweep over [-30, 30] for the transcendental ops', () => {
    const sweep = new Float32Array(6001);
    for (let i = 0; i < sweep.length; i++) sweep[i] = -30 + i * 0.01;
    for (const op of ['exp', 'tanh', 'sigmoid', 'gelu', 'elu', 'sin', 'cos', 'erf', 'rsqrt'] as UnaryOp[]) {
      check(`unary ${op}`, (b, up) => b.kernels.unary(op, up(sweep)), 1e-6);
    }
    const pos = sweep.map((v) => Math.exp(v / 2));
    check('unary log', (b, up) => b.kernels.unary('log', up(pos)), 1e-6);
  });

  // The f32x4 fast paths (exp, log, tanh, sigmoid, gelu, elu, erf) hand vectors with a lane outside their
  // range to the f64 path: probe a fine sweep, the range edges, and vectors that mix fast and slow lanes.
  it('unary: fine sweep over [-30, 30], range edges and mixed vectors for the f32x4 paths', () => {
    const fine = new Float32Array(60001);
    for (let i = 0; i < fine.length; i++) fine[i] = -30 + i * 0.001;
    const edges = [-87.33, -87.34, -87.3365, 87.33, 87.34, 88.37, 88.38, 88.72, 88.73, -88.72, -103.9, -104, -105, -13, -13.01,
      -13.1, -13.2, -14, -14.3, -15, 13, 13.25, 14, 0.75, -0.75, 0.7499, -0.7501, 0.875, -0.875, 0.8749, 4, -4, 3.99, 4.01,
      5.5, -5.5, 9, -9, 1e-45, -1e-45, 1e-40, -1e-40, 1.17549435e-38, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 1e-7, -1e-7,
      0.3466, -0.3466, 0.3467, -0.3467, 1.4142135, 0.70710677, 0.7071068, 1 + 2 ** -23, 1 - 2 ** -24];
    // Each edge value sits in a vector with three ordinary lanes, at every lane position.
    const mixed = new Float32Array(edges.length * 16);
    for (let e = 0; e < edges.length; e++) {
      for (let k = 0; k < 16; k++) mixed[e * 16 + k] = k % 5 === 0 ? edges[e]! : (rand() * 2 - 1) * 3;
    }
    for (const op of ['exp', 'tanh', 'sigmoid', 'gelu', 'elu', 'erf', 'rsqrt', 'log'] as UnaryOp[]) {
      const pos = (a: Float32Array) => (op === 'log' || op === 'rsqrt' ? a.map((v) => Math.abs(v)) : a);
      check(`unary ${op}`, (b, up) => b.kernels.unary(op, up(pos(fine))), 1e-6);
      check(`unary ${op}`, (b, up) => b.kernels.unary(op, up(new Float32Array(edges))), 1e-6);
      check(`unary ${op}`, (b, up) => b.kernels.unary(op, up(mixed)), 1e-6);
    }
    // log over the whole positive range (subnormals to max) on a log-spaced grid.
    const lg = new Float32Array(4000);
    for (let i = 0; i < lg.length; i++) lg[i] = Math.fround(2 ** (-149 + (i / lg.length) * 277));
    check('unary log', (b, up) => b.kernels.unary('log', up(lg)), 1e-6);
    const ex = new Float32Array(4000);
    for (let i = 0; i < ex.length; i++) ex[i] = -110 + (i / ex.length) * 200;
    for (const op of ['exp', 'sigmoid', 'tanh', 'elu', 'gelu', 'erf'] as UnaryOp[]) {
      check(`unary ${op}`, (b, up) => b.kernels.unary(op, up(ex)), 1e-6);
    }
  });

  // dy·gelu'(x): relative error ≤ 1e-6 (measured ≤ 4.3 ulp) except around the root of gelu' (x ≈ −0.75), where
  // Φ(−a) − a·φ(a) cancels and the error is judged absolutely (measured ≤ 1.4e-7, floor 1; the mixed vectors'
  // ordinary lanes reach the root too: floor 0.2); x < −13, NaN and ±∞ lanes take the f64 path, alone or mixed
  // with ordinary lanes.
  it('geluBackward: fine sweep, the root of gelu\', range edges and mixed vectors', () => {
    const fine = Array.from({ length: 60001 }, (_, i) => -30 + i * 0.001);
    const ones = (n: number) => new Float32Array(n).fill(1);
    const grad = (xs: number[], dy: AnyTypedArray = ones(xs.length)) => (b: Backend, up: (d: AnyTypedArray) => Storage) =>
      b.kernels.geluBackward(up(dy), up(new Float32Array(xs)));
    check('geluBackward', grad(fine.filter((v) => v < -1.5 || v > -0.2)), 1e-6);
    check('geluBackward', grad(fine.filter((v) => v >= -1.5 && v <= -0.2)), 2e-7, 1);
    const edges = [-13, -13.01, -13.2, -14, -19.99, -20, -20.01, -25, -1e30, 13, 13.25, 13.26, 20, 1e30, 0, -0, 1e-40, -1e-40,
      NaN, Infinity, -Infinity];
    const mixed: number[] = [];
    for (const e of edges) for (let k = 0; k < 16; k++) mixed.push(k % 5 === 0 ? e : (rand() * 2 - 1) * 3);
    check('geluBackward', grad(edges), 1e-6);
    check('geluBackward', grad(mixed, randn(mixed.length, 2)), 1e-6, 0.2);
  });

  it('geluBackward rejects a dy of another size and non-f32 storages, naming the kernel', () => {
    for (const b of [js, wasm]) {
      const x = b.upload(new Float32Array(3));
      const dy = b.upload(new Float32Array(2));
      const xi = b.upload(new Int32Array(3));
      expect(() => b.kernels.geluBackward(dy, x)).toThrow(/^geluBackward: dy storage holds 2 elements, but its shape needs 3$/);
      expect(() => b.kernels.geluBackward(xi, x)).toThrow(/^geluBackward: dy has dtype i32; expected f32$/);
      expect(() => b.kernels.geluBackward(x, xi)).toThrow(/^geluBackward: x has dtype i32; expected f32$/);
      for (const s of [x, dy, xi]) b.free(s);
    }
  });

  it('unary accepts i32 and u8 inputs (as f32)', () => {
    check('unary', (b, up) => b.kernels.unary('exp', up(new Int32Array([0, 1, -2, 3]))), 1e-6);
    check('unary', (b, up) => b.kernels.unary('neg', up(new Uint8Array([0, 1, 1]))), 0);
  });

  const pairs: [number[], number[]][] = [
    [[3, 7], [3, 7]], [[3, 7], [7]], [[3, 1], [1, 7]], [[2, 3, 5], [3, 1]], [[], [17]], [[17], []], [[0, 3], [3]],
    [[127], [127]], [[2, 1, 33], [2, 4, 1]], [[1], [1]], [[5, 1, 1], [1, 3, 7]], [[2, 3, 4, 5], [3, 1, 5]],
  ];

  it('binary: every op, broadcasting shapes', () => {
    for (const op of BINARY_OPS) {
      for (const [as, bs] of pairs) {
        const a = randn(sizeOf(as), 3);
        const bv = randn(sizeOf(bs), 3);
        if (op === 'pow') a.forEach((v, i) => (a[i] = Math.abs(v) + 0.1));
        if (op === 'div') bv.forEach((v, i) => (bv[i] = Math.abs(v) < 0.05 ? 0.5 : v));
        check(`binary ${op}`, (b, up) => b.kernels.binary(op as BinaryOp, up(a), as, up(bv), bs), 1e-6);
        const ai = randInt(sizeOf(as), -1000, 1000);
        const bi = randInt(sizeOf(bs), -1000, 1000);
        if (op === 'pow') ai.forEach((v, i) => (ai[i] = Math.abs(v) % 4));
        if (op === 'pow') bi.forEach((v, i) => (bi[i] = Math.abs(v) % 5));
        if (op === 'div') bi.forEach((v, i) => (bi[i] = v === 0 ? 3 : v));
        check(`binary ${op}`, (b, up) => b.kernels.binary(op as BinaryOp, up(ai), as, up(bi), bs), 1e-6);
      }
    }
    // Mixed dtypes (a mask times a tensor) and i32 wrap-around.
    check('binary', (b, up) => b.kernels.binary('mul', up(new Uint8Array([1, 0, 1])), [3], up(randn(6)), [2, 3]), 0);
    check('binary', (b, up) => b.kernels.binary('add', up(new Int32Array([2147483647, 5])), [2], up(new Int32Array([1, -7])), [2]), 0);
    check('binary', (b, up) => b.kernels.binary('mul', up(new Int32Array([65536, 3])), [2], up(new Int32Array([65536, -7])), [2]), 0);
    check('binary', (b, up) => b.kernels.binary('max', up(new Float32Array([NaN, 1, -0])), [3], up(new Float32Array([1, NaN, 0])), [3]), 0);
  });

  it('compare: every op, broadcasting, f32 and i32', () => {
    for (const op of COMPARE_OPS) {
      for (const [as, bs] of pairs) {
        const a = randInt(sizeOf(as), -3, 3);
        const bi = randInt(sizeOf(bs), -3, 3);
        check(`compare ${op}`, (b, up) => b.kernels.compare(op as CompareOp, up(Float32Array.from(a)), as, up(Float32Array.from(bi)), bs), 0);
        check(`compare ${op}`, (b, up) => b.kernels.compare(op as CompareOp, up(a), as, up(bi), bs), 0);
        check(`compare ${op}`, (b, up) => b.kernels.compare(op as CompareOp, up(Float32Array.from(a)), as, up(bi), bs), 0);
      }
      check('compare', (b, up) => b.kernels.compare(op as CompareOp, up(new Float32Array([NaN, 1, 0, -0, Infinity])), [5], up(new Float32Array([NaN, NaN, -0, 0, Infinity])), [5]), 0);
    }
  });

  it('where: broadcasting, f32 / i32 / u8 / mixed', () => {
    const triples: [number[], number[], number[]][] = [
      [[3, 7], [3, 7], [3, 7]], [[7], [3, 7], []], [[3, 1], [1, 7], [7]], [[2, 3, 5], [5], [3, 1]], [[0, 3], [3], [1]],
      [[127], [127], [127]], [[1], [17], [1]], [[2, 1, 33], [4, 1], [2, 4, 33]],
    ];
    for (const [cs, as, bs] of triples) {
      const c = Uint8Array.from(randInt(sizeOf(cs), 0, 2));
      check('where', (b, up) => b.kernels.where(up(c), cs, up(randn(sizeOf(as))), as, up(randn(sizeOf(bs))), bs), 0);
      check('where', (b, up) => b.kernels.where(up(c), cs, up(randInt(sizeOf(as), -9, 9)), as, up(randInt(sizeOf(bs), -9, 9)), bs), 0);
      check('where', (b, up) => b.kernels.where(up(c), cs, up(Uint8Array.from(randInt(sizeOf(as), 0, 2))), as, up(Uint8Array.from(randInt(sizeOf(bs), 0, 2))), bs), 0);
      check('where', (b, up) => b.kernels.where(up(c), cs, up(randn(sizeOf(as))), as, up(randInt(sizeOf(bs), -9, 9)), bs), 0);
    }
  });
});

describe('wasm reductions, softmax and norms', () => {
  const shapes = [[3, 7], [2, 3, 5], [4, 1, 17], [0, 3], [2, 0, 3], [33], [], [1, 1, 1], [3, 127], [5, 6, 7, 2]];
  function subsets(r: number): number[][] {
    const out: number[][] = [];
    for (let m = 0; m < 1 << r; m++) out.push([...Array(r).keys()].filter((i) => (m >> i) & 1));
    return out;
  }

  it('reduce: sum / mean / max / min over every axis subset', () => {
    for (const op of REDUCE_OPS) {
      for (const shape of shapes) {
        const x = randn(sizeOf(shape), 2);
        for (const axes of subsets(shape.length)) {
          const k = axes.reduce((t, a) => t * shape[a]!, 1);
          check(`reduce ${op}`, (b, up) => b.kernels.reduce(op as ReduceOp, up(x), shape, axes), 1e-5 * Math.sqrt(Math.max(k, 1)), 1);
        }
      }
    }
    check('reduce', (b, up) => b.kernels.reduce('max', up(new Float32Array([1, NaN, 3, 2, 5, 4, 3, 2, 1])), [9], [0]), 0);
    check('reduce', (b, up) => b.kernels.reduce('sum', up(new Int32Array([1, 2, 3])), [3], [0]), 0);
  });

  it('argmax: ties, NaN, every axis', () => {
    for (const shape of [[3, 7], [2, 3, 5], [4, 1, 17], [33], [5, 6, 9], [0, 3]]) {
      const x = Float32Array.from(randInt(sizeOf(shape), -2, 3));
      if (x.length > 10) x[5] = NaN;
      for (let a = 0; a < shape.length; a++) {
        if (shape[a] === 0) continue;
        check('argmax', (b, up) => b.kernels.argmax(up(x), shape, a), 0);
      }
    }
  });

  it('softmax and logSoftmax', () => {
    for (const shape of [[3, 7], [2, 127], [1], [0, 5], [5, 1], [], [4, 33], [2, 3, 17]]) {
      const x = randn(sizeOf(shape), 8);
      check('softmax', (b, up) => b.kernels.softmax(up(x), shape), 1e-6);
      check('logSoftmax', (b, up) => b.kernels.logSoftmax(up(x), shape), 1e-6);
    }
    for (const shape of [[4, 96], [2, 512], [3, 1001]]) {
      const x = randn(sizeOf(shape), 8);
      for (let i = 0; i < x.length; i += 7) x[i] = -1e9;
      check('softmax', (b, up) => b.kernels.softmax(up(x), shape), 1e-6);
      check('logSoftmax', (b, up) => b.kernels.logSoftmax(up(x), shape), 1e-6);
    }
    const peaked = new Float32Array([30, 0, -5, 1, 2, 3, -Infinity, 29.9]);
    check('softmax', (b, up) => b.kernels.softmax(up(peaked), [8]), 1e-6);
    check('logSoftmax', (b, up) => b.kernels.logSoftmax(up(peaked), [8]), 1e-6);
  });

  it('layerNorm forward and backward', () => {
    for (const shape of [[3, 7], [2, 3, 33], [1, 1], [0, 5], [4, 127], [5, 4], [17]]) {
      const d = shape[shape.length - 1]!;
      const x = randn(sizeOf(shape), 3);
      const g = randn(d);
      const be = randn(d);
      const dy = randn(sizeOf(shape));
      // Outputs are unit-scale (normalized values, and gradients summing unit-scale terms): errors count
      // relative to max(|out|, 1). An output near 0 comes from cancelling terms (x̂·γ + β, Σ dy·x̂), where f32
      // arithmetic (the wasm kernel) is exact to ~1e-7 of the terms, not of the result.
      check('layerNorm', (b, up) => b.kernels.layerNorm(up(x), shape, up(g), up(be), 1e-5), 1e-6, 1);
      check('layerNormBackward', (b, up) => {
        const f = b.kernels.layerNorm(up(x), shape, up(g), up(be), 1e-5);
        const r = b.kernels.layerNormBackward(up(dy), up(x), shape, up(g), f.mean, f.rstd);
        b.free(f.y);
        b.free(f.mean);
        b.free(f.rstd);
        return r;
      }, 1e-5, 1);
    }
  });

  it('batchNormStats', () => {
    for (const shape of [[2, 3, 5], [4, 3, 1], [1, 7, 17], [0, 3, 2], [8, 33, 1], [3, 1, 127]] as [number, number, number][]) {
      const x = randn(sizeOf(shape), 2);
      check('batchNormStats', (b, up) => b.kernels.batchNormStats(up(x), shape), 1e-6, 1e-3);
    }
  });
});

describe('wasm indexing kernels', () => {
  it('indexSelect, gather, scatterAdd (f32, i32, u8 data)', () => {
    for (const [shape, axis] of [[[5, 7], 0], [[5, 7], 1], [[2, 3, 17], 1], [[4], 0], [[3, 0, 2], 0]] as [number[], number][]) {
      const len = shape[axis]!;
      for (const n of [0, 1, 3, 9]) {
        if (len === 0 && n > 0) continue;
        const idx = randInt(n, 0, len);
        check('indexSelect', (b, up) => b.kernels.indexSelect(up(randn(sizeOf(shape))), shape, axis, up(idx), n), 0);
        check('indexSelect', (b, up) => b.kernels.indexSelect(up(randInt(sizeOf(shape), 0, 9)), shape, axis, up(idx), n), 0);
      }
      if (len === 0) continue;
      const ishape = shape.map((d, i) => (i === axis ? d + 2 : Math.min(d, Math.max(1, d - 1))));
      const gidx = randInt(sizeOf(ishape), 0, len);
      check('gather', (b, up) => b.kernels.gather(up(randn(sizeOf(shape))), shape, axis, up(gidx), ishape), 0);
      check('gather', (b, up) => b.kernels.gather(up(Uint8Array.from(randInt(sizeOf(shape), 0, 2))), shape, axis, up(gidx), ishape), 0);
      const src = randn(sizeOf(ishape));
      check('scatterAdd', (b, up) => b.kernels.scatterAdd(up(src), up(gidx), ishape, axis, shape), 1e-6, 1e-3);
    }
  });

  it('bad indices throw an Error naming the kernel, index and position', () => {
    const x = wasm.upload(randn(12));
    const bad = wasm.upload(new Int32Array([0, 2, 5, 1]));
    expect(() => wasm.kernels.indexSelect(x, [3, 4], 0, bad, 4)).toThrow(/indexSelect: index 5 at position 2/);
    expect(() => wasm.kernels.gather(x, [3, 4], 0, bad, [1, 4])).toThrow(/gather: index 5 at position 2/);
    const src = wasm.upload(randn(4));
    expect(() => wasm.kernels.scatterAdd(src, bad, [1, 4], 0, [3, 4])).toThrow(/scatterAdd: index 5 at position 2/);
    wasm.free(src);
    const neg = wasm.upload(new Int32Array([0, -1]));
    expect(() => wasm.kernels.indexSelect(x, [3, 4], 1, neg, 2)).toThrow(/indexSelect: index -1 at position 1/);
    // oneHot: out-of-range → zero row, no error.
    check('oneHot', (b, up) => b.kernels.oneHot(up(new Int32Array([0, 5, -1, 2, 3])), 5, 4), 0);
    // maxPool1dBackward: -1 (empty window) is skipped, anything else out of [0, L) is an error.
    const dy = wasm.upload(randn(4));
    const pidx = wasm.upload(new Int32Array([0, -1, 7, 2]));
    expect(() => wasm.kernels.maxPool1dBackward(dy, pidx, [2, 2], [2, 5])).toThrow(/maxPool1dBackward: index 7 at position 2/);
    [x, bad, neg, dy, pidx].forEach((s) => wasm.free(s));
  });

  it('oneHot', () => {
    for (const [n, depth] of [[0, 3], [1, 1], [7, 3], [33, 17], [4, 0]] as [number, number][]) {
      check('oneHot', (b, up) => b.kernels.oneHot(up(randInt(n, -1, depth + 1)), n, depth), 0);
    }
  });

  it('topk: largest / smallest, ties and NaN', () => {
    for (const [shape, ks] of [[[3, 7], [0, 1, 3, 7]], [[2, 127], [5, 127]], [[1], [1]], [[4, 33], [17]], [[0, 5], [2]], [[17], [4]]] as [number[], number[]][]) {
      const x = Float32Array.from(randInt(sizeOf(shape), -4, 5));
      if (x.length > 20) x[11] = NaN;
      for (const k of ks) {
        for (const largest of [true, false]) check('topk', (b, up) => b.kernels.topk(up(x), shape, k, largest), 0);
      }
    }
  });
});

describe('wasm movement kernels', () => {
  it('cumsum', () => {
    for (const shape of [[3, 7], [2, 3, 5], [33], [4, 1, 17], [0, 3], [5, 127]]) {
      const x = randn(sizeOf(shape));
      for (let a = 0; a < shape.length; a++) {
        for (const rev of [false, true]) check('cumsum', (b, up) => b.kernels.cumsum(up(x), shape, a, rev), 1e-6, 1e-2);
      }
    }
  });

  it('roll', () => {
    for (const shape of [[3, 7], [2, 3, 5], [33], [0, 3]]) {
      const x = randn(sizeOf(shape));
      for (let a = 0; a < shape.length; a++) {
        for (const s of [0, 1, -2, 9, -40]) check('roll', (b, up) => b.kernels.roll(up(x), shape, a, s), 0);
      }
    }
    check('roll', (b, up) => b.kernels.roll(up(new Uint8Array([1, 0, 0, 1, 1])), [5], 0, 2), 0);
  });

  it('pad: zero / circular / replicate, negative pads crop', () => {
    const cases: [number[], [number, number][]][] = [
      [[3, 7], [[1, 2], [3, 0]]], [[2, 3, 5], [[0, 0], [2, 2], [1, 6]]], [[5], [[7, 3]]], [[4, 6], [[-1, 1], [2, -3]]],
      [[1, 1], [[2, 2], [2, 2]]], [[3, 17], [[0, 0], [0, 0]]], [[], []],
    ];
    for (const [shape, pads] of cases) {
      const x = randn(sizeOf(shape));
      for (const mode of ['zero', 'circular', 'replicate'] as PadMode[]) {
        check('pad', (b, up) => b.kernels.pad(up(x), shape, pads, mode), 0);
        check('pad', (b, up) => b.kernels.pad(up(Uint8Array.from(randInt(sizeOf(shape), 0, 2))), shape, pads, mode), 0);
      }
    }
    check('pad', (b, up) => b.kernels.pad(up(new Float32Array(0)), [0, 3], [[1, 1], [0, 0]], 'zero'), 0);
    const e = wasm.upload(new Float32Array(0));
    expect(() => wasm.kernels.pad(e, [0, 3], [[1, 0], [0, 0]], 'circular')).toThrow(/pad/);
    wasm.free(e);
  });

  it('concat and slice', () => {
    for (const [shapes, axis] of [
      [[[2, 3], [2, 5], [2, 1]], 1], [[[1, 7], [4, 7]], 0], [[[2, 0, 3], [2, 2, 3]], 1], [[[17]], 0], [[[3, 2, 5], [3, 1, 5]], 1],
    ] as [number[][], number][]) {
      check('concat', (b, up) => b.kernels.concat(shapes.map((s) => up(randn(sizeOf(s)))), shapes, axis), 0);
      check('concat', (b, up) => b.kernels.concat(shapes.map((s) => up(randInt(sizeOf(s), 0, 9))), shapes, axis), 0);
    }
    for (const [shape, begin, size] of [
      [[5, 7], [1, 2], [3, 4]], [[2, 3, 17], [0, 1, 3], [2, 2, 13]], [[33], [5], [0]], [[4, 6], [0, 0], [4, 6]], [[3, 4, 5], [1, 0, 0], [1, 4, 5]],
    ] as [number[], number[], number[]][]) {
      check('slice', (b, up) => b.kernels.slice(up(randn(sizeOf(shape))), shape, begin, size), 0);
      check('slice', (b, up) => b.kernels.slice(up(Uint8Array.from(randInt(sizeOf(shape), 0, 2))), shape, begin, size), 0);
    }
  });

  it('permute: transposes, general perms, u8', () => {
    const cases: [number[], number[]][] = [
      [[7, 5], [1, 0]], [[33, 17], [1, 0]], [[2, 9, 13], [0, 2, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 4, 5], [3, 1, 0, 2]],
      [[1, 5, 1], [2, 0, 1]], [[4, 4], [1, 0]], [[0, 3], [1, 0]], [[3], [0]], [[64, 40], [1, 0]], [[3, 1, 8], [1, 2, 0]],
    ];
    for (const [shape, perm] of cases) {
      check('permute', (b, up) => b.kernels.permute(up(randn(sizeOf(shape))), shape, perm), 0);
      check('permute', (b, up) => b.kernels.permute(up(Uint8Array.from(randInt(sizeOf(shape), 0, 2))), shape, perm), 0);
    }
  });
});

describe('wasm convolution and pooling', () => {
  const convs = [
    // [N, Cin, L, Cout, K, stride, dilation, padL, padR]
    [2, 3, 17, 4, 3, 1, 1, 1, 1], [1, 1, 7, 1, 1, 1, 1, 0, 0], [2, 5, 33, 3, 5, 2, 1, 2, 2], [1, 4, 16, 6, 3, 1, 2, 2, 2],
    [3, 2, 9, 2, 4, 3, 2, 0, 3], [1, 3, 5, 2, 7, 1, 1, 3, 3], [0, 3, 8, 2, 3, 1, 1, 1, 1], [2, 7, 127, 5, 3, 1, 1, 2, 0],
  ];
  it('conv1d and both backward kernels', () => {
    for (const [nb, cin, l, cout, k, stride, dilation, padLeft, padRight] of convs as number[][]) {
      const xShape = [nb!, cin!, l!];
      const wShape = [cout!, cin!, k!];
      const lout = Math.floor((l! + padLeft! + padRight! - dilation! * (k! - 1) - 1) / stride!) + 1;
      const x = randn(sizeOf(xShape));
      const w = randn(sizeOf(wShape));
      const dy = randn(nb! * cout! * lout);
      const geo = { stride: stride!, dilation: dilation!, padLeft: padLeft!, padRight: padRight! };
      const K = cin! * k!;
      check('conv1d', (b, up) => b.kernels.conv1d({ x: up(x), xShape, w: up(w), wShape, ...geo }), 1e-5 * Math.sqrt(K), 1);
      check('conv1dBackwardInput', (b, up) => b.kernels.conv1dBackwardInput(up(dy), [nb!, cout!, lout], { w: up(w), wShape, xShape, ...geo }), 1e-5 * Math.sqrt(cout! * k!), 1);
      check('conv1dBackwardWeight', (b, up) => b.kernels.conv1dBackwardWeight(up(dy), [nb!, cout!, lout], { x: up(x), xShape, wShape, ...geo }), 1e-5 * Math.sqrt(nb! * lout + 1), 1);
    }
  });

  it('avg and max pooling with their backward kernels', () => {
    for (const [shape, k, stride, pad] of [
      [[2, 3, 17], 3, 1, 1], [[1, 1, 7], 2, 2, 0], [[2, 2, 33], 5, 1, 2], [[3, 4, 16], 4, 3, 2], [[1, 2, 5], 5, 1, 2], [[0, 3, 8], 2, 2, 0],
      [[2, 127], 25, 1, 12], [[6], 3, 1, 0], [[1, 2, 9], 2, 1, 3], [[2, 3, 40], 3, 2, 1], [[1, 2, 33], 4, 2, 2],
    ] as [number[], number, number, number][]) {
      const x = Float32Array.from(randInt(sizeOf(shape), -3, 4)); // ties
      if (x.length > 8) x[8] = NaN;
      const l = shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const lout = Math.floor((l + 2 * pad - k) / stride) + 1;
      const dyShape = [...shape.slice(0, -1), lout];
      const dy = randn(rows * lout);
      check('avgPool1d', (b, up) => b.kernels.avgPool1d(up(randn(x.length)), shape, k, stride, pad), 1e-5 * Math.sqrt(k), 1e-2);
      check('avgPool1dBackward', (b, up) => b.kernels.avgPool1dBackward(up(dy), dyShape, shape, k, stride, pad), 1e-5 * Math.sqrt(k), 1e-2);
      check('maxPool1d', (b, up) => b.kernels.maxPool1d(up(x), shape, k, stride, pad), 0);
      check('maxPool1dBackward', (b, up) => {
        const f = b.kernels.maxPool1d(up(x), shape, k, stride, pad);
        const r = b.kernels.maxPool1dBackward(up(dy), f.indices, dyShape, shape);
        b.free(f.values);
        b.free(f.indices);
        return r;
      }, 1e-6, 1e-3);
    }
  });
});

describe('wasm spectral kernels', () => {
  it('rfft and irfft for any length, batched', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 12, 17, 30, 96, 97, 127, 144, 192]) {
      for (const lead of [[], [3], [2, 2]]) {
        const shape = [...lead, n];
        const x = randn(sizeOf(shape));
        const m = Math.floor(n / 2) + 1;
        // Error relative to the largest |X| of the transform (the FFT error scale).
        const ref = js.kernels.rfft(js.upload(x), shape);
        const scale = Math.max(...(js.readSync(ref) as Float32Array).map(Math.abs));
        js.free(ref);
        check('rfft', (b, up) => b.kernels.rfft(up(x), shape), 1e-5 * Math.sqrt(n), scale);
        const spec = randn(sizeOf(lead) * m * 2);
        check('irfft', (b, up) => b.kernels.irfft(up(spec), [...lead, m, 2], n), 1e-5 * Math.sqrt(n), 0.2);
      }
    }
    // Fewer / more bins than n needs.
    check('irfft', (b, up) => b.kernels.irfft(up(randn(2 * 3 * 2)), [2, 3, 2], 10), 1e-4, 0.2);
    check('irfft', (b, up) => b.kernels.irfft(up(randn(9 * 2)), [9, 2], 6), 1e-4, 0.2);
    check('rfft', (b, up) => b.kernels.rfft(up(new Float32Array(0)), [0, 8]), 0);
  });
});

describe('wasm kernels: randomized shapes vs js', () => {
  const ri = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const randShape = (maxRank: number, maxDim: number) => Array.from({ length: ri(0, maxRank) }, () => ri(0, maxDim));
  const shuffle = (a: number[]) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = ri(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };

  it('movement, reductions and broadcasting on random shapes', () => {
    for (let it = 0; it < 150; it++) {
      const shape = randShape(4, 5);
      const r = shape.length;
      const x = randn(sizeOf(shape));
      // Broadcast partner: drop leading dims, set some dims to 1.
      const other = shape.slice(ri(0, r)).map((d) => (rand() < 0.4 ? 1 : d));
      const y = randn(sizeOf(other));
      check('binary', (b, up) => b.kernels.binary('sub', up(x), shape, up(y), other), 1e-6);
      check('where', (b, up) => b.kernels.where(up(Uint8Array.from(randInt(sizeOf(other), 0, 2))), other, up(x), shape, up(y), other), 0);
      if (r === 0) continue;
      const axes = [...Array(r).keys()].filter(() => rand() < 0.5);
      check('reduce', (b, up) => b.kernels.reduce('mean', up(x), shape, axes), 1e-4, 1);
      check('reduce', (b, up) => b.kernels.reduce('min', up(x), shape, axes), 0);
      check('permute', (b, up) => b.kernels.permute(up(x), shape, shuffle([...Array(r).keys()])), 0);
      const begin = shape.map((d) => ri(0, d));
      const size = shape.map((d, i) => ri(0, d - begin[i]!));
      check('slice', (b, up) => b.kernels.slice(up(x), shape, begin, size), 0);
      const pads = shape.map((d) => [ri(-Math.min(d, 2), 3), ri(-1, 3)] as [number, number]);
      if (pads.every(([p, q], i) => shape[i]! + p + q >= 0)) {
        const mode = (['zero', 'circular', 'replicate'] as PadMode[])[ri(0, 2)]!;
        if (mode === 'zero' || sizeOf(shape) > 0) check('pad', (b, up) => b.kernels.pad(up(x), shape, pads, mode), 0);
      }
      const axis = ri(0, r - 1);
      check('cumsum', (b, up) => b.kernels.cumsum(up(x), shape, axis, rand() < 0.5), 1e-5, 1);
      check('roll', (b, up) => b.kernels.roll(up(x), shape, axis, ri(-7, 7)), 0);
      if (shape[axis]! > 0) {
        const ishape = shape.map((d, i) => (i === axis ? ri(0, 4) : ri(0, d)));
        const idx = randInt(sizeOf(ishape), 0, shape[axis]!);
        check('gather', (b, up) => b.kernels.gather(up(x), shape, axis, up(idx), ishape), 0);
        check('scatterAdd', (b, up) => b.kernels.scatterAdd(up(randn(sizeOf(ishape))), up(idx), ishape, axis, shape), 1e-5, 1);
        check('argmax', (b, up) => b.kernels.argmax(up(x), shape, axis), 0);
      }
      const parts = [shape, shape.map((d, i) => (i === axis ? ri(0, 3) : d))];
      check('concat', (b, up) => b.kernels.concat(parts.map((s) => up(randn(sizeOf(s)))), parts, axis), 0);
    }
  });

  it('conv1d and pooling on random geometry', () => {
    for (let it = 0; it < 60; it++) {
      const [nb, cin, cout, k, stride, dilation] = [ri(0, 3), ri(1, 6), ri(1, 9), ri(1, 5), ri(1, 3), ri(1, 3)];
      const [padLeft, padRight] = [ri(0, 3), ri(0, 3)];
      const l = ri(Math.max(1, dilation * (k - 1) + 1 - padLeft - padRight), 40);
      const lout = Math.floor((l + padLeft + padRight - dilation * (k - 1) - 1) / stride) + 1;
      const xShape = [nb, cin, l];
      const wShape = [cout, cin, k];
      const x = randn(sizeOf(xShape));
      const w = randn(sizeOf(wShape));
      const dy = randn(nb * cout * lout);
      const geo = { stride, dilation, padLeft, padRight };
      check('conv1d', (b, up) => b.kernels.conv1d({ x: up(x), xShape, w: up(w), wShape, ...geo }), 1e-5 * Math.sqrt(cin * k), 1);
      check('conv1dBackwardInput', (b, up) => b.kernels.conv1dBackwardInput(up(dy), [nb, cout, lout], { w: up(w), wShape, xShape, ...geo }), 1e-5 * Math.sqrt(cout * k), 1);
      check('conv1dBackwardWeight', (b, up) => b.kernels.conv1dBackwardWeight(up(dy), [nb, cout, lout], { x: up(x), xShape, wShape, ...geo }), 1e-5 * Math.sqrt(nb * lout + 1), 1);
      const pk = ri(1, 6);
      const pad = ri(0, Math.floor(pk / 2));
      const ps = ri(1, 3);
      if (l + 2 * pad < pk) continue;
      const plout = Math.floor((l + 2 * pad - pk) / ps) + 1;
      const pdy = randn(nb * cin * plout);
      check('avgPool1d', (b, up) => b.kernels.avgPool1d(up(x), xShape, pk, ps, pad), 1e-5 * Math.sqrt(pk), 1e-2);
      check('avgPool1dBackward', (b, up) => b.kernels.avgPool1dBackward(up(pdy), [nb, cin, plout], xShape, pk, ps, pad), 1e-5 * Math.sqrt(pk), 1e-2);
      check('maxPool1d', (b, up) => b.kernels.maxPool1d(up(x), xShape, pk, ps, pad), 0);
    }
  });
});

describe('wasm kernels: memory', () => {
  it('leave no temporaries behind (every check freed its inputs and outputs)', () => {
    expect(wasm.bytesInUse()).toBe(bytesAtStart);
  });
});

describe('a wasm backend with the forward families only (sparsecast/infer)', () => {
  it('says it lacks the training kernels and refuses them by name', () => {
    const be = new WasmBackend(new WasmRuntime(new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {})), FORWARD_FAMILIES);
    // attention: the inference module has no fused-attention kernels, so the forward glue leaves it out and the
    // models take their unfused path (with the full module too: both forecast the same bits).
    for (const k of ['spmm', 'sddmm', 'maskedTopK', 'adam', 'dropoutMask', 'attention', 'denseToBsr', 'bsrToDense', 'bsrSddmm', 'denseFanInT', 'denseToFanIn', 'fanInToDense', 'fanInDense', 'fanInSddmm'] as const) {
      expect(be.supports(k), k).toBe(false);
      expect(() => (be.kernels[k] as () => unknown)(), k).toThrow(new RegExp(`wasm: kernel '${k}' is not in this backend`));
    }
    expect(be.supports('matmul')).toBe(true);
    expect(be.supports('denseCsrT')).toBe(true);
    expect(be.supports('denseBsrT')).toBe(true); // block-encoded weights of sparsecast/infer
  });
});
