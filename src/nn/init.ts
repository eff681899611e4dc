/**
 * PyTorch's default initialisations, drawn from sparsecast's seeded generator on the host (so every backend
 * starts from the same numbers).
 */
import type { Rng } from '../tensor/random.ts';
import { tensor } from '../ops/creation.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** U(−bound, bound) — PyTorch's kaiming_uniform_(a=√5) for Linear/Conv weights gives bound = 1/√fan_in. */
export function uniformInit(rng: Rng, shape: number[], bound: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(rng.uniform(n).map((u) => (2 * u - 1) * bound), shape);
}

/** N(0, std²). */
export function normalInit(rng: Rng, shape: number[], std: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(rng.normal(n).map((z) => z * std), shape);
}
