/**
 * Adam: the fused `adam` kernel against the same update written as elementwise ops (bit for bit on js and wasm,
 * which round every operation to f32 the same way), against an f64 evaluation of PyTorch's formula, and its
 * input checks.
 */
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import * as op from '../src/ops/index.ts';
import { Adam } from '../src/train/adam.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

/** The update as eleven elementwise ops (how Adam.step was written before the fused kernel). */
function opsUpdate(p: Tensor, g: Tensor, m: Tensor, v: Tensor, t: number, lr: number): [Tensor, Tensor, Tensor] {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const stepSize = lr / (1 - b1 ** t);
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const m2 = op.add(op.mul(m, b1), op.mul(g, 1 - b1));
  const v2 = op.add(op.mul(v, b2), op.mul(op.square(g), 1 - b2));
  const denom = op.add(op.div(op.sqrt(v2), bc2Sqrt), eps);
  return [op.sub(p, op.mul(op.div(m2, denom), stepSize)), m2, v2];
}

describe.each(['js', 'wasm'])('Adam on %s', (backend) => {
  it('equals the elementwise-op update bit for bit over 5 steps, and PyTorch\'s formula in f64 within 1e-6', async () => {
    engine.useBackend(backend);
    const rng = new Rng(11);
    const n = 1003; // not a multiple of 4: the SIMD tail runs too
    const p0 = rng.normal(n);
    const grads = Array.from({ length: 5 }, () => rng.normal(n).map((x, i) => (i % 17 === 0 ? 0 : 3 * x)));
    const p = engine.keep(op.tensor(p0, [n]));
    const adam = new Adam([p], { lr: 1e-3 });
    let rp = engine.keep(op.tensor(p0, [n]));
    let rm = engine.keep(op.zeros([n]));
    let rv = engine.keep(op.zeros([n]));
    // f64 reference
    const P = Float64Array.from(p0), M = new Float64Array(n), V = new Float64Array(n);
    for (let t = 1; t <= 5; t++) {
      p.grad = op.tensor(grads[t - 1]!, [n]);
      adam.step();
      adam.zeroGrad();
      const g = op.tensor(grads[t - 1]!, [n]);
      const [np, nm, nv] = opsUpdate(rp, g, rm, rv, t, 1e-3);
      g.dispose();
      for (const x of [rp, rm, rv]) x.dispose();
      [rp, rm, rv] = [engine.keep(np), engine.keep(nm), engine.keep(nv)];
      for (let i = 0; i < n; i++) {
        const gi = grads[t - 1]![i]!;
        M[i] = 0.9 * M[i]! + 0.1 * gi;
        V[i] = 0.999 * V[i]! + 0.001 * gi * gi;
        P[i] = P[i]! - (1e-3 / (1 - 0.9 ** t)) * M[i]! / (Math.sqrt(V[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
      }
    }
    expect(Array.from(await p.data())).toEqual(Array.from(await rp.data()));
    expect(Array.from(await adam.m[0]!.data())).toEqual(Array.from(await rm.data()));
    expect(Array.from(await adam.v[0]!.data())).toEqual(Array.from(await rv.data()));
    const got = await p.data();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - P[i]!) / Math.max(1, Math.abs(P[i]!)));
    expect(worst).toBeLessThan(1e-6);
    for (const x of [p, rp, rm, rv]) x.dispose();
    adam.dispose();
  });

  it('names the op, the operand and both shapes when a moment does not match its parameter', () => {
    engine.useBackend(backend);
    const p = op.zeros([3, 4]);
    const g = op.zeros([3, 4]);
    const m = op.zeros([4, 3]);
    const h = { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1e-3, bc2Sqrt: 1 };
    expect(() => op.adamUpdate(p, g, m, g, h)).toThrow(/adam: first moment has shape \[4, 3\]; expected the parameter.s \[3, 4\]/);
    const gi = op.zeros([3, 4], { dtype: 'i32' });
    expect(() => op.adamUpdate(p, gi, g, g, h)).toThrow(/adam: gradient of shape \[3, 4\] has dtype i32; expected f32/);
    for (const x of [p, g, m, gi]) x.dispose();
  });
});
