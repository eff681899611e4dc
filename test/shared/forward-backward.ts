// What the sparse-execution tests share: a Linear → GELU → Conv1d(k=1) pair of masked layers, random masks
// from the seeded generator, and one forward + backward that returns every number the paths must agree on.
import { tidy } from '../../src/tensor/engine.ts';
import type { Rng } from '../../src/tensor/random.ts';
import { backward } from '../../src/autograd/backward.ts';
import * as op from '../../src/ops/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { Module } from '../../src/nn/module.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Conv1d } from '../../src/nn/conv1d.ts';

/** x [.., inputs] → fc [hidden, inputs] → GELU → conv (kernel 1) [outputs, hidden], channels last. */
export class LinearConvPair extends Module {
  readonly fc: Linear;
  readonly conv: Conv1d;
  constructor(rng: Rng, inputs: number, hidden: number, outputs: number) {
    super();
    this.fc = this.module('fc', new Linear(rng, inputs, hidden));
    this.conv = this.module('conv', new Conv1d(rng, hidden, outputs, 1));
  }
  forward(x: Tensor): Tensor {
    return this.conv.forwardChannelsLast(op.gelu(this.fc.forward(x)));
  }
}

/** Each entry kept with probability `density` (a uniform draw per entry). */
export function randomMask(rng: Rng, size: number, density: number): Uint8Array {
  return Uint8Array.from(rng.uniform(size), (v) => (v < density ? 1 : 0));
}

/**
 * Forward + backward of `fwd` on x with the loss mean(y²): the output `y`, `dx` and `d.<name>` for every
 * parameter of `model`, as host copies. The gradients are freed afterwards, so device memory stays flat, unless
 * `keepGradients` (a test that then takes an optimizer step with them).
 */
export function forwardBackward(model: Module, fwd: (x: Tensor) => Tensor, xData: Float32Array, xShape: number[], opts: { keepGradients?: boolean } = {}): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const p of model.parameters()) {
    p.grad?.dispose();
    p.grad = null;
  }
  tidy(() => {
    const x = op.tensor(xData, xShape);
    x.requiresGrad = true;
    const y = fwd(x);
    out.set('y', Float32Array.from(y.dataSync() as Float32Array));
    backward(op.mean(op.square(y)));
    out.set('dx', Float32Array.from(x.grad!.dataSync() as Float32Array));
    x.grad!.dispose();
  });
  for (const [name, p] of model.namedParameters()) {
    out.set(`d.${name}`, Float32Array.from(p.grad!.dataSync() as Float32Array));
    if (opts.keepGradients) continue;
    p.grad!.dispose();
    p.grad = null;
  }
  return out;
}
