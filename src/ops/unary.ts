/**
 * Elementwise unary ops on f32. Each backward is written with ops, so it runs on every backend (and is
 * itself differentiable), except gelu's: the contract's fused `geluBackward` kernel (backward passes run
 * under noGrad, so nothing differentiates it). Non-smooth points follow PyTorch: relu'(0) = 0,
 * abs'(0) = sign(0) = 0; sign and floor have zero gradient everywhere.
 */
import type { UnaryOp } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, storages, wrap } from './util.ts';
import { zerosLike } from './creation.ts';
import { add, div, mul, sub } from './binary.ts';
import { greater, where } from './compare.ts';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  checkDtype(op, x, ['f32']);
  const { backend, s } = storages(op, x);
  const out = wrap(backend.kernels.unary(op, s[0]!), x.shape, backend);
  record(op, [x], [out], ([g]) => [gradient(op, x, out, g!)], [out]);
  return out;
}

/** d(op)/dx · g, with y = op(x). */
function gradient(op: UnaryOp, x: Tensor, y: Tensor, g: Tensor): Tensor {
  switch (op) {
    case 'neg':
      return neg(g);
    case 'exp':
      return mul(g, y);
    case 'log':
      return div(g, x);
    case 'sqrt':
      // 1 / (2 sqrt x)
      return div(mul(g, 0.5), y);
    case 'rsqrt':
      // -1/2 · x^(-3/2) = -1/2 · y³
      return mul(g, mul(mul(square(y), y), -0.5));
    case 'abs':
      return mul(g, sign(x));
    case 'sign':
    case 'floor':
      return zerosLike(x);
    case 'tanh':
      // 1 - y²
      return mul(g, sub(1, square(y)));
    case 'sigmoid':
      // y (1 - y)
      return mul(g, mul(y, sub(1, y)));
    case 'relu':
      return where(greater(x, 0), g, 0);
    case 'gelu': {
      // g·(Φ(x) + x·φ(x)) in one kernel (as ops it took ~8 passes over the activations).
      const { backend, s } = storages('gelu', g, x);
      return wrap(backend.kernels.geluBackward(s[0]!, s[1]!), x.shape, backend);
    }
    case 'elu':
      // 1 for x > 0, exp(x) = y + 1 otherwise
      return where(greater(x, 0), g, mul(g, add(y, 1)));
    case 'sin':
      return mul(g, cos(x));
    case 'cos':
      return mul(g, neg(sin(x)));
    case 'erf':
      return mul(g, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI));
    case 'square':
      return mul(g, mul(x, 2));
    case 'reciprocal':
      // -1/x² = -y²
      return mul(g, neg(square(y)));
  }
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** Exact GELU, x·Φ(x) (erf form). */
export const gelu = (x: Tensor): Tensor => unaryOp('gelu', x);
/** ELU with alpha = 1. */
export const elu = (x: Tensor): Tensor => unaryOp('elu', x);
export const sin = (x: Tensor): Tensor => unaryOp('sin', x);
export const cos = (x: Tensor): Tensor => unaryOp('cos', x);
export const erf = (x: Tensor): Tensor => unaryOp('erf', x);
export const square = (x: Tensor): Tensor => unaryOp('square', x);
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
export const floor = (x: Tensor): Tensor => unaryOp('floor', x);
