/** Argument checks shared by every op: clear errors that name the op, the shapes and what was wrong. */
import type { Backend, DType, Storage } from '../backend/kernels.ts';
import { engine } from '../tensor/engine.ts';
import { shapeToString } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';

export function describe(t: Tensor): string {
  return `${shapeToString(t.shape)} ${t.dtype}`;
}

/** The storages of `ts`, checking they are alive and on one backend. */
export function storages(op: string, ...ts: Tensor[]): { backend: Backend; s: Storage[] } {
  const backend = ts[0]!.backend;
  const s = ts.map((t) => {
    if (t.backend !== backend) {
      throw new Error(`${op}: inputs live on different backends (${ts.map((x) => x.backend.name).join(', ')}); move them with toBackend()`);
    }
    return t.use(op);
  });
  return { backend, s };
}

export function checkDtype(op: string, t: Tensor, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(t.dtype)) {
    throw new Error(`${op}: ${what} of shape ${shapeToString(t.shape)} has dtype ${t.dtype}; expected ${allowed.join(' or ')}`);
  }
}

/** A Linear layer's bias: f32 [out] for a weight described as `weight` (its shape, in the message). */
export function checkBias(op: string, bias: Tensor, out: number, weight: string): void {
  checkDtype(op, bias, ['f32'], 'bias');
  if (bias.rank !== 1 || bias.shape[0] !== out) {
    throw new Error(`${op}: bias has shape ${shapeToString(bias.shape)}; expected [${out}] for weight ${weight}`);
  }
}

export function checkRank(op: string, t: Tensor, rank: number | [number, number], what = 'input'): void {
  const [lo, hi] = typeof rank === 'number' ? [rank, rank] : rank;
  if (t.rank < lo || t.rank > hi) {
    const want = lo === hi ? `rank ${lo}` : `rank ${lo}..${hi}`;
    throw new Error(`${op}: ${what} has shape ${shapeToString(t.shape)}; expected ${want}`);
  }
}

export function checkInt(op: string, name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

export function wrap(storage: Storage, shape: readonly number[], backend: Backend): Tensor {
  return engine.makeTensor(storage, shape, storage.dtype, backend);
}
