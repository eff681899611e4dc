/**
 * The webgpu backend against the js reference, kernel by kernel, on small shapes (size 1, broadcasting, odd
 * sizes, empty dimensions), plus memory accounting. Runs in Node on Dawn (npm `webgpu`); without a GPU,
 * Mesa's lavapipe provides the adapter (scripts/setup-webgpu.sh). Without any adapter these tests FAIL with
 * the backend's explanation; they never skip.
 *
 * Tolerances (DESIGN.md §2): elementwise |got − ref| ≤ 1e-6·max(|ref|, 1e-1) — relative, with a floor near
 * zero where no f32 implementation can be relatively exact (sin near kπ, erfc differences); reductions and
 * matmul |got − ref| ≤ 1e-5·√K·max(|ref|, 1) with K the reduced length. Integer and mask results are exact,
 * uniform/bernoulli random streams are bit-exact.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnyTypedArray, Backend, FanInStorage, Storage } from '../src/backend/kernels.ts';
import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_OPS } from '../src/backend/kernels.ts';
import { KERNEL_NAMES } from '../src/backend/kernels.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { Adam } from '../src/train/adam.ts';
import { Transformer } from '../src/models/transformer.ts';
import { defaultConfig } from '../src/models/config.ts';
import { baseKernel } from './conformance/cases.ts';
import { runConformanceAsync } from './conformance/run.ts';
import { tinyRun, TINY } from './shared/tiny-run.ts';
import { attentionCases, runAttentionPaths, runInterleavedHeads } from './shared/attention-paths.ts';
import { compareOutput } from './conformance/run.ts';

// The shader map is generated from shaders/*.wgsl (git-ignored); make sure it is current.
execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build-shaders.mjs', import.meta.url))]);
const { createWebGpuBackend } = await import('../src/backend/webgpu/backend.ts');
type WebGpuBackend = Awaited<ReturnType<typeof createWebGpuBackend>>;

let gpu: WebGpuBackend;
const js = createJsBackend();
const worst = new Map<string, number>();

let initError: unknown;
beforeAll(async () => {
  try {
    gpu = await createWebGpuBackend();
  } catch (e) {
    initError = e;
  }
});
// Without an adapter every test fails with the backend's explanation (a failing beforeAll would only skip).
beforeEach(() => {
  if (initError) throw initError;
});

afterAll(() => {
  const lines = [...worst.entries()].map(([k, v]) => `${k.padEnd(28)} ${v.toExponential(2)}`);
  console.log(`webgpu vs js, worst scaled error per kernel:\n${lines.join('\n')}`);
});

/** Deterministic pseudo-random values in [lo, hi). */
function rand(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return out;
}
function randInt(n: number, seed: number, lo: number, hi: number): Int32Array {
  return Int32Array.from(rand(n, seed, 0, 1), (u) => lo + Math.min(hi - lo - 1, Math.floor(u * (hi - lo))));
}
function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Upload the same data to both backends. */
function both(data: AnyTypedArray): [Storage, Storage] {
  return [gpu.upload(data), js.upload(data)];
}

async function readAll(b: Backend, s: Storage): Promise<AnyTypedArray> {
  const r = await b.read(s);
  b.free(s);
  return r;
}

type Tol = { kind: 'exact' } | { kind: 'elementwise' } | { kind: 'reduce'; k: number };

function sameValue(g: number, r: number): boolean {
  return Object.is(g, r) || (Number.isNaN(g) && Number.isNaN(r)) || g === r;
}

