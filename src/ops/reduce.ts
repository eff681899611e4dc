/**
 * Reductions over one or more axes. `axes` is a number, a list, or undefined for all axes; negative axes
 * count from the end. `keepdims` keeps reduced axes as size 1.
 *
 * Gradients of max/min follow PyTorch's amax/amin: when several elements tie for the extreme, the gradient
 * is split evenly among them (each gets g / count). argmax has no gradient.
 */
import type { ReduceOp } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import { normAxes, normAxis, shapeToString, sizeOf } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, storages, wrap } from './util.ts';
import { div, mul, sub } from './binary.ts';
import { broadcastTo } from './movement.ts';
import { reshape } from './reshape.ts';
import { sqrt, square } from './unary.ts';
import { cast, equal } from './compare.ts';

export type Axes = number | readonly number[] | undefined;

interface Plan {
  axes: number[];
  /** x.shape with reduced axes as 1. */
  kept: number[];
  out: number[];
  /** Number of elements reduced into each output. */
  count: number;
}

/** Normalise axes against x, naming the op and x's shape when one is out of range. */
export function axesOf(op: string, x: Tensor, axes: Axes): number[] {
  try {
    return normAxes(op, axes, x.rank);
  } catch (e) {
    throw new Error(`${(e as Error).message} (input shape ${shapeToString(x.shape)})`);
  }
}

/** One axis, normalised, with the same error as `axesOf`. */
export function axisOf(op: string, x: Tensor, axis: number, rank = x.rank): number {
  try {
    return normAxis(op, axis, rank);
  } catch (e) {
    throw new Error(`${(e as Error).message} (input shape ${shapeToString(x.shape)})`);
  }
}

function plan(op: string, x: Tensor, axes: Axes, keepdims: boolean): Plan {
  const ax = axesOf(op, x, axes);
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = keepdims ? kept : x.shape.filter((_, i) => !ax.includes(i));
  return { axes: ax, kept, out, count: sizeOf(ax.map((a) => x.shape[a]!)) };
}

function reduceOp(op: ReduceOp, name: string, x: Tensor, axes: Axes, keepdims: boolean): Tensor {
  checkDtype(name, x, ['f32']);
  const p = plan(name, x, axes, keepdims);
  if (p.axes.length === 0) return reshape(x, p.out);
  const { backend, s } = storages(name, x);
  const out = wrap(backend.kernels.reduce(op, s[0]!, [...x.shape], p.axes), p.out, backend);
  record(name, [x], [out], ([g]) => [reduceGradient(op, x, out, g!, p)], [out]);
  return out;
}

function reduceGradient(op: ReduceOp, x: Tensor, y: Tensor, g: Tensor, p: Plan): Tensor {
  const gk = reshape(g, p.kept);
  switch (op) {
    case 'sum':
      return broadcastTo(gk, x.shape);
    case 'mean':
      return broadcastTo(div(gk, p.count), x.shape);
    case 'max':
    case 'min': {
      // Split evenly among the elements equal to the extreme (amax semantics).
      const hit = cast(equal(x, reshape(y, p.kept)), 'f32');
      const count = sum(hit, p.axes, true);
      return mul(hit, div(gk, count));
    }
  }
}

/** Sum over `axes` (all by default). */
export const sum = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduceOp('sum', 'sum', x, axes, keepdims);
/** Mean over `axes` (all by default). */
export const mean = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduceOp('mean', 'mean', x, axes, keepdims);
/** Maximum over `axes`; the gradient is split evenly among ties. */
export const max = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduceOp('max', 'max', x, axes, keepdims);
/** Minimum over `axes`; the gradient is split evenly among ties. */
export const min = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduceOp('min', 'min', x, axes, keepdims);

/** i32 index of the maximum along `axis` (the first one on ties). Not differentiable. */
export function argmax(x: Tensor, axis = -1, keepdims = false): Tensor {
  checkDtype('argmax', x, ['f32']);
  if (x.rank === 0) throw new Error('argmax: input is a scalar (shape []); it needs at least one axis');
  const a = axisOf('argmax', x, axis);
  const kept = x.shape.map((d, i) => (i === a ? 1 : d));
  const outShape = keepdims ? kept : x.shape.filter((_, i) => i !== a);
  if (x.shape[a] === 0) throw new Error(`argmax: axis ${axis} of shape ${shapeToString(x.shape)} is empty`);
  const { backend, s } = storages('argmax', x);
  return wrap(backend.kernels.argmax(s[0]!, [...x.shape], a), outShape, backend);
}

/**
 * Variance over `axes` (all by default): mean of squared deviations, divided by N − 1 when `unbiased`
 * (PyTorch's correction = 1), by N otherwise.
 */
export function variance(x: Tensor, axes?: Axes, keepdims = false, unbiased = false): Tensor {
  checkDtype('variance', x, ['f32']);
  const p = plan('variance', x, axes, keepdims);
  const m = mean(x, p.axes, true);
  const d = sub(x, m);
  const d2 = square(d);
  const ss = sum(d2, p.axes, keepdims);
  const out = div(ss, Math.max(p.count - (unbiased ? 1 : 0), 0));
  for (const t of [m, d, d2, ss]) t.dispose();
  return out;
}

/** Standard deviation: sqrt(variance(x, axes, keepdims, unbiased)). */
export function std(x: Tensor, axes?: Axes, keepdims = false, unbiased = false): Tensor {
  const v = variance(x, axes, keepdims, unbiased);
  const out = sqrt(v);
  v.dispose();
  return out;
}
