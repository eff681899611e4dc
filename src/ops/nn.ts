/**
 * Neural-network ops: softmax / log-softmax (numerically stable kernels on the last axis; other axes go
 * through a transpose), layer norm (forward and backward kernels), dropout with the shared Philox stream,
 * and regression losses.
 */
import { record } from '../autograd/tape.ts';
import { sameShape, shapeToString } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { checkDtype, describe, storages, wrap } from './util.ts';
import { full } from './creation.ts';
import { mul, sub } from './binary.ts';
import { abs, exp, square } from './unary.ts';
import { axisOf, mean, sum } from './reduce.ts';
import { reshape } from './reshape.ts';
import { transpose } from './movement.ts';

export { gelu, relu, elu } from './unary.ts';

type LastAxisKernel = 'softmax' | 'logSoftmax';

function lastAxis(op: LastAxisKernel, x: Tensor, axis: number): Tensor {
  checkDtype(op, x, ['f32']);
  if (x.rank === 0) throw new Error(`${op}: input is a scalar (shape []); it needs at least one axis`);
  const a = axisOf(op, x, axis);
  if (a !== x.rank - 1) {
    // Move the axis last, apply, move it back (both transposes are differentiable).
    const xt = transpose(x, a, x.rank - 1);
    const yt = lastAxis(op, xt, -1);
    const y = transpose(yt, a, x.rank - 1);
    xt.dispose();
    yt.dispose();
    return y;
  }
  const { backend, s } = storages(op, x);
  const y = wrap(backend.kernels[op](s[0]!, [...x.shape]), x.shape, backend);
  record(op, [x], [y], ([g]) => {
    if (op === 'softmax') {
      // dx = y · (g − Σ g·y)
      return [mul(y, sub(g!, sum(mul(g!, y), -1, true)))];
    }
    // dx = g − softmax(x) · Σ g, softmax(x) = exp(y)
    return [sub(g!, mul(exp(y), sum(g!, -1, true)))];
  }, [y]);
  return y;
}

/** Softmax along `axis` (default the last). */
export const softmax = (x: Tensor, axis = -1): Tensor => lastAxis('softmax', x, axis);
/** Log-softmax along `axis` (default the last). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => lastAxis('logSoftmax', x, axis);

/**
 * Layer norm over the last axis (size D) with affine gamma/beta [D] (ones / zeros when omitted);
 * biased variance, as PyTorch. Forward and backward are single kernels.
 */
export function layerNorm(x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  checkDtype(op, x, ['f32']);
  if (x.rank === 0) throw new Error(`${op}: input is a scalar (shape []); it needs at least one axis`);
  const d = x.shape[x.rank - 1]!;
  const temps: Tensor[] = [];
  const affine = (t: Tensor | null | undefined, fill: number, what: string): Tensor => {
    if (!t) {
      const made = full([d], fill, { backend: x.backend.name });
      temps.push(made);
      return made;
    }
    checkDtype(op, t, ['f32'], what);
    if (t.rank !== 1 || t.shape[0] !== d) {
      throw new Error(`${op}: ${what} has shape ${shapeToString(t.shape)}; expected [${d}] for input ${shapeToString(x.shape)}`);
    }
    return t;
  };
  const g = affine(gamma, 1, 'gamma');
  const b = affine(beta, 0, 'beta');
  const { backend, s } = storages(op, x, g, b);
  const shape = [...x.shape];
  const res = backend.kernels.layerNorm(s[0]!, shape, s[1]!, s[2]!, eps);
  const y = wrap(res.y, x.shape, backend);
  const rows = x.size / Math.max(d, 1);
  const mu = wrap(res.mean, [rows], backend);
  const rstd = wrap(res.rstd, [rows], backend);
  record(op, [x, g, b], [y], ([dy]) => {
    const k = backend.kernels;
    const r = k.layerNormBackward(
      dy!.use(op), x.use(op), shape, g.use(op), mu.use(op), rstd.use(op),
    );
    return [
      wrap(r.dx, x.shape, backend),
      wrap(r.dgamma, [d], backend),
      wrap(r.dbeta, [d], backend),
    ];
  }, [mu, rstd]);
  // The statistics live only for the backward pass: the tape pins them (or they are freed now).
  mu.dispose();
  rstd.dispose();
  for (const t of temps) t.dispose();
  return y;
}

/**
 * Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p). The mask comes
 * from the shared Philox stream (`rng` reserves x.size counters), so every backend drops the same
 * elements. Identity (a free alias) when not training or p = 0.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  const op = 'dropout';
  checkDtype(op, x, ['f32']);
  if (!(p >= 0 && p <= 1)) throw new Error(`${op}: probability p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return reshape(x, x.shape);
  if (p === 1) return mul(x, 0);
  const { backend, s } = storages(op, x);
  const n = x.size;
  const keep = wrap(backend.kernels.random(n, 'bernoulli', rng.seed, rng.take(n), 1 - p), [n], backend);
  // x · (keep ? 1/(1 − p) : 0) in one kernel; the backward pass applies the same mask to the gradient.
  const scale = 1 / (1 - p);
  const out = wrap(backend.kernels.dropoutMask(s[0]!, keep.use(op), scale), x.shape, backend);
  record(op, [x], [out], ([g]) => [wrap(backend.kernels.dropoutMask(g!.use(op), keep.use(op), scale), x.shape, backend)], [keep]);
  keep.dispose();
  return out;
}

export type Reduction = 'mean' | 'sum' | 'none';

function lossInputs(op: string, pred: Tensor, target: Tensor): void {
  checkDtype(op, pred, ['f32'], 'prediction');
  checkDtype(op, target, ['f32'], 'target');
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`${op}: prediction ${describe(pred)} and target ${describe(target)} have different shapes`);
  }
}

function reduceLoss(per: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return per;
  const out = reduction === 'mean' ? mean(per) : sum(per);
  per.dispose();
  return out;
}

/** Mean squared error (TSLib's MSE); `reduction` as PyTorch. */
export function mseLoss(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  lossInputs('mseLoss', pred, target);
  const d = sub(pred, target);
  const per = square(d);
  d.dispose();
  return reduceLoss(per, reduction);
}

/** Mean absolute error (L1); the gradient is sign(pred − target), 0 where they are equal. */
export function maeLoss(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  lossInputs('maeLoss', pred, target);
  const d = sub(pred, target);
  const per = abs(d);
  d.dispose();
  return reduceLoss(per, reduction);
}

/** PyTorch's name for maeLoss. */
export const l1Loss = maeLoss;
