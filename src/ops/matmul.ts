/**
 * Matrix products. `matmul` multiplies the last two dims with optional transpose flags (so Q·Kᵀ needs no
 * copy) and broadcasts the leading (batch) dims NumPy-style. `linear` is PyTorch's F.linear: weight
 * [out, in], y = x·Wᵀ + b for x of any rank ≥ 1, run as one 2-D kernel call with the fused bias.
 */
import { record } from '../autograd/tape.ts';
import { countFlops, isWeight } from '../tensor/flops.ts';
import { broadcastShapes, shapeToString, sizeOf } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkBias, checkDtype, storages, wrap } from './util.ts';
import { unbroadcast } from './binary.ts';
import { reshape } from './reshape.ts';
import { sum } from './reduce.ts';

export interface MatmulOptions {
  /** Use aᵀ (the last two dims of a swapped). */
  transA?: boolean;
  /** Use bᵀ (the last two dims of b swapped). */
  transB?: boolean;
}

function mm(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const op = 'matmul';
  const flags = `${transA ? ', transA' : ''}${transB ? ', transB' : ''}`;
  const ar = a.rank;
  const br = b.rank;
  const [m, ka] = transA ? [a.shape[ar - 1]!, a.shape[ar - 2]!] : [a.shape[ar - 2]!, a.shape[ar - 1]!];
  const [kb, n] = transB ? [b.shape[br - 1]!, b.shape[br - 2]!] : [b.shape[br - 2]!, b.shape[br - 1]!];
  if (ka !== kb) {
    throw new Error(
      `${op}: shapes ${shapeToString(a.shape)} and ${shapeToString(b.shape)}${flags} do not chain ` +
        `(inner dimensions ${ka} vs ${kb})`,
    );
  }
  const batch = broadcastShapes(`${op} (batch dims)`, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...batch, m, n];
  const { backend, s } = storages(op, a, b);
  countFlops(op, 2 * sizeOf(batch) * m * n * ka, isWeight(a) ? a : isWeight(b) ? b : null);
  const out = wrap(
    backend.kernels.matmul({ a: s[0]!, b: s[1]!, aShape: [...a.shape], bShape: [...b.shape], transA, transB }),
    outShape,
    backend,
  );
  record(op, [a, b], [out], ([g]) => {
    // With op(A)·op(B) = C: d op(A) = G·op(B)ᵀ, d op(B) = op(A)ᵀ·G; transpose back where a flag was set.
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transA ? mm(b, g!, transB, true) : mm(g!, b, false, !transB);
      da = unbroadcast(full, a.shape);
    }
    if (b.requiresGrad) {
      const full = transB ? mm(g!, a, true, transA) : mm(a, g!, !transA, false);
      db = unbroadcast(full, b.shape);
    }
    return [da, db];
  });
  return out;
}

/**
 * Batched matrix product op(a)·op(b) over the last two dims; leading dims broadcast. A rank-1 operand is
 * treated as a row (a) or column (b) vector and that dimension is dropped from the result, as in NumPy
 * (its transpose flag is ignored).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  checkDtype('matmul', a, ['f32'], 'left operand');
  checkDtype('matmul', b, ['f32'], 'right operand');
  if (a.rank === 0 || b.rank === 0) {
    throw new Error(`matmul: shapes ${shapeToString(a.shape)} and ${shapeToString(b.shape)}: scalars cannot be multiplied as matrices; use mul`);
  }
  if (a.rank >= 2 && b.rank >= 2) return mm(a, b, transA, transB);
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const c = mm(a2, b2, a.rank === 1 ? false : transA, b.rank === 1 ? false : transB);
  const shape = c.shape.slice(0, -2);
  if (a.rank !== 1) shape.push(c.shape[c.rank - 2]!);
  if (b.rank !== 1) shape.push(c.shape[c.rank - 1]!);
  const out = reshape(c, shape);
  for (const t of [a2, b2, c]) if (t !== a && t !== b) t.dispose();
  return out;
}

/** PyTorch's F.linear: x [..., in] · weight[out, in]ᵀ (+ bias[out]) → [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = 'linear';
  checkDtype(op, x, ['f32'], 'input');
  checkDtype(op, weight, ['f32'], 'weight');
  if (weight.rank !== 2) throw new Error(`${op}: weight has shape ${shapeToString(weight.shape)}; expected [out, in]`);
  const [outF, inF] = weight.shape as [number, number];
  if (x.rank === 0 || x.shape[x.rank - 1] !== inF) {
    throw new Error(`${op}: input ${shapeToString(x.shape)} does not match weight ${shapeToString(weight.shape)} (last dim must be ${inF})`);
  }
  if (bias) checkBias(op, bias, outF, shapeToString(weight.shape));
  const x2 = reshape(x, [sizeOf(x.shape.slice(0, -1)), inF]);
  const ins = bias ? [x2, weight, bias] : [x2, weight];
  const { backend, s } = storages(op, ...ins);
  countFlops(op, 2 * x2.shape[0]! * outF * inF, weight);
  const y2 = wrap(
    backend.kernels.matmul({
      a: s[0]!, b: s[1]!, aShape: [...x2.shape], bShape: [outF, inF], transA: false, transB: true, bias: s[2],
    }),
    [x2.shape[0]!, outF],
    backend,
  );
  record(op, ins, [y2], ([g]) => [
    x2.requiresGrad ? mm(g!, weight, false, false) : null,
    weight.requiresGrad ? mm(g!, x2, true, false) : null,
    ...(bias ? [bias.requiresGrad ? sum(g!, 0) : null] : []),
  ]);
  const y = reshape(y2, [...x.shape.slice(0, -1), outF]);
  x2.dispose();
  y2.dispose();
  return y;
}
