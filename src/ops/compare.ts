/**
 * Comparisons (u8 masks), select, casts and logical not. Comparisons and casts have no gradient;
 * `where` is differentiable in both branches (the gradient is routed by the mask and summed over
 * broadcast dimensions).
 */
import type { CompareOp, DType } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import { broadcastShapes } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, storages, wrap } from './util.ts';
import { scalar } from './creation.ts';
import { unbroadcast } from './binary.ts';

type Operand = Tensor | number;

const DTYPES: readonly DType[] = ['f32', 'i32', 'u8'];

/** Both operands as tensors of one dtype on one backend (numbers take the tensor operand's dtype). */
function operands(
  op: string, aIn: Operand, bIn: Operand, fallback: DType, home?: Tensor,
): { a: Tensor; b: Tensor; temps: Tensor[] } {
  const temps: Tensor[] = [];
  const like = typeof aIn !== 'number' ? aIn : typeof bIn !== 'number' ? bIn : null;
  const toTensor = (v: Operand): Tensor => {
    if (typeof v !== 'number') return v;
    const t = scalar(v, { backend: (like ?? home)?.backend.name, dtype: like?.dtype ?? fallback });
    temps.push(t);
    return t;
  };
  const a = toTensor(aIn);
  const b = toTensor(bIn);
  if (a.dtype !== b.dtype) {
    for (const t of temps) t.dispose();
    throw new Error(`${op}: dtypes differ (${a.dtype} vs ${b.dtype}); cast one operand first`);
  }
  return { a, b, temps };
}

function compareOp(op: CompareOp, name: string, aIn: Operand, bIn: Operand): Tensor {
  if (typeof aIn === 'number' && typeof bIn === 'number') {
    throw new Error(`${name}: at least one operand must be a tensor`);
  }
  const { a, b, temps } = operands(name, aIn, bIn, 'f32');
  try {
    checkDtype(name, a, DTYPES, 'left operand');
    const outShape = broadcastShapes(name, a.shape, b.shape);
    const { backend, s } = storages(name, a, b);
    return wrap(backend.kernels.compare(op, s[0]!, [...a.shape], s[1]!, [...b.shape]), outShape, backend);
  } finally {
    for (const t of temps) t.dispose();
  }
}

export const equal = (a: Operand, b: Operand): Tensor => compareOp('eq', 'equal', a, b);
export const notEqual = (a: Operand, b: Operand): Tensor => compareOp('ne', 'notEqual', a, b);
export const less = (a: Operand, b: Operand): Tensor => compareOp('lt', 'less', a, b);
export const lessEqual = (a: Operand, b: Operand): Tensor => compareOp('le', 'lessEqual', a, b);
export const greater = (a: Operand, b: Operand): Tensor => compareOp('gt', 'greater', a, b);
export const greaterEqual = (a: Operand, b: Operand): Tensor => compareOp('ge', 'greaterEqual', a, b);

/**
 * Broadcasting select: `cond ? a : b` elementwise. `cond` must be a u8 mask (from a comparison, or
 * `cast(x, 'u8')`); `a` and `b` may be numbers (f32 when both are). Differentiable in `a` and `b`.
 */
export function where(cond: Tensor, aIn: Operand, bIn: Operand): Tensor {
  checkDtype('where', cond, ['u8'], 'condition');
  // Numbers take the backend of the condition when both branches are numbers.
  const { a, b, temps } = operands('where', aIn, bIn, 'f32', cond);
  let out: Tensor;
  try {
    const outShape = broadcastShapes('where', cond.shape, a.shape, b.shape);
    const { backend, s } = storages('where', cond, a, b);
    out = wrap(
      backend.kernels.where(s[0]!, [...cond.shape], s[1]!, [...a.shape], s[2]!, [...b.shape]),
      outShape,
      backend,
    );
    record('where', [cond, a, b], [out], ([g]) => [
      null,
      a.requiresGrad ? unbroadcast(where(cond, g!, 0), a.shape) : null,
      b.requiresGrad ? unbroadcast(where(cond, 0, g!), b.shape) : null,
    ]);
  } finally {
    // Temporary scalars stay pinned by the tape while it needs them.
    for (const t of temps) t.dispose();
  }
  return out;
}

/**
 * Convert the element type: f32→i32 truncates toward zero, anything→u8 is (x != 0), same dtype copies.
 * Differentiable only f32→f32 (an identity copy).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!DTYPES.includes(dtype)) throw new Error(`cast: unknown dtype '${dtype}' (expected f32, i32 or u8)`);
  const { backend, s } = storages('cast', x);
  const out = wrap(backend.kernels.cast(s[0]!, dtype), x.shape, backend);
  if (x.dtype === 'f32' && dtype === 'f32') record('cast', [x], [out], ([g]) => [g!]);
  return out;
}

/** 1 where x == 0, else 0 (u8), for any dtype. */
export function logicalNot(x: Tensor): Tensor {
  return equal(x, 0);
}
