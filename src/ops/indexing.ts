/**
 * Indexing: indexSelect, gather, scatterAdd, topk and oneHot.
 *
 * Index tensors are i32. On backends that read synchronously (js, wasm) the ops check every index against
 * the axis length and throw naming the op, the shapes and the first bad index; on WebGPU the contents are
 * not read back (kernels there must not trap, and out-of-range indices are a caller bug).
 *
 * Gradients: indexSelect and gather scatter-add the gradient back; scatterAdd gathers it; topk's values
 * scatter their gradient to the selected positions (indices carry no gradient).
 */
import { record } from '../autograd/tape.ts';
import { normAxis, shapeToString } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, checkInt, checkRank, describe, storages, wrap } from './util.ts';
import { tensor } from './creation.ts';
import { reshape } from './reshape.ts';
import { broadcastTo } from './movement.ts';

/** Index values when the backend reads synchronously, else null. */
export function hostValues(t: Tensor): ArrayLike<number> | null {
  if (!t.backend.readSync) return null;
  return t.backend.readSync(t.use('hostValues'));
}

/** Throw naming `op` when any index is outside [0, n). */
export function checkIndexRange(op: string, indices: Tensor, n: number, what: string): void {
  const v = hostValues(indices);
  if (!v) return;
  for (let i = 0; i < v.length; i++) {
    const k = v[i]!;
    if (k < 0 || k >= n) {
      throw new Error(`${op}: index ${k} at position ${i} of indices ${shapeToString(indices.shape)} is out of range for ${what} (size ${n})`);
    }
  }
}

/** Indices as an i32 tensor on x's backend (accepts a number[] or Int32Array for convenience). */
function asIndexTensor(op: string, idx: Tensor | readonly number[] | Int32Array, like: Tensor): { t: Tensor; temp: boolean } {
  if (idx instanceof Int32Array || Array.isArray(idx)) {
    const arr = Int32Array.from(idx as ArrayLike<number>);
    return { t: tensor(arr, [arr.length], { backend: like.backend.name, dtype: 'i32' }), temp: true };
  }
  const t = idx as Tensor;
  checkDtype(op, t, ['i32'], 'indices');
  return { t, temp: false };
}

/**
 * torch.index_select: take the entries `indices` (i32, 1-D) along `axis`; the output has indices.length on
 * that axis. Gradient: scatter-add back along the axis (repeated indices accumulate).
 */
export function indexSelect(x: Tensor, axis: number, indicesIn: Tensor | readonly number[] | Int32Array): Tensor {
  const op = 'indexSelect';
  const a = normAxis(op, axis, x.rank);
  const { t: indices, temp } = asIndexTensor(op, indicesIn, x);
  try {
    checkRank(op, indices, 1, 'indices');
    checkIndexRange(op, indices, x.shape[a]!, `axis ${a} of ${describe(x)}`);
    const n = indices.shape[0]!;
    const { backend, s } = storages(op, x, indices);
    const outShape = [...x.shape];
    outShape[a] = n;
    const out = wrap(backend.kernels.indexSelect(s[0]!, [...x.shape], a, s[1]!, n), outShape, backend);
    const inShape = [...x.shape];
    record(op, [x], [out], ([g]) => {
      // Index tensor of g's shape: indices along `axis`, broadcast over every other axis.
      const view = inShape.map((_, d) => (d === a ? n : 1));
      const full = broadcastTo(reshape(indices, view), g!.shape);
      return [scatterAdd(g!, full, a, inShape)];
    }, [indices]);
    return out;
  } finally {
    if (temp) indices.dispose();
  }
}

function checkSameOutside(op: string, x: Tensor, indices: Tensor, a: number): void {
  if (indices.rank !== x.rank || indices.shape.some((d, i) => i !== a && d !== x.shape[i])) {
    throw new Error(`${op}: indices ${shapeToString(indices.shape)} must have the rank of ${shapeToString(x.shape)} and equal sizes outside axis ${a}`);
  }
}

/**
 * torch.gather: out[..i..] = x[.. indices[..i..] on axis ..]. `indices` (i32) has x's rank and x's sizes
 * on every axis but `axis`; the output has the indices' shape.
 */
