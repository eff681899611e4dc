/**
 * Broadcasting binary arithmetic. The backward of a broadcast input sums the gradient over the stretched
 * dimensions (`unbroadcast`).
 */
import type { BinaryOp } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import { broadcastShapes, reducedAxesForBroadcast, sameShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, storages, wrap } from './util.ts';
import { scalar } from './creation.ts';
import { sum } from './reduce.ts';
import { reshape } from './reshape.ts';
import { log } from './unary.ts';
import { greater, greaterEqual as greaterEqualT, lessEqual as lessEqualT, where } from './compare.ts';

type Operand = Tensor | number;

/** Promote a JS number to a scalar tensor on the other operand's backend. */
function asTensor(x: Operand, like: Tensor): Tensor {
  return typeof x === 'number' ? scalar(x, { backend: like.backend.name, dtype: like.dtype }) : x;
}

/** Sum `g` down to `shape` (the adjoint of broadcasting `shape` up to g.shape). */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const axes = reducedAxesForBroadcast(shape, g.shape);
  return reshape(sum(g, axes, true), shape);
}

function binaryOp(op: BinaryOp, aIn: Operand, bIn: Operand): Tensor {
  if (typeof aIn === 'number' && typeof bIn === 'number') {
    throw new Error(`${op}: at least one operand must be a tensor`);
  }
  const a = typeof aIn === 'number' ? asTensor(aIn, bIn as Tensor) : aIn;
  const b = typeof bIn === 'number' ? asTensor(bIn, a) : bIn;
  const allowed = op === 'add' || op === 'sub' || op === 'mul' || op === 'max' || op === 'min' ? (['f32', 'i32'] as const) : (['f32'] as const);
  try {
    checkDtype(op, a, allowed, 'left operand');
    checkDtype(op, b, allowed, 'right operand');
    if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes differ (${a.dtype} vs ${b.dtype}); cast one operand first`);
    const outShape = broadcastShapes(op, a.shape, b.shape);
    const { backend, s } = storages(op, a, b);
    const out = wrap(backend.kernels.binary(op, s[0]!, [...a.shape], s[1]!, [...b.shape]), outShape, backend);
    record(op, [a, b], [out], ([g]) => gradients(op, a, b, out, g!), [out]);
    return out;
  } finally {
    // A number operand became a temporary scalar: dispose it (the tape pins it while backward needs it).
    if (a !== aIn) a.dispose();
    if (b !== bIn) b.dispose();
  }
}

function gradients(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, g: Tensor): (Tensor | null)[] {
  const ga = a.requiresGrad;
  const gb = b.requiresGrad;
  switch (op) {
    case 'add':
      return [ga ? unbroadcast(g, a.shape) : null, gb ? unbroadcast(g, b.shape) : null];
    case 'sub':
      return [ga ? unbroadcast(g, a.shape) : null, gb ? unbroadcast(mul(g, -1), b.shape) : null];
    case 'mul':
      return [ga ? unbroadcast(mul(g, b), a.shape) : null, gb ? unbroadcast(mul(g, a), b.shape) : null];
    case 'div':
      // d(a/b)/db = -a/b² = -out/b
      return [
        ga ? unbroadcast(div(g, b), a.shape) : null,
        gb ? unbroadcast(mul(g, div(mul(out, -1), b)), b.shape) : null,
      ];
    case 'pow': {
      // d(a^b)/da = b·a^(b-1); d(a^b)/db = out·ln a (defined for a > 0; 0 elsewhere, as PyTorch gives for a = 0).
      const dA = ga ? unbroadcast(mul(g, mul(b, pow(a, sub(b, 1)))), a.shape) : null;
      let dB: Tensor | null = null;
      if (gb) {
        const positive = greater(a, 0);
        const lnA = where(positive, log(where(positive, a, 1)), 0);
        dB = unbroadcast(mul(g, mul(out, lnA)), b.shape);
      }
      return [dA, dB];
    }
    case 'max':
    case 'min': {
      // The gradient goes to the winner; ties go to the left operand.
      const leftWins = op === 'max' ? greaterEqualT(a, b) : lessEqualT(a, b);
      return [
        ga ? unbroadcast(where(leftWins, g, 0), a.shape) : null,
        gb ? unbroadcast(where(leftWins, 0, g), b.shape) : null,
      ];
    }
  }
}

export const add = (a: Operand, b: Operand): Tensor => binaryOp('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binaryOp('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binaryOp('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binaryOp('div', a, b);
export const pow = (a: Operand, b: Operand): Tensor => binaryOp('pow', a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binaryOp('max', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binaryOp('min', a, b);
