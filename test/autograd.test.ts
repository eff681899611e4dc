// The tape: tidy/dispose/keep with pinned tensors, accumulation, shared gradients, noGrad, reshape
// sharing storage, and clear errors for disposed tensors. Run on js and wasm (memory is only really
// manual on wasm).
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, keep, noGrad, tidy } from '../src/tensor/engine.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { record } from '../src/autograd/tape.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

function leaf(values: number[], shape?: number[]): Tensor {
  const t = keep(op.tensor(values, shape));
  t.requiresGrad = true;
  return t;
}

function read(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i]!))));
}

describe.each(['js', 'wasm'])('autograd on %s', (backend) => {
  const use = () => engine.useBackend(backend);

  it('tidy disposes what it made except the result and kept tensors', () => {
    use();
    const before = engine.memory().tensors;
    let kept: Tensor | null = null;
    const out = tidy(() => {
      const a = op.ones([2, 3]);
      const b = op.add(a, a);
      kept = keep(op.mul(b, 2));
      return op.exp(b);
    });
    expect(engine.memory().tensors).toBe(before + 2);
    close(read(kept!), [4, 4, 4, 4, 4, 4]);
    out.dispose();
    kept!.dispose();
    expect(engine.memory().tensors).toBe(before);
  });

  it('pinned intermediates outlive tidy until backward, then are freed', () => {
    use();
    const x = leaf([0.5, -1, 2, 3], [2, 2]);
    const before = engine.memory();
    const loss = tidy(() => op.sum(op.mul(op.tanh(x), op.exp(op.div(x, 3)))));
    // tanh, div (and its scalar), exp and mul outputs are disposed but pinned by the tape.
    const pinned = engine.memory().tensors - before.tensors;
    expect(pinned).toBeGreaterThan(1);
    backward(loss);
    // After backward: only the loss and x.grad are new.
    expect(engine.memory().tensors).toBe(before.tensors + 2);
    const xs = [0.5, -1, 2, 3];
    close(
      read(x.grad!),
      xs.map((v) => (1 - Math.tanh(v) ** 2) * Math.exp(v / 3) + Math.tanh(v) * Math.exp(v / 3) / 3),
    );
    loss.dispose();
    x.grad!.dispose();
    x.grad = null;
    expect(engine.memory()).toEqual(before);
    x.dispose();
  });

  it('live tensor count and bytes are unchanged after a tidy forward + backward', () => {
    use();
    const w = leaf([0.1, 0.2, -0.3, 0.4, 0.5, -0.6], [3, 2]);
    const b = leaf([0.01, -0.02, 0.03], [3]);
    const x = keep(op.tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]));
    const step = () =>
      tidy(() => {
        const h = op.linear(x, w, b);
        const y = op.softmax(op.gelu(h));
        const loss = op.add(op.mean(op.square(y)), op.mean(op.layerNorm(h)));
        backward(loss);
        w.grad!.dispose();
        b.grad!.dispose();
        w.grad = null;
        b.grad = null;
      });
    step();
    const before = engine.memory();
    for (let i = 0; i < 3; i++) step();
    expect(engine.memory()).toEqual(before);
    for (const t of [w, b, x]) t.dispose();
  });

  it('gradients accumulate across two backward calls', () => {
    use();
    const x = leaf([1, 2, 3]);
    for (let i = 0; i < 2; i++) {
      tidy(() => backward(op.sum(op.square(x))));
    }
    close(read(x.grad!), [4, 8, 12]);
    x.grad!.dispose();
    x.dispose();
  });

  it('retainGraph allows a second backward through the same graph', () => {
    use();
    const x = leaf([1, -2]);
    tidy(() => {
      const y = op.sum(op.mul(x, x));
      backward(y, { retainGraph: true });
      backward(y);
    });
    close(read(x.grad!), [4, -8]);
    x.grad!.dispose();
    x.dispose();
  });

  it('one gradient reaching two leaves gives each its own tensor', () => {
    use();
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    tidy(() => backward(op.sum(op.add(a, b))));
    expect(a.grad).not.toBe(b.grad);
    close(read(a.grad!), [1, 1]);
    a.grad!.dispose();
    close(read(b.grad!), [1, 1]);
    b.grad!.dispose();
    a.dispose();
    b.dispose();
  });

  it('a leaf used twice sums its gradients; leaves without requiresGrad get none', () => {
    use();
    const x = leaf([2, 3]);
    const c = keep(op.tensor([5, 7]));
    tidy(() => backward(op.sum(op.add(op.mul(x, c), op.mul(x, x)))));
    close(read(x.grad!), [5 + 4, 7 + 6]);
    expect(c.grad).toBeNull();
    x.grad!.dispose();
    x.dispose();
    c.dispose();
  });

  it('noGrad records nothing', () => {
    use();
    const x = leaf([1, 2]);
    const y = noGrad(() => op.sum(op.exp(x)));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(() => backward(y)).toThrow(/backward: .*does not require a gradient/);
    y.dispose();
    x.dispose();
  });

  it('using a disposed tensor throws an error naming the op and the shape', () => {
    use();
    const x = op.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    x.dispose();
    expect(() => op.exp(x)).toThrow(/^exp: tensor #\d+ of shape \[2, 3\] was disposed/);
    expect(() => op.add(x, 1)).toThrow(/^add: tensor #\d+ of shape \[2, 3\] was disposed/);
    expect(() => op.matmul(x, x, { transB: true })).toThrow(/^matmul: .*\[2, 3\] was disposed/);
    expect(() => op.reshape(x, [3, 2])).toThrow(/^reshape: .*\[2, 3\] was disposed/);
    expect(() => x.dataSync()).toThrow(/dataSync: .*was disposed/);
  });

  it('a disposed tensor stays unusable even while the tape pins it', () => {
    use();
    const x = leaf([1, 2]);
    const h = op.exp(x);
    const y = op.sum(h);
    h.dispose();
    expect(() => op.log(h)).toThrow(/^log: .*was disposed/);
    backward(y); // the backward of exp still reads its pinned output
    close(read(x.grad!), [Math.E, Math.E ** 2]);
    y.dispose();
    x.grad!.dispose();
    x.dispose();
  });

  it('reshape shares storage: no bytes allocated, each tensor disposes independently', () => {
    use();
    const bytes0 = engine.memory().bytes;
    const x = op.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const bytes1 = engine.memory().bytes;
    const y = op.reshape(x, [3, -1]);
    const z = op.flatten(y);
    expect(y.shape).toEqual([3, 2]);
    expect(z.shape).toEqual([6]);
    expect(engine.memory().bytes).toBe(bytes1);
    x.dispose();
    close(read(y), [1, 2, 3, 4, 5, 6]);
    z.dispose();
    close(read(y), [1, 2, 3, 4, 5, 6]);
    expect(engine.memory().bytes).toBe(bytes1);
    y.dispose();
    expect(engine.memory().bytes).toBe(bytes0);
  });

  it('dropping the output without backward releases the graph', () => {
    use();
    const x = leaf([0.5, 1.5]);
    const before = engine.memory();
    const y = tidy(() => op.sum(op.sigmoid(op.mul(x, 2))));
    expect(engine.memory().tensors).toBeGreaterThan(before.tensors + 1);
    y.dispose();
    expect(engine.memory()).toEqual(before);
    x.dispose();
  });

  it('a two-output node keeps a disposed saved output while the other output is in use', () => {
    use();
    const x = leaf([1, 2, 3]);
    const before = engine.memory();
    // A toy op with outputs (2x, x²) whose backward reads its second output.
    const twoOut = (t: Tensor): [Tensor, Tensor] => {
      const [a, b] = noGrad(() => [op.mul(t, 2), op.square(t)] as [Tensor, Tensor]);
      record('twoOut', [t], [a, b], ([ga, gb]) => [op.add(op.mul(ga!, 2), op.mul(gb!, op.div(op.mul(b, 2), t)))], [b]);
      return [a, b];
    };
    const loss = tidy(() => {
      const [a, b] = twoOut(x);
      b.dispose(); // pinned by its own node: the backward still needs it
      return op.sum(a);
    });
    backward(loss);
    close(read(x.grad!), [2, 2, 2]);
    loss.dispose();
    x.grad!.dispose();
    x.grad = null;
    expect(engine.memory()).toEqual(before);
    // Without backward: disposing both outputs frees everything.
    const [a, b] = twoOut(x);
    a.dispose();
    expect(engine.memory().tensors).toBe(before.tensors + 1);
    b.dispose();
    expect(engine.memory()).toEqual(before);
    x.dispose();
  });

  it('a throwing op inside tidy leaves nothing behind', () => {
    use();
    const before = engine.memory();
    expect(() => tidy(() => op.matmul(op.ones([2, 3]), op.ones([2, 3])))).toThrow(/matmul/);
    expect(engine.memory()).toEqual(before);
  });
});
