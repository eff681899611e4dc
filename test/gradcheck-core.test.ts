// Finite-difference gradient checks for every differentiable core op (unary, binary, compare/where/cast,
// reductions, reshape, matmul/linear, softmax/logSoftmax/layerNorm/dropout/losses), on js, wasm and webgpu
// (Dawn in Node; lavapipe without a GPU: the shapes are tiny), plus the argument errors every op must give
// (they name the op and the shapes). Values are read with `await data()` so every test runs on every backend.
import { beforeEach, describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import * as op from '../src/ops/index.ts';
import { gradcheck, type GradcheckOptions } from '../src/autograd/gradcheck.ts';
import { nodeWebGpu } from './shared/webgpu-node.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());
const webgpu = await nodeWebGpu();
if (webgpu.backend) engine.registerBackend(webgpu.backend);
const BACKENDS = ['js', 'wasm', 'webgpu'];
/** Without a webgpu adapter the webgpu tests fail with the backend's explanation (never a skip). */
const requireBackend = (backend: string) => {
  if (backend === 'webgpu' && webgpu.error) throw webgpu.error;
};

/** Run `f` in a tidy scope and read its result (async: works on webgpu too). */
async function values(f: () => Tensor): Promise<number[]> {
  const t = tidy(f);
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

/** Seeded values in [lo, hi), kept at least `gap` away from each of `avoid` (non-smooth points). */
function vals(n: number, seed: number, lo = -2, hi = 2, avoid: number[] = [], gap = 0.1): number[] {
  const u = new Rng(seed).uniform(n);
  return Array.from(u, (v) => {
    let x = lo + (hi - lo) * v;
    for (const a of avoid) if (Math.abs(x - a) < gap) x = a + (x < a ? -gap : gap);
    return x;
  });
}

function t(shape: number[], seed: number, lo = -2, hi = 2, avoid: number[] = []): Tensor {
  return op.tensor(vals(shape.reduce((a, b) => a * b, 1), seed, lo, hi, avoid), shape);
}

/** Distinct, well separated values (for max/min: no ties within any reduced group). */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Rng(seed).permutation(n);
  return op.tensor(Array.from(perm, (p) => (p - n / 2) * 0.37), shape);
}

interface Case {
  name: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
  opts?: GradcheckOptions;
}

const unaryCases: Case[] = [
  { name: 'neg', fn: (x) => op.neg(x), inputs: () => [t([2, 3], 1)] },
  { name: 'exp', fn: (x) => op.exp(x), inputs: () => [t([2, 3], 2, -1.5, 1.5)] },
  { name: 'log', fn: (x) => op.log(x), inputs: () => [t([2, 3], 3, 0.3, 3)] },
  { name: 'sqrt', fn: (x) => op.sqrt(x), inputs: () => [t([2, 3], 4, 0.3, 3)] },
  { name: 'rsqrt', fn: (x) => op.rsqrt(x), inputs: () => [t([2, 3], 5, 0.4, 3)] },
  { name: 'abs', fn: (x) => op.abs(x), inputs: () => [t([2, 3], 6, -2, 2, [0])] },
  { name: 'sign (zero gradient)', fn: (x) => op.mul(op.sign(x), x), inputs: () => [t([2, 3], 7, -2, 2, [0])] },
  { name: 'tanh', fn: (x) => op.tanh(x), inputs: () => [t([2, 3], 8)] },
  { name: 'sigmoid', fn: (x) => op.sigmoid(x), inputs: () => [t([2, 3], 9, -3, 3)] },
  { name: 'relu', fn: (x) => op.relu(x), inputs: () => [t([2, 3], 10, -2, 2, [0])] },
  { name: 'gelu', fn: (x) => op.gelu(x), inputs: () => [t([2, 4], 11, -3, 3)] },
  { name: 'elu', fn: (x) => op.elu(x), inputs: () => [t([2, 4], 12, -2, 2, [0])] },
  { name: 'sin', fn: (x) => op.sin(x), inputs: () => [t([2, 3], 13, -3, 3)] },
  { name: 'cos', fn: (x) => op.cos(x), inputs: () => [t([2, 3], 14, -3, 3)] },
  { name: 'erf', fn: (x) => op.erf(x), inputs: () => [t([2, 3], 15)] },
  { name: 'square', fn: (x) => op.square(x), inputs: () => [t([2, 3], 16)] },
  { name: 'reciprocal', fn: (x) => op.reciprocal(x), inputs: () => [t([2, 3], 17, 0.5, 2.5)] },
  {
    name: 'floor (zero gradient)',
    fn: (x) => op.add(op.floor(x), x),
    inputs: () => [t([2, 3], 18, -3, 3, [-3, -2, -1, 0, 1, 2, 3])],
  },
];

const binaryCases: Case[] = [
  { name: 'add (broadcast)', fn: (a, b) => op.add(a, b), inputs: () => [t([2, 3], 20), t([3], 21)] },
  { name: 'sub (broadcast)', fn: (a, b) => op.sub(a, b), inputs: () => [t([2, 1], 22), t([1, 3], 23)] },
  { name: 'mul (broadcast)', fn: (a, b) => op.mul(a, b), inputs: () => [t([2, 3], 24), t([2, 1], 25)] },
  { name: 'div', fn: (a, b) => op.div(a, b), inputs: () => [t([2, 3], 26), t([3], 27, 0.5, 2)] },
  { name: 'pow', fn: (a, b) => op.pow(a, b), inputs: () => [t([2, 3], 28, 0.5, 2), t([2, 3], 29, -1, 2)] },
  {
    name: 'maximum / minimum',
    fn: (a, b) => op.add(op.maximum(a, b), op.mul(op.minimum(a, b), 2)),
    inputs: () => [distinct([2, 3], 30), op.tensor([0.1, -0.2, 0.3], [3])],
  },
  { name: 'number operands', fn: (a) => op.div(op.sub(2, op.mul(a, 3)), 4), inputs: () => [t([3], 31)] },
];

const compareCases: Case[] = [
  {
    name: 'where (broadcast branches)',
    fn: (a, b) => op.where(op.greater(a, 0), op.mul(a, 2), b),
    inputs: () => [t([2, 3], 40, -2, 2, [0]), t([3], 41)],
  },
  { name: 'where (number branch)', fn: (a) => op.where(op.less(a, 0.5), 1, op.exp(a)), inputs: () => [t([4], 42, -2, 2, [0.5])] },
  { name: 'cast f32→f32', fn: (a) => op.mul(op.cast(a, 'f32'), a), inputs: () => [t([2, 2], 43)] },
];

const reduceCases: Case[] = [
  { name: 'sum (all)', fn: (x) => op.sum(x), inputs: () => [t([2, 3], 50)] },
  { name: 'sum (axis 1)', fn: (x) => op.sum(x, 1), inputs: () => [t([2, 3, 2], 51)] },
  { name: 'sum (axes [0, 2], keepdims)', fn: (x) => op.sum(x, [0, -1], true), inputs: () => [t([2, 3, 2], 52)] },
  { name: 'mean (axis -1)', fn: (x) => op.mean(x, -1), inputs: () => [t([2, 3, 4], 53)] },
  { name: 'mean (all)', fn: (x) => op.mean(x), inputs: () => [t([3, 2], 54)] },
  { name: 'max (axis 1)', fn: (x) => op.max(x, 1), inputs: () => [distinct([2, 4, 3], 55)] },
  { name: 'max (all, keepdims)', fn: (x) => op.max(x, undefined, true), inputs: () => [distinct([3, 3], 56)] },
  { name: 'min (axes [0, 2])', fn: (x) => op.min(x, [0, 2]), inputs: () => [distinct([2, 3, 2], 57)] },
  { name: 'variance (axis 1)', fn: (x) => op.variance(x, 1), inputs: () => [t([3, 4], 58)] },
  { name: 'variance (all, unbiased)', fn: (x) => op.variance(x, undefined, false, true), inputs: () => [t([2, 3], 59)] },
  { name: 'std (axis 0, keepdims)', fn: (x) => op.std(x, 0, true), inputs: () => [t([4, 3], 60)] },
];

const shapeCases: Case[] = [
  { name: 'reshape (-1)', fn: (x) => op.mul(op.reshape(x, [3, -1]), op.tensor([1, 2, 3, 4, 5, 6], [3, 2])), inputs: () => [t([2, 3], 70)] },
  { name: 'flatten', fn: (x) => op.exp(op.flatten(x, 1)), inputs: () => [t([2, 2, 2], 71, -1, 1)] },
];

const matmulCases: Case[] = [
  { name: 'matmul', fn: (a, b) => op.matmul(a, b), inputs: () => [t([3, 4], 80), t([4, 2], 81)] },
  { name: 'matmul transA', fn: (a, b) => op.matmul(a, b, { transA: true }), inputs: () => [t([4, 3], 82), t([4, 2], 83)] },
  { name: 'matmul transB', fn: (a, b) => op.matmul(a, b, { transB: true }), inputs: () => [t([3, 4], 84), t([2, 4], 85)] },
  {
    name: 'matmul transA transB',
    fn: (a, b) => op.matmul(a, b, { transA: true, transB: true }),
    inputs: () => [t([4, 3], 86), t([2, 4], 87)],
  },
  {
    name: 'matmul batch broadcast',
    fn: (a, b) => op.matmul(a, b),
    inputs: () => [t([2, 1, 3, 4], 88), t([3, 4, 2], 89)],
  },
  {
    name: 'matmul batch broadcast transB (Q·Kᵀ)',
    fn: (a, b) => op.matmul(a, b, { transB: true }),
    inputs: () => [t([2, 3, 4], 90), t([1, 5, 4], 91)],
  },
  { name: 'matmul vector · matrix', fn: (a, b) => op.matmul(a, b), inputs: () => [t([4], 92), t([4, 3], 93)] },
  { name: 'matmul matrix · vector', fn: (a, b) => op.matmul(a, b), inputs: () => [t([2, 3, 4], 94), t([4], 95)] },
  { name: 'linear with bias (rank 3)', fn: (x, w, b) => op.linear(x, w, b), inputs: () => [t([2, 3, 4], 96), t([5, 4], 97), t([5], 98)] },
  { name: 'linear without bias (rank 1)', fn: (x, w) => op.linear(x, w), inputs: () => [t([4], 99), t([3, 4], 100)] },
];

const nnCases: Case[] = [
  { name: 'softmax', fn: (x) => op.softmax(x), inputs: () => [t([3, 5], 110)] },
  { name: 'softmax (axis 0)', fn: (x) => op.softmax(x, 0), inputs: () => [t([4, 3], 111)] },
  { name: 'logSoftmax', fn: (x) => op.logSoftmax(x), inputs: () => [t([3, 5], 112)] },
  { name: 'logSoftmax (axis 1 of 3)', fn: (x) => op.logSoftmax(x, 1), inputs: () => [t([2, 3, 2], 113)] },
  {
    name: 'layerNorm',
    fn: (x, g, b) => op.layerNorm(x, g, b),
    inputs: () => [t([2, 3, 5], 114), t([5], 115, 0.5, 1.5), t([5], 116)],
  },
  { name: 'layerNorm (no affine)', fn: (x) => op.layerNorm(x), inputs: () => [t([4, 6], 117)] },
  {
    name: 'dropout (training)',
    fn: (x) => op.dropout(x, 0.4, new Rng(7), true),
    inputs: () => [t([4, 5], 118)],
  },
  { name: 'mseLoss', fn: (p, y) => op.mseLoss(p, y), inputs: () => [t([3, 4], 119), t([3, 4], 120)] },
  {
    name: 'maeLoss',
    fn: (p, y) => op.maeLoss(p, y),
    // pred − target kept away from 0 (the kink of |·|).
    inputs: () => {
      const y = vals(12, 121);
      const d = vals(12, 122, -1, 1, [0], 0.2);
      return [op.tensor(y.map((v, i) => v + d[i]!), [3, 4]), op.tensor(y, [3, 4])];
    },
  },
];

const groups: [string, Case[]][] = [
  ['unary', unaryCases],
  ['binary', binaryCases],
  ['compare', compareCases],
  ['reduce', reduceCases],
  ['reshape', shapeCases],
  ['matmul', matmulCases],
  ['nn', nnCases],
];

describe.each(BACKENDS)('gradcheck on %s', (backend) => {
  beforeEach(() => requireBackend(backend));
  for (const [group, cases] of groups) {
    describe(group, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
        engine.useBackend(backend);
        const before = engine.memory();
        const inputs = c.inputs();
        try {
          const res = await gradcheck(c.fn, inputs, c.opts);
          if (process.env.GC_VERBOSE) console.log(`${c.name}: maxAbs=${res.maxAbs.toExponential(1)} maxRel=${res.maxRel.toExponential(1)}`);
          expect(res.ok, `${c.name} on ${backend}\n${res.summary}`).toBe(true);
        } finally {
          for (const x of inputs) x.dispose();
        }
        expect(engine.memory(), 'gradcheck leaves no tensor behind').toEqual(before);
      });
    });
  }

  it('a wrong gradient is caught', async () => {
    engine.useBackend(backend);
    const { record } = await import('../src/autograd/tape.ts');
    // exp with the gradient of x² recorded: the check must fail.
    const bad = (x: Tensor): Tensor => {
      const y = engine.noGrad(() => op.exp(x));
      record('badExp', [x], [y], ([g]) => [op.mul(g!, op.mul(x, 2))]);
      return y;
    };
    const x = t([5], 130, 0.5, 1.5);
    const res = await gradcheck(bad, [x]);
    x.dispose();
    expect(res.ok).toBe(false);
    expect(res.summary).toMatch(/MISMATCH/);
  });

  it('dropout: same seed, same mask; identity when not training; scaled by 1/(1-p)', async () => {
    engine.useBackend(backend);
    const x = op.ones([1000]);
    const a = await values(() => op.dropout(x, 0.3, new Rng(3)));
    const b = await values(() => op.dropout(x, 0.3, new Rng(3)));
    expect(a).toEqual(b);
    const kept = a.filter((v) => v !== 0);
    for (const v of kept) expect(v).toBeCloseTo(1 / 0.7, 5);
    expect(kept.length).toBeGreaterThan(620);
    expect(kept.length).toBeLessThan(780);
    expect(await values(() => op.dropout(x, 0.3, new Rng(3), false))).toEqual(await values(() => op.add(x, 0)));
    expect((await values(() => op.dropout(x, 1, new Rng(3)))).every((v) => v === 0)).toBe(true);
    x.dispose();
  });

  it('max splits the gradient evenly among ties (amax semantics)', async () => {
    engine.useBackend(backend);
    const { backward } = await import('../src/autograd/backward.ts');
    const x = engine.keep(op.tensor([1, 3, 3, 2, 5, 5, 5, 0], [2, 4]));
    x.requiresGrad = true;
    tidy(() => backward(op.sum(op.max(x, 1))));
    const g = Array.from(await x.grad!.data());
    [0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3, 0].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 6));
    x.grad!.dispose();
    x.dispose();
  });

  it('forward values of composite ops', async () => {
    engine.useBackend(backend);
    const x = op.tensor([1, 2, 3, 4, 6, 8], [2, 3]);
    const close = async (f: () => Tensor, e: number[]) =>
      (await values(f)).forEach((v, i) => expect(v).toBeCloseTo(e[i]!, 5));
    await close(() => op.variance(x, 1), [2 / 3, 8 / 3]);
    await close(() => op.variance(x, 1, false, true), [1, 4]);
    await close(() => op.std(x, 1, false, true), [1, 2]);
    await close(() => op.mean(x, 0), [2.5, 4, 5.5]);
    tidy(() => expect(op.sum(x, 1, true).shape).toEqual([2, 1]));
    expect(await values(() => op.argmax(x, 1))).toEqual([2, 2]);
    tidy(() => expect(op.argmax(x, 0, true).shape).toEqual([1, 3]));
    await close(() => op.linear(x, op.tensor([1, 0, -1, 2, 1, 0], [2, 3]), op.tensor([0.5, -0.5])), [-1.5, 3.5, -3.5, 13.5]);
    await close(() => op.mseLoss(x, op.zerosLike(x)), [(1 + 4 + 9 + 16 + 36 + 64) / 6]);
    await close(() => op.maeLoss(x, op.onesLike(x)), [(0 + 1 + 2 + 3 + 5 + 7) / 6]);
    await close(() => op.softmax(op.tensor([0, Math.log(3)])), [0.25, 0.75]);
    expect(await values(() => op.logicalNot(op.greater(x, 3)))).toEqual([1, 1, 1, 0, 0, 0]);
    expect(await values(() => op.equal(op.tensor([1, 2], [2], { dtype: 'i32' }), 2))).toEqual([0, 1]);
    x.dispose();
  });
});

