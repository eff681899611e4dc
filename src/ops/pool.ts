/**
 * 1-D pooling over the last axis, matching torch.nn.AvgPool1d (count_include_pad = true, ceil_mode = false)
 * and torch.nn.MaxPool1d (padding ignored). Input [N, C, L] or [C, L].
 * Lout = floor((L + 2·pad − k) / stride) + 1; PyTorch's rule pad ≤ k/2 is enforced.
 * Backward: the contract's avgPool1dBackward / maxPool1dBackward kernels.
 */
import { record } from '../autograd/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString } from '../tensor/shape.ts';
import { checkDtype, checkInt, checkRank, storages, wrap } from './util.ts';

function poolPlan(op: string, x: Tensor, k: number, stride: number, pad: number): { shape3: number[]; outShape: number[] } {
  checkRank(op, x, [2, 3]);
  checkDtype(op, x, ['f32']);
  checkInt(op, 'kernel size', k, 1);
  checkInt(op, 'stride', stride, 1);
  checkInt(op, 'padding', pad, 0);
  if (2 * pad > k) throw new Error(`${op}: padding ${pad} must be at most half the kernel size ${k}`);
  const shape3 = x.rank === 3 ? [...x.shape] : [1, ...x.shape];
  const L = shape3[2]!;
  if (L + 2 * pad < k) {
    throw new Error(`${op}: input ${shapeToString(x.shape)} with padding ${pad} is shorter than the kernel size ${k}`);
  }
  const Lout = Math.floor((L + 2 * pad - k) / stride) + 1;
  return { shape3, outShape: [...x.shape.slice(0, -1), Lout] };
}

/** Average pooling with window k (stride defaults to k), zero padding counted in the average. */
export function avgPool1d(x: Tensor, k: number, stride = k, pad = 0): Tensor {
  const op = 'avgPool1d';
  const { shape3, outShape } = poolPlan(op, x, k, stride, pad);
  const { backend, s } = storages(op, x);
  const out = wrap(backend.kernels.avgPool1d(s[0]!, shape3, k, stride, pad), outShape, backend);
  const dyShape = [shape3[0]!, shape3[1]!, outShape[outShape.length - 1]!];
  record(op, [x], [out], ([g]) => [
    wrap(backend.kernels.avgPool1dBackward(g!.use(op), dyShape, shape3, k, stride, pad), x.shape, backend),
  ]);
  return out;
}

/** Max pooling with window k (stride defaults to k); padded positions never win. */
export function maxPool1d(x: Tensor, k: number, stride = k, pad = 0): Tensor {
  const { values, indices } = maxPool1dWithIndices(x, k, stride, pad);
  indices.dispose(); // the tape keeps it while the backward needs it
  return values;
}

/** Max pooling that also returns the i32 position in L of each maximum (first on ties). */
export function maxPool1dWithIndices(x: Tensor, k: number, stride = k, pad = 0): { values: Tensor; indices: Tensor } {
  const op = 'maxPool1d';
  const { shape3, outShape } = poolPlan(op, x, k, stride, pad);
  const { backend, s } = storages(op, x);
  const r = backend.kernels.maxPool1d(s[0]!, shape3, k, stride, pad);
  const values = wrap(r.values, outShape, backend);
  const indices = wrap(r.indices, outShape, backend);
  const dyShape = [shape3[0]!, shape3[1]!, outShape[outShape.length - 1]!];
  record(op, [x], [values], ([g]) => [
    wrap(backend.kernels.maxPool1dBackward(g!.use(op), indices.use(op), dyShape, shape3), x.shape, backend),
  ], [indices]);
  return { values, indices };
}