/** Compare a gpu storage with a js storage (frees both), recording the worst scaled error. */
async function compare(name: string, g: Storage, r: Storage, tol: Tol = { kind: 'elementwise' }): Promise<void> {
  const got = await readAll(gpu, g);
  const ref = await readAll(js, r);
  expect(got.constructor.name, `${name}: dtype`).toBe(ref.constructor.name);
  expect(got.length, `${name}: length`).toBe(ref.length);
  let worstErr = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = got[i]!;
    const b = ref[i]!;
    if (sameValue(a, b)) continue;
    if (tol.kind === 'exact' || !Number.isFinite(b) || !Number.isFinite(a)) {
      expect.fail(`${name}: element ${i}: got ${a}, expected ${b}`);
    }
    const scale = tol.kind === 'elementwise' ? 1e-6 * Math.max(Math.abs(b), 1e-1)
      : 1e-5 * Math.sqrt(Math.max(tol.k, 1)) * Math.max(Math.abs(b), 1);
    const err = Math.abs(a - b) / scale;
    worstErr = Math.max(worstErr, err);
    if (err > 1) expect.fail(`${name}: element ${i}: got ${a}, expected ${b} (${err.toFixed(2)}x tolerance)`);
  }
  const key = name.split(/ [[{]/)[0]!.trim();
  worst.set(key, Math.max(worst.get(key) ?? 0, worstErr));
}

const SHAPE_PAIRS: Array<[number[], number[]]> = [
  [[], []],
  [[1], [1]],
  [[7], [7]],
  [[3, 5], [3, 5]],
  [[3, 5], [5]],
  [[3, 1], [1, 4]],
  [[2, 3, 4], [3, 1]],
  [[0, 3], [3]],
  [[4, 0], [4, 1]],
  [[2, 1, 3, 1, 2], [1, 5, 1, 4, 1]],
  [[37, 29], [37, 29]],
];

describe('webgpu backend', () => {
  it('reports its name, has no readSync, and reads back uploads of every dtype', async () => {
    expect(gpu.name).toBe('webgpu');
    expect((gpu as unknown as { readSync?: unknown }).readSync).toBeUndefined();
    const f = new Float32Array([1.5, -2, 3e-8, NaN, Infinity]);
    const i = new Int32Array([-5, 0, 2147483647, -2147483648]);
    const u = new Uint8Array([0, 1, 255, 7, 0, 1]);
    for (const data of [f, i, u, new Float32Array(0), new Uint8Array(0)]) {
      const s = gpu.upload(data);
      expect(s.size).toBe(data.length);
      expect(await gpu.read(s)).toEqual(data);
      gpu.free(s);
    }
    const z = gpu.alloc(9, 'u8');
    expect(await gpu.read(z)).toEqual(new Uint8Array(9));
    gpu.free(z);
  });

  it('fill and cast', async () => {
    for (const [dtype, value] of [['f32', 1.25], ['i32', -7.9], ['u8', 3], ['u8', 0], ['i32', 3e10], ['f32', NaN]] as const) {
      for (const n of [0, 1, 130]) {
        await compare(`fill ${dtype} ${value} [${n}]`, gpu.kernels.fill(n, dtype, value), js.kernels.fill(n, dtype, value), { kind: 'exact' });
      }
    }
    const f = new Float32Array([0, -0.5, 1.7, -2.9, 3e9, -3e9, NaN, 255, 256, -1]);
    const srcs: AnyTypedArray[] = [f, new Int32Array([0, 5, -3, 2147483647]), new Uint8Array([0, 1, 1, 0, 1])];
    for (const data of srcs) {
      for (const to of ['f32', 'i32', 'u8'] as const) {
        const [g, j] = both(data);
        await compare(`cast ${data.constructor.name}→${to}`, gpu.kernels.cast(g, to), js.kernels.cast(j, to), { kind: 'exact' });
        gpu.free(g);
        js.free(j);
      }
    }
  });

  it('random: uniform and bernoulli bit-exact, normal close', async () => {
    for (const [seed, offset] of [[0, 0], [42, 3], [2 ** 40 + 7, 2 ** 33 - 5], [123456789, 2 ** 32 - 2]] as Array<[number, number]>) {
      for (const n of [0, 1, 5, 257]) {
        await compare(`random uniform ${seed}/${offset}`, gpu.kernels.random(n, 'uniform', seed, offset, 0), js.kernels.random(n, 'uniform', seed, offset, 0), { kind: 'exact' });
        await compare(`random bernoulli ${seed}/${offset}`, gpu.kernels.random(n, 'bernoulli', seed, offset, 0.3), js.kernels.random(n, 'bernoulli', seed, offset, 0.3), { kind: 'exact' });
        await compare(`random normal ${seed}/${offset}`, gpu.kernels.random(n, 'normal', seed, offset, 0), js.kernels.random(n, 'normal', seed, offset, 0), { kind: 'reduce', k: 1 });
      }
    }
  });

  it('unary ops', async () => {
    const special = new Float32Array([0, -0, 1, -1, 0.5, -0.5, 1e-3, -1e-3, 3.14159, 10, -10, 20, -20, 80, -80, 1e-8, NaN, Infinity, -Infinity]);
    const data = new Float32Array([...special, ...rand(200, 1, -6, 6)]);
    for (const op of UNARY_OPS) {
      let input = data;
      if (op === 'log' || op === 'sqrt' || op === 'rsqrt') input = data.map(Math.abs);
      const [g, j] = both(input);
      await compare(`unary ${op}`, gpu.kernels.unary(op, g), js.kernels.unary(op, j));
      gpu.free(g);
      js.free(j);
    }
    const [g, j] = both(new Int32Array([-3, 0, 4]));
    await compare('unary neg i32', gpu.kernels.unary('neg', g), js.kernels.unary('neg', j));
    gpu.free(g);
    js.free(j);
  });

  it('binary ops with broadcasting', async () => {
    for (const [as, bs] of SHAPE_PAIRS) {
      const a = rand(size(as), 3, -3, 3);
      const b = rand(size(bs), 4, -3, 3);
      for (const op of BINARY_OPS) {
        let bd = b;
        if (op === 'pow') bd = b.map((v, i) => (i % 3 === 0 ? Math.round(v) : v));
        const [ga, ja] = both(a);
        const [gb, jb] = both(bd);
        await compare(`binary ${op} [${as}]x[${bs}]`, gpu.kernels.binary(op, ga, as, gb, bs), js.kernels.binary(op, ja, as, jb, bs));
        gpu.free(ga); gpu.free(gb); js.free(ja); js.free(jb);
      }
    }
    // i32 arithmetic (wrapping) and mixed dtypes.
    const ia = new Int32Array([2147483647, -5, 7, 0, 3, -2]);
    const ib = new Int32Array([1, 3, -7, 9, 3, 4]);
    for (const op of BINARY_OPS) {
      const [ga, ja] = both(ia);
      const [gb, jb] = both(ib);
      await compare(`binary i32 ${op}`, gpu.kernels.binary(op, ga, [6], gb, [6]), js.kernels.binary(op, ja, [6], jb, [6]), { kind: op === 'div' || op === 'pow' ? 'elementwise' : 'exact' });
      const [gf, jf] = both(rand(6, 9));
      await compare(`binary mixed ${op}`, gpu.kernels.binary(op, ga, [6], gf, [6]), js.kernels.binary(op, ja, [6], jf, [6]));
      gpu.free(ga); gpu.free(gb); gpu.free(gf); js.free(ja); js.free(jb); js.free(jf);
    }
  });

  it('compare and where with broadcasting', async () => {
    for (const [as, bs] of SHAPE_PAIRS) {
      const a = rand(size(as), 5, -2, 2).map(Math.round);
      const b = rand(size(bs), 6, -2, 2).map(Math.round);
      const [ga, ja] = both(a);
      const [gb, jb] = both(b);
      for (const op of COMPARE_OPS) {
        await compare(`compare ${op} [${as}]x[${bs}]`, gpu.kernels.compare(op, ga, as, gb, bs), js.kernels.compare(op, ja, as, jb, bs), { kind: 'exact' });
      }
      const cond = Uint8Array.from(rand(size(bs), 7, 0, 1), (u) => (u < 0.5 ? 1 : 0));
      const [gc, jc] = both(cond);
      await compare(`where [${bs}]?[${as}]:[${bs}]`, gpu.kernels.where(gc, bs, ga, as, gb, bs), js.kernels.where(jc, bs, ja, as, jb, bs), { kind: 'exact' });
      gpu.free(ga); gpu.free(gb); gpu.free(gc); js.free(ja); js.free(jb); js.free(jc);
    }
    // NaN comparisons, i32 compare, u8 / i32 / mixed where.
    const [gn, jn] = both(new Float32Array([NaN, 1, NaN]));
    const [g1, j1] = both(new Float32Array([1, NaN, NaN]));
    for (const op of COMPARE_OPS) {
      await compare(`compare NaN ${op}`, gpu.kernels.compare(op, gn, [3], g1, [3]), js.kernels.compare(op, jn, [3], j1, [3]), { kind: 'exact' });
    }
    const [gi, ji] = both(new Int32Array([16777217, -3, 5]));
    const [gj, jj] = both(new Int32Array([16777216, -3, 6]));
    for (const op of COMPARE_OPS) {
      await compare(`compare i32 ${op}`, gpu.kernels.compare(op, gi, [3], gj, [3]), js.kernels.compare(op, ji, [3], jj, [3]), { kind: 'exact' });
    }
    const [gc, jc] = both(new Uint8Array([1, 0, 1]));
    const [gu, ju] = both(new Uint8Array([1, 1, 0]));
    await compare('where i32', gpu.kernels.where(gc, [3], gi, [3], gj, [3]), js.kernels.where(jc, [3], ji, [3], jj, [3]), { kind: 'exact' });
    await compare('where u8', gpu.kernels.where(gc, [3], gu, [3], gc, [3]), js.kernels.where(jc, [3], ju, [3], jc, [3]), { kind: 'exact' });
    await compare('where mixed', gpu.kernels.where(gc, [3], gi, [3], gn, [3]), js.kernels.where(jc, [3], ji, [3], jn, [3]), { kind: 'exact' });
    for (const s of [gn, g1, gi, gj, gc, gu]) gpu.free(s);
    for (const s of [jn, j1, ji, jj, jc, ju]) js.free(s);
  });

  it('reduce and argmax', async () => {
    const cases: Array<[number[], number[]]> = [
      [[], []], [[1], [0]], [[7], [0]], [[3, 5], [0]], [[3, 5], [1]], [[3, 5], [0, 1]], [[2, 3, 4], [0, 2]],
      [[2, 3, 4], [1]], [[4, 1, 6], [1, 2]], [[0, 4], [0]], [[0, 4], [1]], [[300], [0]], [[5, 130], [1]],
      [[2, 2, 2, 2, 2, 2, 2, 2, 2, 3], [1, 3, 5, 7, 9]],
    ];
    for (const [shape, axes] of cases) {
      const x = rand(size(shape), 11);
      const k = axes.reduce((p, a) => p * shape[a]!, 1);
      const [g, j] = both(x);
      for (const op of REDUCE_OPS) {
        await compare(`reduce ${op} [${shape}] axes [${axes}]`, gpu.kernels.reduce(op, g, shape, axes), js.kernels.reduce(op, j, shape, axes), { kind: 'reduce', k });
      }
      for (let axis = 0; axis < shape.length; axis++) {
        if (shape[axis] === 0) continue;
        await compare(`argmax [${shape}] axis ${axis}`, gpu.kernels.argmax(g, shape, axis), js.kernels.argmax(j, shape, axis), { kind: 'exact' });
      }
      gpu.free(g);
      js.free(j);
    }
    const [g, j] = both(new Float32Array([1, 3, 3, NaN, 2, 5, 5, 1]));
    await compare('argmax ties/NaN', gpu.kernels.argmax(g, [2, 4], 1), js.kernels.argmax(j, [2, 4], 1), { kind: 'exact' });
    await compare('reduce max NaN', gpu.kernels.reduce('max', g, [2, 4], [1]), js.kernels.reduce('max', j, [2, 4], [1]), { kind: 'exact' });
    gpu.free(g);
    js.free(j);
  });

  it('softmax and logSoftmax', async () => {
    for (const shape of [[1], [5], [3, 7], [2, 3, 130], [4, 0], [0, 3], [2, 1]]) {
      const x = rand(size(shape), 13, -8, 8);
      const [g, j] = both(x);
      const d = shape[shape.length - 1]!;
      await compare(`softmax [${shape}]`, gpu.kernels.softmax(g, shape), js.kernels.softmax(j, shape), { kind: 'reduce', k: d });
      await compare(`logSoftmax [${shape}]`, gpu.kernels.logSoftmax(g, shape), js.kernels.logSoftmax(j, shape), { kind: 'reduce', k: d });
      gpu.free(g);
      js.free(j);
    }
  });

  it('layerNorm forward/backward and batchNormStats', async () => {
    for (const shape of [[1, 1], [3, 8], [2, 3, 67], [1, 200], [0, 4], [3, 0]]) {
      const d = shape[shape.length - 1]!;
      const rows = size(shape) / d;
      const [gx, jx] = both(rand(rows * d, 21, -3, 3));
      const [gg, jg] = both(rand(d, 22, 0.5, 1.5));
      const [gb, jb] = both(rand(d, 23));
      const gl = gpu.kernels.layerNorm(gx, shape, gg, gb, 1e-5);
      const jl = js.kernels.layerNorm(jx, shape, jg, jb, 1e-5);
      const [gdy, jdy] = both(rand(rows * d, 24));
      const gbw = gpu.kernels.layerNormBackward(gdy, gx, shape, gg, gl.mean, gl.rstd);
      const jbw = js.kernels.layerNormBackward(jdy, jx, shape, jg, jl.mean, jl.rstd);
      const tol: Tol = { kind: 'reduce', k: d };
      await compare(`layerNorm y [${shape}]`, gl.y, jl.y, tol);
      await compare(`layerNorm mean [${shape}]`, gl.mean, jl.mean, tol);
      await compare(`layerNorm rstd [${shape}]`, gl.rstd, jl.rstd, tol);
      await compare(`layerNormBackward dx [${shape}]`, gbw.dx, jbw.dx, tol);
      await compare(`layerNormBackward dgamma [${shape}]`, gbw.dgamma, jbw.dgamma, { kind: 'reduce', k: rows });
      await compare(`layerNormBackward dbeta [${shape}]`, gbw.dbeta, jbw.dbeta, { kind: 'reduce', k: rows });
      for (const s of [gx, gg, gb, gdy]) gpu.free(s);
      for (const s of [jx, jg, jb, jdy]) js.free(s);
    }
    for (const shape of [[1, 1, 1], [4, 3, 5], [2, 7, 1], [1, 2, 150], [16, 70, 1]] as Array<[number, number, number]>) {
      const [g, j] = both(rand(size(shape), 25, -2, 4));
      const gs = gpu.kernels.batchNormStats(g, shape);
      const jst = js.kernels.batchNormStats(j, shape);
      const k = shape[0] * shape[2];
      await compare(`batchNormStats mean [${shape}]`, gs.mean, jst.mean, { kind: 'reduce', k });
      await compare(`batchNormStats variance [${shape}]`, gs.variance, jst.variance, { kind: 'reduce', k });
      gpu.free(g);
      js.free(j);
    }
  });

  it('matmul: transposes, batch broadcasting, bias, odd sizes', async () => {
    const cases: Array<{ a: number[]; b: number[]; ta?: boolean; tb?: boolean; bias?: boolean }> = [
      { a: [1, 1], b: [1, 1] },
      { a: [3, 5], b: [5, 7] },
      { a: [5, 3], b: [5, 7], ta: true },
      { a: [3, 5], b: [7, 5], tb: true },
      { a: [5, 3], b: [7, 5], ta: true, tb: true, bias: true },
      { a: [2, 3, 33, 17], b: [17, 65], bias: true },
      { a: [2, 1, 4, 6], b: [3, 6, 5] },
      { a: [4, 70, 40], b: [4, 70, 30], ta: true },
      { a: [0, 4], b: [4, 3] },
      { a: [3, 0], b: [0, 2] },
      { a: [2, 0, 3, 4], b: [4, 2] },
      { a: [129, 64], b: [64, 67] },
    ];
    for (const c of cases) {
      const [ga, ja] = both(rand(size(c.a), 31));
      const [gb, jb] = both(rand(size(c.b), 32));
      const ta = c.ta ?? false;
      const tb = c.tb ?? false;
      const n = tb ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
      const k = ta ? c.a[c.a.length - 2]! : c.a[c.a.length - 1]!;
      const [gbias, jbias] = c.bias ? both(rand(n, 33)) : [undefined, undefined];
      const g = gpu.kernels.matmul({ a: ga, b: gb, aShape: c.a, bShape: c.b, transA: ta, transB: tb, bias: gbias });
      const j = js.kernels.matmul({ a: ja, b: jb, aShape: c.a, bShape: c.b, transA: ta, transB: tb, bias: jbias });
      await compare(`matmul [${c.a}]${ta ? 'ᵀ' : ''}·[${c.b}]${tb ? 'ᵀ' : ''}${c.bias ? '+bias' : ''}`, g, j, { kind: 'reduce', k });
      gpu.free(ga); gpu.free(gb); js.free(ja); js.free(jb);
      if (gbias) gpu.free(gbias);
      if (jbias) js.free(jbias);
    }
  });

  it('permute, slice, pad, roll, concat, cumsum', async () => {
    const shapes = [[1], [7], [3, 5], [2, 3, 4], [2, 1, 3, 2], [0, 3], [4, 0, 2]];
    for (const shape of shapes) {
      const n = size(shape);
      for (const data of [rand(n, 51), randInt(n, 52, -9, 9), Uint8Array.from(randInt(n, 53, 0, 2))] as AnyTypedArray[]) {
        const [g, j] = both(data);
        const tag = `${data.constructor.name} [${shape}]`;
        const perm = shape.map((_, i) => shape.length - 1 - i);
        await compare(`permute ${tag}`, gpu.kernels.permute(g, shape, perm), js.kernels.permute(j, shape, perm), { kind: 'exact' });
        if (shape.length >= 3) {
          const p2 = [1, 0, ...shape.slice(2).map((_, i) => i + 2)];
          await compare(`permute ${tag} ${p2}`, gpu.kernels.permute(g, shape, p2), js.kernels.permute(j, shape, p2), { kind: 'exact' });
        }
        const begin = shape.map((d) => (d > 1 ? 1 : 0));
        const sz = shape.map((d, i) => Math.max(0, d - begin[i]! - (d > 2 ? 1 : 0)));
        await compare(`slice ${tag}`, gpu.kernels.slice(g, shape, begin, sz), js.kernels.slice(j, shape, begin, sz), { kind: 'exact' });
        for (const mode of ['zero', 'circular', 'replicate'] as const) {
          if (mode !== 'zero' && shape.includes(0)) continue;
          const pads = shape.map((_, i) => [i % 2 === 0 ? 2 : 0, i === 0 ? 3 : 1] as [number, number]);
          await compare(`pad ${mode} ${tag}`, gpu.kernels.pad(g, shape, pads, mode), js.kernels.pad(j, shape, pads, mode), { kind: 'exact' });
        }
        for (let axis = 0; axis < shape.length; axis++) {
          for (const shift of [1, -2, 9]) {
            await compare(`roll ${tag} ${axis} ${shift}`, gpu.kernels.roll(g, shape, axis, shift), js.kernels.roll(j, shape, axis, shift), { kind: 'exact' });
          }
          const other = shape.map((d, i) => (i === axis ? 2 : d));
          const od = data instanceof Float32Array ? rand(size(other), 54) : data instanceof Int32Array ? randInt(size(other), 55, -3, 3) : Uint8Array.from(randInt(size(other), 56, 0, 2));
          const [g2, j2] = both(od);
          await compare(`concat ${tag} axis ${axis}`, gpu.kernels.concat([g, g2, g], [shape, other, shape], axis), js.kernels.concat([j, j2, j], [shape, other, shape], axis), { kind: 'exact' });
          gpu.free(g2);
          js.free(j2);
          if (data instanceof Float32Array) {
            for (const rev of [false, true]) {
              await compare(`cumsum ${tag} ${axis} ${rev}`, gpu.kernels.cumsum(g, shape, axis, rev), js.kernels.cumsum(j, shape, axis, rev), { kind: 'reduce', k: shape[axis]! });
            }
          }
        }
        gpu.free(g);
        js.free(j);
      }
    }
    const [g, j] = both(rand(300, 57));
    await compare('cumsum long', gpu.kernels.cumsum(g, [300], 0, false), js.kernels.cumsum(j, [300], 0, false), { kind: 'reduce', k: 300 });
    gpu.free(g);
    js.free(j);
  });

  it('indexSelect, gather, scatterAdd, oneHot', async () => {
    for (const [shape, axis] of [[[5], 0], [[4, 3], 0], [[4, 3], 1], [[2, 5, 3], 1], [[3, 0], 0]] as Array<[number[], number]>) {
      const [gx, jx] = both(rand(size(shape), 61));
      const len = shape[axis]!;
      for (const n of len > 0 ? [0, 1, 6] : [0]) {
        const [gi, ji] = both(randInt(n, 62 + n, 0, len));
        await compare(`indexSelect [${shape}] axis ${axis} n ${n}`, gpu.kernels.indexSelect(gx, shape, axis, gi, n), js.kernels.indexSelect(jx, shape, axis, ji, n), { kind: 'exact' });
        gpu.free(gi);
        js.free(ji);
      }
      if (len > 0) {
        // index shape: axis length 4 (repeats), other dims the same or smaller.
        const ishape = shape.map((d, i) => (i === axis ? 4 : Math.min(d, Math.max(1, d - (i % 2)))));
        const [gi, ji] = both(randInt(size(ishape), 63, 0, len));
        await compare(`gather [${shape}] axis ${axis}`, gpu.kernels.gather(gx, shape, axis, gi, ishape), js.kernels.gather(jx, shape, axis, ji, ishape), { kind: 'exact' });
        const [gs, jsrc] = both(rand(size(ishape), 64));
        await compare(`scatterAdd [${shape}] axis ${axis}`, gpu.kernels.scatterAdd(gs, gi, ishape, axis, shape), js.kernels.scatterAdd(jsrc, ji, ishape, axis, shape), { kind: 'reduce', k: 4 });
        gpu.free(gi); gpu.free(gs); js.free(ji); js.free(jsrc);
      }
      gpu.free(gx);
      js.free(jx);
    }
    const [gi, ji] = both(new Int32Array([0, 3, -1, 7, 2]));
    await compare('oneHot', gpu.kernels.oneHot(gi, 5, 4), js.kernels.oneHot(ji, 5, 4), { kind: 'exact' });
    gpu.free(gi);
    js.free(ji);
    const [ge, je] = both(new Int32Array(0));
    await compare('oneHot empty', gpu.kernels.oneHot(ge, 0, 4), js.kernels.oneHot(je, 0, 4), { kind: 'exact' });
    gpu.free(ge);
    js.free(je);
  });

  it('topk and maskedTopK (ties by lower index, NaN highest)', async () => {
    const tied = new Float32Array([3, 1, 3, NaN, -2, 1, 0, 3, -0, 5, 5, 2]);
    for (const [data, shape] of [[tied, [2, 6]], [tied, [12]], [rand(7 * 33, 71).map((v) => Math.round(v * 3)), [7, 33]], [new Float32Array(0), [3, 0]], [rand(5, 72), [1, 5]]] as Array<[Float32Array, number[]]>) {
      const d = shape[shape.length - 1]!;
      const [g, j] = both(data);
      for (const k of [...new Set([0, 1, Math.min(3, d), d])].filter((v) => v <= d)) {
        for (const largest of [true, false]) {
          const gt = gpu.kernels.topk(g, shape, k, largest);
          const jt = js.kernels.topk(j, shape, k, largest);
          await compare(`topk values [${shape}] k ${k} ${largest}`, gt.values, jt.values, { kind: 'exact' });
          await compare(`topk indices [${shape}] k ${k} ${largest}`, gt.indices, jt.indices, { kind: 'exact' });
        }
      }
      gpu.free(g);
      js.free(j);
    }
    for (const n of [1, 12, 1000]) {
      const x = n === 12 ? tied : rand(n, 73).map((v) => Math.round(v * 4) / 4);
      const cand = Uint8Array.from(rand(n, 74, 0, 1), (u) => (u < 0.7 ? 1 : 0));
      if (n === 1) cand[0] = 1;
      const count = cand.reduce((a, b) => a + b, 0);
      const [gx, jx] = both(x);
      const [gc, jc] = both(cand);
      for (const k of [0, 1, Math.floor(count / 2), count]) {
        await compare(`maskedTopK n ${n} k ${k}`, gpu.kernels.maskedTopK(gx, gc, k), js.kernels.maskedTopK(jx, jc, k), { kind: 'exact' });
      }
      gpu.free(gx); gpu.free(gc); js.free(jx); js.free(jc);
    }
  });

  it('conv1d and its backward kernels', async () => {
    const cases = [
      { x: [1, 1, 1], w: [1, 1, 1], stride: 1, dilation: 1, padLeft: 0, padRight: 0 },
      { x: [2, 3, 11], w: [4, 3, 3], stride: 1, dilation: 1, padLeft: 1, padRight: 1 },
      { x: [2, 3, 17], w: [5, 3, 3], stride: 2, dilation: 2, padLeft: 2, padRight: 0 },
      { x: [1, 2, 9], w: [3, 2, 4], stride: 3, dilation: 1, padLeft: 0, padRight: 3 },
      { x: [3, 4, 25], w: [2, 4, 5], stride: 1, dilation: 3, padLeft: 6, padRight: 6 },
    ];
    for (const c of cases) {
      const [gx, jx] = both(rand(size(c.x), 81));
      const [gw, jw] = both(rand(size(c.w), 82));
      const { x: xShape, w: wShape, ...geo } = c;
      const lout = Math.floor((c.x[2]! + c.padLeft + c.padRight - c.dilation * (c.w[2]! - 1) - 1) / c.stride) + 1;
      const dyShape = [c.x[0]!, c.w[0]!, lout];
      const [gdy, jdy] = both(rand(size(dyShape), 83));
      const tag = JSON.stringify(c);
      const kIn = c.x[1]! * c.w[2]!;
      await compare(`conv1d ${tag}`, gpu.kernels.conv1d({ x: gx, xShape, w: gw, wShape, ...geo }), js.kernels.conv1d({ x: jx, xShape, w: jw, wShape, ...geo }), { kind: 'reduce', k: kIn });
      await compare(`conv1dBackwardInput ${tag}`, gpu.kernels.conv1dBackwardInput(gdy, dyShape, { xShape, w: gw, wShape, ...geo }), js.kernels.conv1dBackwardInput(jdy, dyShape, { xShape, w: jw, wShape, ...geo }), { kind: 'reduce', k: c.w[0]! * c.w[2]! });
      await compare(`conv1dBackwardWeight ${tag}`, gpu.kernels.conv1dBackwardWeight(gdy, dyShape, { x: gx, xShape, wShape, ...geo }), js.kernels.conv1dBackwardWeight(jdy, dyShape, { x: jx, xShape, wShape, ...geo }), { kind: 'reduce', k: c.x[0]! * lout });
      for (const s of [gx, gw, gdy]) gpu.free(s);
      for (const s of [jx, jw, jdy]) js.free(s);
    }
  });

  it('avg/max pooling and backward', async () => {
    for (const [shape, k, stride, pad] of [[[1, 1, 1], 1, 1, 0], [[2, 3, 10], 3, 1, 1], [[2, 2, 11], 2, 2, 0], [[1, 3, 7], 4, 3, 2], [[2, 1, 5], 3, 1, 3]] as Array<[number[], number, number, number]>) {
      const [gx, jx] = both(rand(size(shape), 91).map((v) => Math.round(v * 2)));
      const l = shape[2]!;
      const lout = Math.max(0, Math.floor((l + 2 * pad - k) / stride) + 1);
      const dyShape = [shape[0]!, shape[1]!, lout];
      const [gdy, jdy] = both(rand(size(dyShape), 92));
      const tag = `[${shape}] k ${k} s ${stride} p ${pad}`;
      await compare(`avgPool1d ${tag}`, gpu.kernels.avgPool1d(gx, shape, k, stride, pad), js.kernels.avgPool1d(jx, shape, k, stride, pad), { kind: 'reduce', k });
      await compare(`avgPool1dBackward ${tag}`, gpu.kernels.avgPool1dBackward(gdy, dyShape, shape, k, stride, pad), js.kernels.avgPool1dBackward(jdy, dyShape, shape, k, stride, pad), { kind: 'reduce', k });
      const gm = gpu.kernels.maxPool1d(gx, shape, k, stride, pad);
      const jm = js.kernels.maxPool1d(jx, shape, k, stride, pad);
      await compare(`maxPool1dBackward ${tag}`, gpu.kernels.maxPool1dBackward(gdy, gm.indices, dyShape, shape), js.kernels.maxPool1dBackward(jdy, jm.indices, dyShape, shape), { kind: 'reduce', k });
      await compare(`maxPool1d values ${tag}`, gm.values, jm.values, { kind: 'exact' });
      await compare(`maxPool1d indices ${tag}`, gm.indices, jm.indices, { kind: 'exact' });
      for (const s of [gx, gdy]) gpu.free(s);
      for (const s of [jx, jdy]) js.free(s);
    }
  });

  it('rfft and irfft for any length', async () => {
    for (const shape of [[1], [2], [5], [3, 8], [2, 2, 7], [96], [1, 97]]) {
      const n = shape[shape.length - 1]!;
      const [gx, jx] = both(rand(size(shape), 101));
      await compare(`rfft [${shape}]`, gpu.kernels.rfft(gx, shape), js.kernels.rfft(jx, shape), { kind: 'reduce', k: n });
      const m = Math.floor(n / 2) + 1;
      const specShape = [...shape.slice(0, -1), m, 2];
      const [gs, jsp] = both(rand(size(specShape), 102));
      for (const nOut of [n, n + 1, Math.max(1, n - 2)]) {
        await compare(`irfft [${specShape}] n ${nOut}`, gpu.kernels.irfft(gs, specShape, nOut), js.kernels.irfft(jsp, specShape, nOut), { kind: 'reduce', k: nOut });
      }
      for (const s of [gx, gs]) gpu.free(s);
      for (const s of [jx, jsp]) js.free(s);
    }
  });

  it('rfft / irfft through the mixed-radix FFT and Bluestein (composite and prime lengths) match js', async () => {
    const { fftRadices, fftPlan } = await import('../src/backend/webgpu/kernels/conv.ts');
    expect(fftRadices(96)).toEqual([4, 4, 2, 3]);
    expect(fftRadices(1000)).toEqual([4, 2, 5, 5, 5]);
    expect(fftPlan(1024, 8).kind).toBe('stockham');
    expect(fftPlan(96, 1).kind).toBe('direct'); // short rows: one pass beats four
    expect(fftPlan(1021, 4)).toMatchObject({ kind: 'bluestein', m: 2048 });
    const plan = (shape: number[]) => fftPlan(shape[shape.length - 1]!, size(shape.slice(0, -1)));
    const passes = (shape: number[]): number => {
      const p = plan(shape);
      return p.kind === 'direct' ? 1 : p.kind === 'stockham' ? p.radices.length : 2 * p.mRadices!.length;
    };
    const shapes = [[6], [3, 12], [2, 30], [64, 48], [2, 100], [243], [8, 256], [2, 1000], [4, 22], [97], [4, 1021], [1, 4093], [8, 194], [3, 61]];
    expect(new Set(shapes.map((sh) => plan(sh).kind))).toEqual(new Set(['direct', 'stockham', 'bluestein']));
    for (const shape of shapes) {
      const n = shape[shape.length - 1]!;
      const [gx, jx] = both(rand(size(shape), 103));
      const before = gpu.rt.stats.dispatches;
      await compare(`rfft (fft) [${shape}] ${plan(shape).kind}`, gpu.kernels.rfft(gx, shape), js.kernels.rfft(jx, shape), { kind: 'reduce', k: n });
      expect(gpu.rt.stats.dispatches - before, `passes for [${shape}]`).toBe(passes(shape));
      const m = Math.floor(n / 2) + 1;
      for (const mIn of [m, Math.max(1, m - 3), m + 2]) {
        const specShape = [...shape.slice(0, -1), mIn, 2];
        const [gs, jsp] = both(rand(size(specShape), 104));
        await compare(`irfft (fft) [${specShape}] n ${n} ${plan(shape).kind}`, gpu.kernels.irfft(gs, specShape, n), js.kernels.irfft(jsp, specShape, n), { kind: 'reduce', k: n });
        gpu.free(gs);
        js.free(jsp);
      }
      gpu.free(gx);
      js.free(jx);
    }
  });

  it('sparse: denseToCsr (sync, caller nnz) and denseToCsrAsync, spmm, denseCsrT, sddmm, csrToDense', async () => {
    for (const [rows, cols, density] of [[1, 1, 1], [5, 7, 0.4], [9, 4, 0], [16, 33, 0.2], [3, 5, 1], [300, 3, 0.5]] as Array<[number, number, number]>) {
      const dense = rand(rows * cols, 111).map((v, i) => (rand(1, 1000 + i, 0, 1)[0]! < density ? v : 0));
      const jd = js.upload(dense);
      const jcsr = js.kernels.denseToCsr(jd, rows, cols, dense.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
      js.free(jd);
      const gcsr = {
        rows, cols, nnz: jcsr.nnz,
        rowPtr: gpu.upload(await js.read(jcsr.rowPtr)),
        colIdx: gpu.upload(await js.read(jcsr.colIdx)),
        values: gpu.upload(await js.read(jcsr.values)),
      };
      const tag = `[${rows}, ${cols}] nnz ${jcsr.nnz}`;
      // denseToCsr on the GPU, without and with a mask (explicit zeros kept): the kernel with the caller's
      // nnz (recorded, no readback), and denseToCsrAsync (reads the count first).
      const mask = Uint8Array.from(rand(rows * cols, 116, 0, 1), (u) => (u < 0.5 ? 1 : 0));
      for (const withMask of [false, true]) {
        for (const how of ['sync', 'async'] as const) {
          const [gd, jd2] = both(dense);
          const [gm, jm] = both(mask);
          const nnz = withMask ? mask.reduce((a, v) => a + v, 0) : dense.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
          const gc = how === 'sync'
            ? gpu.kernels.denseToCsr(gd, rows, cols, nnz, withMask ? gm : undefined)
            : await gpu.denseToCsrAsync(gd, rows, cols, withMask ? gm : undefined);
          const jc = js.kernels.denseToCsr(jd2, rows, cols, nnz, withMask ? jm : undefined);
          expect(gc.nnz, `denseToCsr nnz ${tag}`).toBe(jc.nnz);
          await compare(`denseToCsr ${how} rowPtr ${tag} ${withMask}`, gc.rowPtr, jc.rowPtr, { kind: 'exact' });
          await compare(`denseToCsr ${how} colIdx ${tag} ${withMask}`, gc.colIdx, jc.colIdx, { kind: 'exact' });
          await compare(`denseToCsr ${how} values ${tag} ${withMask}`, gc.values, jc.values, { kind: 'exact' });
          gpu.free(gd); gpu.free(gm); js.free(jd2); js.free(jm);
        }
      }
      await compare(`csrToDense ${tag}`, gpu.kernels.csrToDense(gcsr), js.kernels.csrToDense(jcsr), { kind: 'exact' });
      for (const n of [1, 6]) {
        const [gb, jb] = both(rand(cols * n, 112));
        await compare(`spmm ${tag} n ${n}`, gpu.kernels.spmm(gcsr, gb, n), js.kernels.spmm(jcsr, jb, n), { kind: 'reduce', k: cols });
        gpu.free(gb); js.free(jb);
      }
      for (const m of [1, 5]) {
        const [gx, jx] = both(rand(m * cols, 113));
        await compare(`denseCsrT ${tag} m ${m}`, gpu.kernels.denseCsrT(gx, m, gcsr), js.kernels.denseCsrT(jx, m, jcsr), { kind: 'reduce', k: cols });
        gpu.free(gx); js.free(jx);
      }
      // sddmm: pattern [rows, cols] = op(A) [rows, k] · op(B) [k, cols].
      const k = 6;
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const aShape: [number, number] = ta ? [k, rows] : [rows, k];
        const bShape: [number, number] = tb ? [cols, k] : [k, cols];
        const [ga, ja] = both(rand(rows * k, 114));
        const [gb, jb] = both(rand(cols * k, 115));
        await compare(`sddmm ${tag} ${ta} ${tb}`, gpu.kernels.sddmm(ga, aShape, ta!, gb, bShape, tb!, gcsr), js.kernels.sddmm(ja, aShape, ta!, jb, bShape, tb!, jcsr), { kind: 'reduce', k });
        gpu.free(ga); gpu.free(gb); js.free(ja); js.free(jb);
      }
      for (const s of [gcsr.rowPtr, gcsr.colIdx, gcsr.values]) gpu.free(s);
      for (const s of [jcsr.rowPtr, jcsr.colIdx, jcsr.values]) js.free(s);
    }
  });

  it('implements every kernel of the contract', () => {
    expect([...gpu.missing]).toEqual([]);
  });

  it('denseToCsr: a wrong nnz is reported at the next read, naming the kernel and both counts', async () => {
    await gpu.sync();
    const base = gpu.bytesInUse();
    const x = gpu.upload(new Float32Array([0, 7, 8, 0, 0, 1]));
    const m = gpu.upload(new Uint8Array([1, 1, 0, 0, 1, 1]));
    for (const [nnz, mask, real, what] of [[2, undefined, 3, 'x'], [5, m, 4, 'the mask']] as const) {
      const c = gpu.kernels.denseToCsr(x, 2, 3, nnz, mask); // recorded: sizes come from the caller
      for (const s of [c.rowPtr, c.colIdx, c.values]) gpu.free(s);
      await expect(gpu.read(x)).rejects.toThrow(
        new RegExp(`^denseToCsr: ${what} \\[2, 3\\] has ${real} stored entries, but nnz = ${nnz} was passed`),
      );
    }
    // The error is reported once; later reads are fine, and sync() reports it too.
    expect(Array.from(await gpu.read(x))).toEqual([0, 7, 8, 0, 0, 1]);
    const c = gpu.kernels.denseToCsr(x, 2, 3, 4, m);
    await gpu.sync();
    const bad = gpu.kernels.denseToCsr(x, 2, 3, 0, m);
    await expect(gpu.sync()).rejects.toThrow(/^denseToCsr: the mask \[2, 3\] has 4 stored entries, but nnz = 0/);
    for (const s of [c.rowPtr, c.colIdx, c.values, bad.rowPtr, bad.colIdx, bad.values, x, m]) gpu.free(s);
    expect(gpu.bytesInUse()).toBe(base);
  });

  it('denseToFanIn: a row with another count and a wrong live count are reported at the next read, by name', async () => {
    await gpu.sync();
    const base = gpu.bytesInUse();
    const x = gpu.upload(new Float32Array([0, 7, 8, 0, 0, 1]));
    const m = gpu.upload(new Uint8Array([1, 1, 0, 0, 1, 1]));
    const free = (f: FanInStorage) => [f.liveRows, f.colIdx, f.values].forEach((s) => gpu.free(s));
    free(gpu.kernels.denseToFanIn(x, 2, 3, 1, 2)); // row 0 keeps 2
    await expect(gpu.read(x)).rejects.toThrow(/^denseToFanIn: row 0 of x \[2, 3\] keeps neither 0 nor k = 1 entries/);
    free(gpu.kernels.denseToFanIn(x, 2, 3, 2, 1, m)); // two live rows
    await expect(gpu.sync()).rejects.toThrow(/^denseToFanIn: the mask \[2, 3\] has 2 live rows, but live = 1 was passed/);
    const ok = gpu.kernels.denseToFanIn(x, 2, 3, 2, 2, m);
    expect(Array.from(await gpu.read(ok.values))).toEqual([0, 7, 0, 1]);
    expect(Array.from(await gpu.read(ok.colIdx))).toEqual([0 | (1 << 16), 1 | (2 << 16)]);
    free(ok);
    for (const s of [x, m]) gpu.free(s);
    expect(gpu.bytesInUse()).toBe(base);
  });

  it('the matmul tile was chosen by a measured trial', () => {
    expect(gpu.matmul.isTuned).toBe(true);
  });

  it('refuses tensors larger than maxStorageBufferBindingSize with a clear error', () => {
    const max = gpu.rt.limits.maxStorageBufferBindingSize;
    const n = Math.floor(max / 4) + 1;
    expect(() => gpu.alloc(n, 'f32')).toThrow(/maxStorageBufferBindingSize/);
    expect(() => gpu.kernels.fill(n, 'u8', 1)).toThrow(/maxStorageBufferBindingSize/);
  });

  it('batches many dispatches into few submits', async () => {
    const before = gpu.rt.stats.submits;
    const x = gpu.upload(rand(64, 41));
    let y = x;
    for (let i = 0; i < 50; i++) {
      const z = gpu.kernels.unary('tanh', y);
      if (y !== x) gpu.free(y);
      y = z;
    }
    await gpu.read(y);
    gpu.free(x);
    gpu.free(y);
    expect(gpu.rt.stats.submits - before).toBeLessThanOrEqual(2);
  });

  it('recycling a buffer that recorded work still reads keeps the order (uploads do not force a submit)', async () => {
    await gpu.sync();
    const a = gpu.upload(new Float32Array([1, 2, 3, 4]));
    const before = gpu.rt.stats.submits;
    const b = gpu.kernels.unary('neg', a); // recorded, not submitted
    gpu.free(a);
    const c = gpu.upload(new Float32Array([10, 20, 30, 40])); // same size class: takes a's buffer
    const d = gpu.kernels.binary('add', b, [4], c, [4]);
    expect(gpu.rt.stats.submits).toBe(before);
    expect(Array.from(await gpu.read(d))).toEqual([9, 18, 27, 36]);
    expect(Array.from(await gpu.read(b))).toEqual([-1, -2, -3, -4]);
    for (const s of [b, c, d]) gpu.free(s);
  });

  it('returns every GPU buffer: bytes in use come back to baseline', async () => {
    await gpu.sync();
    const base = gpu.bytesInUse();
    for (let round = 0; round < 3; round++) {
      const live: Storage[] = [];
      for (let i = 0; i < 60; i++) {
        const a = gpu.upload(rand(1 + ((i * 37) % 500), i));
        const b = gpu.kernels.unary('exp', a);
        const c = gpu.kernels.binary('add', a, [a.size], b, [b.size]);
        const d = gpu.kernels.reduce('sum', c, [c.size], [0]);
        live.push(a, b, c, d, gpu.alloc(i, 'u8'), gpu.kernels.fill(i + 1, 'i32', 3));
      }
      expect(gpu.bytesInUse()).toBeGreaterThan(base);
      await gpu.read(live[live.length - 3]!);
      for (const s of live) gpu.free(s);
      expect(gpu.bytesInUse()).toBe(base);
    }
    await gpu.sync();
    expect(() => gpu.free(gpu.kernels.fill(1, 'f32', 0))).not.toThrow();
    expect(gpu.bytesInUse()).toBe(base);
    // Use after free is reported.
    const s = gpu.upload(new Float32Array([1]));
    gpu.free(s);
    expect(() => gpu.kernels.unary('neg', s)).toThrow(/freed/);
    await expect(gpu.read(s)).rejects.toThrow(/freed/);
  });

  it('geluBackward names a dy of another size or dtype (as the CPU backends do)', () => {
    const x = gpu.upload(new Float32Array(3));
    const dy = gpu.upload(new Float32Array(2));
    const xi = gpu.upload(new Int32Array(3));
    expect(() => gpu.kernels.geluBackward(dy, x)).toThrow(/^geluBackward: dy storage holds 2 elements, but its shape needs 3$/);
    expect(() => gpu.kernels.geluBackward(xi, x)).toThrow(/^geluBackward: dy has dtype i32; expected f32$/);
    for (const t of [x, dy, xi]) gpu.free(t);
  });
});

describe('webgpu end to end (conformance, training, memory)', () => {
  beforeEach(() => {
    if (gpu) engine.registerBackend(gpu);
  });

  it('passes every conformance row through the async runner (86 rows, the whole contract)', async () => {
    const rows = await runConformanceAsync(gpu, createJsBackend(), `node ${process.version}`);
    const failed = rows.filter((r) => !r.ok).map((r) => `${r.kernel}: ${r.error}`);
    console.log(`webgpu conformance (node ${process.version}, ${gpu.rt.description}): ${rows.length - failed.length}/${rows.length} rows ok`);
    expect(failed).toEqual([]);
    expect(new Set(rows.map((r) => baseKernel(r.kernel)))).toEqual(new Set(KERNEL_NAMES));
  });

  it('fused attention matches the unfused path (forward and all three gradients; causal, window, dropout)', async () => {
    engine.useBackend('webgpu');
    const bad: string[] = [];
    // Every other case keeps the software adapter's time down; the js and wasm suites run them all.
    for (const c of attentionCases().filter((_, i) => i % 2 === 0 || i === attentionCases().length - 3)) {
      const fused = await runAttentionPaths(c, true);
      const unfused = await runAttentionPaths(c, false);
      const limit = 1e-5 * Math.sqrt(Math.max(c.lk, c.e, c.ev, c.lq));
      for (const name of ['out', 'dq', 'dk', 'dv'] as const) {
        const r = compareOutput(fused[name], unfused[name], limit);
        if (r.failure) bad.push(`${JSON.stringify(c)} ${name}: ${r.failure}`);
      }
      if (fused.rngOffset !== unfused.rngOffset) bad.push(`${JSON.stringify(c)}: rng offsets differ`);
    }
    expect(bad).toEqual([]);
  });

  it('multi-head attention on interleaved heads gives the split-heads result bit for bit', async () => {
    engine.useBackend('webgpu');
    for (const c of attentionCases().filter((x) => x.batch.length === 2).slice(0, 3)) {
      const split = await runAttentionPaths(c, true);
      const inter = await runInterleavedHeads(c);
      for (const name of ['out', 'dq', 'dk', 'dv'] as const) expect(Array.from(inter[name]), `${JSON.stringify(c)} ${name}`).toEqual(Array.from(split[name]));
    }
  });

  it(`the tiny MLP run (${TINY.steps} seeded steps) matches wasm's loss at every step within 1e-4 relative`, async () => {
    const w = await tinyRun(createWasmBackendSync());
    const g = await tinyRun(gpu);
    expect(g.leakedTensors).toBe(0);
    const bad: string[] = [];
    for (let i = 0; i < w.steps; i++) {
      const a = f32FromBits(g.lossBits[i]!);
      const b = f32FromBits(w.lossBits[i]!);
      if (!(Math.abs(a - b) <= 1e-4 * Math.abs(b))) bad.push(`step ${i}: webgpu ${a} vs wasm ${b}`);
    }
    console.log(`tiny run: final loss webgpu ${g.finalLoss} vs wasm ${w.finalLoss}`);
    expect(bad).toEqual([]);
  });

  it('a small Transformer (dropout 0, Adam, 20 seeded steps) matches wasm within 1e-4 relative per step', async () => {
    if (!engine.hasBackend('wasm')) engine.registerBackend(createWasmBackendSync());
    const run = async (backend: string): Promise<number[]> => {
      engine.useBackend(backend);
      const before = engine.memory().perBackend[backend]?.tensors ?? 0;
      const cfg = defaultConfig(3, { seqLen: 12, labelLen: 6, predLen: 6, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32, dropout: 0 });
      const model = new Transformer(new Rng(11), cfg);
      const data = new Rng(12);
      const B = 4;
      const xEnc = op.tensor(data.normal(B * cfg.seqLen * 3), [B, cfg.seqLen, 3]);
      const xDec = op.tensor(data.normal(B * (cfg.labelLen + cfg.predLen) * 3), [B, cfg.labelLen + cfg.predLen, 3]);
      const y = op.tensor(data.normal(B * cfg.predLen * 3), [B, cfg.predLen, 3]);
      const opt = new Adam(model.parameters(), { lr: 1e-3 });
      const losses: number[] = [];
      try {
        for (let step = 0; step < 20; step++) {
          const loss = tidy(() => {
            const l = op.mseLoss(model.forward(xEnc, null, xDec, null), y);
            backward(l);
            opt.step();
            opt.zeroGrad();
            return l;
          });
          losses.push((await loss.data())[0]!);
          loss.dispose();
        }
      } finally {
        opt.dispose();
        model.dispose();
        for (const t of [xEnc, xDec, y]) t.dispose();
      }
      expect(engine.memory().perBackend[backend]?.tensors ?? 0, `${backend}: tensors left`).toBe(before);
      return losses;
    };
    const w = await run('wasm');
    const g = await run('webgpu');
    const rel = g.map((v, i) => Math.abs(v - w[i]!) / Math.abs(w[i]!));
    console.log(`Transformer 20 steps: loss ${w[0]} → ${w[19]} (wasm), ${g[0]} → ${g[19]} (webgpu); worst relative difference ${Math.max(...rel).toExponential(2)}`);
    expect(w[19]!).toBeLessThan(w[0]!);
    expect(rel.filter((r) => !(r <= 1e-4))).toEqual([]);
  });

  it('100 training steps leave GPU bytes and the webgpu tensor count unchanged', async () => {
    engine.useBackend('webgpu');
    const on = { backend: 'webgpu' };
    const rng = new Rng(5);
    const mk = (shape: number[], scale: number): Tensor => {
      const t = engine.keep(op.tensor(rng.normal(shape.reduce((a, b) => a * b, 1)).map((v) => v * scale), shape, on));
      t.requiresGrad = true;
      return t;
    };
    const params = [mk([32, 16], 0.25), mk([32], 0.1), mk([1, 32], 0.2), mk([1], 0.1)];
    const x = engine.keep(op.tensor(rng.normal(64 * 16), [64, 16], on));
    const y = engine.keep(op.tensor(rng.normal(64), [64, 1], on));
    const opt = new Adam(params, { lr: 1e-2 });
    const step = async (): Promise<number> => {
      const loss = tidy(() => {
        const h = op.gelu(op.linear(x, params[0]!, params[1]));
        const l = op.mseLoss(op.linear(h, params[2]!, params[3]), y);
        backward(l);
        opt.step();
        opt.zeroGrad();
        return l;
      });
      const v = (await loss.data())[0]!;
      loss.dispose();
      return v;
    };
    const first = await step(); // creates Adam's moments
    await gpu.sync();
    const before = engine.memory().perBackend.webgpu!;
    let last = first;
    for (let i = 0; i < 100; i++) last = await step();
    await gpu.sync();
    const after = engine.memory().perBackend.webgpu!;
    console.log(`memory over 100 steps: ${JSON.stringify(before)} → ${JSON.stringify(after)}; loss ${first} → ${last}`);
    expect(after).toEqual(before);
    expect(last).toBeLessThan(first);
    opt.dispose();
    for (const t of [...params, x, y]) t.dispose();
  });
});

function f32FromBits(hex: string): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, parseInt(hex, 16), true);
  return dv.getFloat32(0, true);
}