export function gather(x: Tensor, axis: number, indices: Tensor): Tensor {
  const op = 'gather';
  const a = normAxis(op, axis, x.rank);
  checkDtype(op, indices, ['i32'], 'indices');
  checkSameOutside(op, x, indices, a);
  checkIndexRange(op, indices, x.shape[a]!, `axis ${a} of ${describe(x)}`);
  const { backend, s } = storages(op, x, indices);
  const out = wrap(backend.kernels.gather(s[0]!, [...x.shape], a, s[1]!, [...indices.shape]), indices.shape, backend);
  const inShape = [...x.shape];
  record(op, [x], [out], ([g]) => [scatterAdd(g!, indices, a, inShape)], [indices]);
  return out;
}

/**
 * torch.zeros(outShape).scatter_add_(axis, indices, src): out[.. indices[i] on axis ..] += src[i].
 * `src` and `indices` share a shape, which equals `outShape` outside `axis`. Differentiable in src
 * (gradient: gather at the same indices).
 */
export function scatterAdd(src: Tensor, indices: Tensor, axis: number, outShape: readonly number[]): Tensor {
  const op = 'scatterAdd';
  checkDtype(op, src, ['f32']);
  checkDtype(op, indices, ['i32'], 'indices');
  const shape = [...outShape];
  const a = normAxis(op, axis, shape.length);
  if (src.rank !== indices.rank || src.shape.some((d, i) => d !== indices.shape[i])) {
    throw new Error(`${op}: src ${shapeToString(src.shape)} and indices ${shapeToString(indices.shape)} must have the same shape`);
  }
  if (src.rank !== shape.length || src.shape.some((d, i) => i !== a && d !== shape[i])) {
    throw new Error(`${op}: src ${shapeToString(src.shape)} must match the output ${shapeToString(shape)} outside axis ${a}`);
  }
  for (const d of shape) checkInt(op, 'output dimension', d, 0);
  checkIndexRange(op, indices, shape[a]!, `axis ${a} of the output ${shapeToString(shape)}`);
  const { backend, s } = storages(op, src, indices);
  const out = wrap(backend.kernels.scatterAdd(s[0]!, s[1]!, [...indices.shape], a, shape), shape, backend);
  record(op, [src], [out], ([g]) => [gather(g!, a, indices)], [indices]);
  return out;
}

export interface TopkOptions {
  /** Largest (default) or smallest k. */
  largest?: boolean;
}

/**
 * The k largest (or smallest) entries along the last axis, sorted, ties broken by the lower index.
 * Returns values (f32, differentiable) and indices (i32), both of shape [..., k].
 */
export function topk(x: Tensor, k: number, opts: TopkOptions = {}): { values: Tensor; indices: Tensor } {
  const op = 'topk';
  checkDtype(op, x, ['f32']);
  if (x.rank === 0) throw new Error(`${op}: input ${describe(x)} must have at least one axis`);
  const n = x.shape[x.rank - 1]!;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new Error(`${op}: k = ${k} must be an integer in [0, ${n}] for the input ${describe(x)}`);
  }
  const largest = opts.largest ?? true;
  const { backend, s } = storages(op, x);
  const r = backend.kernels.topk(s[0]!, [...x.shape], k, largest);
  const outShape = [...x.shape.slice(0, -1), k];
  const values = wrap(r.values, outShape, backend);
  const indices = wrap(r.indices, outShape, backend);
  const inShape = [...x.shape];
  record(op, [x], [values], ([g]) => [scatterAdd(g!, indices, inShape.length - 1, inShape)], [indices]);
  return { values, indices };
}

/**
 * One-hot encoding: i32 indices of any shape → f32 [...shape, depth]; an index outside [0, depth) gives an
 * all-zero row (as the kernel contract specifies). Not differentiable.
 */
export function oneHot(indices: Tensor, depth: number): Tensor {
  const op = 'oneHot';
  checkDtype(op, indices, ['i32'], 'indices');
  checkInt(op, 'depth', depth, 0);
  const { backend, s } = storages(op, indices);
  return wrap(backend.kernels.oneHot(s[0]!, indices.size, depth), [...indices.shape, depth], backend);
}