describe.each(BACKENDS)('argument errors on %s', (backend) => {
  beforeEach(() => requireBackend(backend));
  const throwsNaming = (f: () => unknown, re: RegExp) => {
    engine.useBackend(backend);
    const before = engine.memory();
    expect(() => tidy(f)).toThrow(re);
    expect(engine.memory()).toEqual(before);
  };

  it('shape mismatch in add names the op and both shapes', () => {
    throwsNaming(() => op.add(op.ones([2, 3]), op.ones([4])), /^add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  });

  it('shape mismatch in matmul names the op and both shapes', () => {
    throwsNaming(() => op.matmul(op.ones([2, 3]), op.ones([4, 5])), /^matmul: shapes \[2, 3\] and \[4, 5\] do not chain/);
    throwsNaming(
      () => op.matmul(op.ones([2, 2, 3]), op.ones([3, 3, 4])),
      /^matmul \(batch dims\): shapes \[2\] and \[3\] cannot be broadcast/,
    );
    throwsNaming(() => op.linear(op.ones([2, 3]), op.ones([4, 5])), /^linear: input \[2, 3\] does not match weight \[4, 5\]/);
    throwsNaming(() => op.linear(op.ones([2, 5]), op.ones([4, 5]), op.ones([3])), /^linear: bias has shape \[3\]; expected \[4\]/);
  });

  it('wrong dtype names the op, the shape and the dtype', () => {
    const i = () => op.tensor([1, 2, 3], [3], { dtype: 'i32' });
    throwsNaming(() => op.exp(i()), /^exp: input of shape \[3\] has dtype i32; expected f32/);
    throwsNaming(() => op.sum(i()), /^sum: input of shape \[3\] has dtype i32/);
    throwsNaming(() => op.matmul(op.ones([2, 3]), op.ones([3, 2], { dtype: 'i32' })), /^matmul: right operand of shape \[3, 2\] has dtype i32/);
    throwsNaming(() => op.add(op.ones([3]), i()), /^add: dtypes differ \(f32 vs i32\)/);
    throwsNaming(() => op.where(op.ones([3]), 1, 0), /^where: condition of shape \[3\] has dtype f32; expected u8/);
  });

  it('bad axis names the op, the axis and the shape', () => {
    throwsNaming(() => op.sum(op.ones([2, 3]), 2), /^sum: axis 2 is out of range .* \(input shape \[2, 3\]\)/);
    throwsNaming(() => op.mean(op.ones([2, 3]), [0, 0]), /^mean: repeated axis/);
    throwsNaming(() => op.softmax(op.ones([2, 3]), -3), /^softmax: axis -3 is out of range .*\[2, 3\]/);
    throwsNaming(() => op.argmax(op.ones([2, 3]), 5), /^argmax: axis 5 is out of range .*\[2, 3\]/);
  });

  it('bad reshape names the shapes', () => {
    throwsNaming(() => op.reshape(op.ones([2, 3]), [4, 2]), /^reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    throwsNaming(() => op.reshape(op.ones([2, 3]), [-1, -1]), /^reshape: .*only one dimension may be -1/);
    throwsNaming(() => op.reshape(op.ones([2, 3]), [4, -1]), /^reshape: cannot reshape \[2, 3\]/);
  });

  it('loss shape mismatch and bad layerNorm parameters name the shapes', () => {
    throwsNaming(() => op.mseLoss(op.ones([2, 3]), op.ones([3, 2])), /^mseLoss: prediction \[2, 3\] f32 and target \[3, 2\] f32/);
    throwsNaming(() => op.layerNorm(op.ones([2, 3]), op.ones([4])), /^layerNorm: gamma has shape \[4\]; expected \[3\]/);
    throwsNaming(() => op.dropout(op.ones([2]), 1.5, new Rng(1)), /^dropout: probability p must be in \[0, 1\]/);
  });

  it('a disposed input names the op and the shape', () => {
    engine.useBackend(backend);
    const x = op.ones([2, 3]);
    x.dispose();
    expect(() => op.softmax(x)).toThrow(/^softmax: tensor #\d+ of shape \[2, 3\] was disposed/);
    expect(() => op.sum(x)).toThrow(/^sum: tensor #\d+ of shape \[2, 3\] was disposed/);
    expect(() => op.linear(op.ones([1, 3]), x)).toThrow(/^linear: tensor #\d+ of shape \[2, 3\] was disposed/);
  });
});
