/**
 * Reshape and flatten. `reshape` is free: the result shares its input's storage (the engine reference-counts
 * shared storages, see `engine.shareTensor`), so no kernel runs and no memory is allocated. Storages are
 * immutable, so sharing cannot be observed except through memory use.
 */
import { record } from '../autograd/tape.ts';
import { engine } from '../tensor/engine.ts';
import { normAxis, shapeToString, sizeOf } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Resolve a target shape with at most one -1 against `size` elements; throws naming the op and shapes. */
export function resolveShape(op: string, from: readonly number[], shape: readonly number[]): number[] {
  const size = sizeOf(from);
  let infer = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (infer !== -1) {
        throw new Error(`${op}: cannot reshape ${shapeToString(from)} to ${shapeToString(shape)}: only one dimension may be -1`);
      }
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: cannot reshape ${shapeToString(from)} to ${shapeToString(shape)}: invalid dimension ${d}`);
    } else {
      known *= d;
    }
  });
  const out = [...shape];
  if (infer !== -1) {
    if (known === 0 || size % known !== 0) {
      throw new Error(`${op}: cannot reshape ${shapeToString(from)} (${size} elements) to ${shapeToString(shape)}`);
    }
    out[infer] = size / known;
  } else if (known !== size) {
    throw new Error(`${op}: cannot reshape ${shapeToString(from)} (${size} elements) to ${shapeToString(shape)} (${known} elements)`);
  }
  return out;
}

function reshapeAs(op: string, x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(op, x.shape, shape);
  const out = engine.shareTensor(x, target, op);
  const inShape = x.shape;
  record(op, [x], [out], ([g]) => [reshape(g!, inShape)]);
  return out;
}

/** A tensor with the same elements in row-major order and a new shape; one dimension may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return reshapeAs('reshape', x, shape);
}

/**
 * Collapse axes startAxis..endAxis (inclusive, negative allowed) into one. `flatten(x)` gives a 1-D
 * tensor; `flatten(x, 1)` keeps the leading (batch) axis.
 */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.rank === 0) return reshapeAs('flatten', x, [1]);
  const axis = (a: number): number => {
    try {
      return normAxis('flatten', a, x.rank);
    } catch (err) {
      throw new Error(`${(err as Error).message} (input shape ${shapeToString(x.shape)})`);
    }
  };
  const s = axis(startAxis);
  const e = axis(endAxis);
  if (e < s) throw new Error(`flatten: endAxis ${endAxis} comes before startAxis ${startAxis} for shape ${shapeToString(x.shape)}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshapeAs('flatten', x, shape);
}

/** Reshape to `like`'s shape. */
export function reshapeLike(x: Tensor, like: Tensor): Tensor {
  return reshapeAs('reshapeLike', x, like.shape);
}
