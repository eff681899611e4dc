// Memory on wasm is not garbage-collected: a training step must leave the live-tensor count and the bytes
// held unchanged, or a long run leaks until it dies.
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { Adam } from '../src/train/adam.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

describe.each(['wasm', 'js'])('memory on %s', (backend) => {
  it('100 MLP training steps leave engine.memory() unchanged', () => {
    engine.useBackend(backend);
    const rng = new Rng(1);
    const param = (shape: number[], scale: number): Tensor => {
      const t = engine.keep(op.tensor(rng.normal(shape.reduce((a, b) => a * b, 1)).map((v) => v * scale), shape));
      t.requiresGrad = true;
      return t;
    };
    const w1 = param([32, 16], 0.25);
    const b1 = param([32], 0);
    const w2 = param([4, 32], 0.18);
    const b2 = param([4], 0);
    const x = engine.keep(op.tensor(rng.normal(64 * 16), [64, 16]));
    const y = engine.keep(op.tensor(rng.normal(64 * 4), [64, 4]));
    const adam = new Adam([w1, b1, w2, b2], { lr: 1e-2 });
    const step = () =>
      tidy(() => {
        const h = op.gelu(op.linear(x, w1, b1));
        const loss = op.mseLoss(op.linear(h, w2, b2), y);
        backward(loss);
        adam.step();
        adam.zeroGrad();
        return (loss.dataSync() as Float32Array)[0]!;
      });
    const first = step();
    const before = engine.memory();
    let last = first;
    for (let i = 0; i < 100; i++) last = step();
    const after = engine.memory();
    expect(after.perBackend[backend]).toEqual(before.perBackend[backend]);
    expect(after.tensors).toBe(before.tensors);
    expect(last).toBeLessThan(first); // and it trained
    for (const t of [w1, b1, w2, b2, x, y]) t.dispose();
    adam.dispose();
  });

  it('a throwing step inside tidy frees what it made', () => {
    engine.useBackend(backend);
    const before = engine.memory();
    expect(() =>
      tidy(() => {
        op.add(op.ones([3, 4]), op.ones([3, 4]));
        op.add(op.ones([3, 4]), op.ones([2, 5]));
      }),
    ).toThrow(/add: shapes \[3, 4\] and \[2, 5\] cannot be broadcast/);
    expect(engine.memory().perBackend[backend]).toEqual(before.perBackend[backend]);
  });
});

describe('memory on wasm: running out', () => {
  it('names the kernel and its arguments, frees what the step made and leaves the backend usable', () => {
    engine.useBackend('wasm');
    const before = engine.memory();
    // [70000, 8] · [8, 70000] is 19.6 GB of f32 output, past wasm32's 4 GiB: the message said only how many
    // bytes were wanted, not which op of the program wanted them.
    expect(() =>
      tidy(() => {
        op.matmul(op.ones([70000, 8]), op.ones([8, 70000]));
      }),
    ).toThrow(/^matmul\(\{a: f32\[560000\], b: f32\[560000\], aShape: \[70000, 8\], bShape: \[8, 70000\], transA: false, transB: false\}\): wasm: out of memory: 19600000000 bytes requested with \d+ in use \(wasm32 limit is 4 GiB\)$/);
    expect(engine.memory().perBackend['wasm']).toEqual(before.perBackend['wasm']);
    const y = op.add(op.ones([2, 2]), op.ones([2, 2]));
    expect(Array.from(y.dataSync() as Float32Array)).toEqual([2, 2, 2, 2]);
    y.dispose();
  });
});
