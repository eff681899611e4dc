/**
 * Stands in for src/autograd/tape.ts in the inference bundle (esbuild alias in scripts/build-infer.mjs): the
 * ops call `record` after each forward kernel; here it records nothing, so no tape or backward code ships.
 */
import type { Tensor } from '../tensor/tensor.ts';

export type BackwardFn = (grads: Tensor[]) => (Tensor | null)[];

/** A type-only stand-in: tensors reference TapeNode in their types. */
export declare class TapeNode {
  onOutputFreed(): void;
  release(): void;
}

export function record(_op: string, _inputs: Tensor[], _outputs: Tensor[], _backward: BackwardFn, _saved?: Tensor[]): void {}
