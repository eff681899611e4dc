/** Tensor creation: from host values, constants, and seeded random draws. */
import type { AnyTypedArray, Backend, DType } from '../backend/kernels.ts';
import { engine } from '../tensor/engine.ts';
import { shapeToString, sizeOf } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';

export interface CreateOptions {
  dtype?: DType;
  /** Backend name; the engine's current backend by default. */
  backend?: string;
}

function backendOf(opts?: CreateOptions): Backend {
  return engine.getBackend(opts?.backend);
}

function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape ${shapeToString(shape)}`);
  }
}

function flatten(values: unknown, out: number[], shape: number[], depth: number): void {
  if (Array.isArray(values)) {
    if (shape.length === depth) shape.push(values.length);
    else if (shape[depth] !== values.length) throw new Error(`tensor: ragged nested array at depth ${depth}`);
    for (const v of values) flatten(v, out, shape, depth + 1);
  } else {
    if (typeof values !== 'number' && typeof values !== 'boolean') {
      throw new Error(`tensor: expected numbers, got ${typeof values}`);
    }
    out.push(Number(values));
  }
}

/**
 * A tensor from a typed array (with shape), a flat array (with shape) or nested arrays. The dtype is
 * `opts.dtype`, else the typed array's (Float32Array 'f32', Int32Array 'i32', Uint8Array 'u8'), else 'f32';
 * the result's type carries it, so `data()` resolves to the matching typed array.
 */
export function tensor<D extends DType>(values: AnyTypedArray | number[] | unknown[] | number, shape: readonly number[] | undefined, opts: CreateOptions & { dtype: D }): Tensor<D>;
export function tensor(values: Int32Array, shape?: readonly number[], opts?: CreateOptions): Tensor<'i32'>;
export function tensor(values: Uint8Array, shape?: readonly number[], opts?: CreateOptions): Tensor<'u8'>;
export function tensor(values: Float32Array | number[] | unknown[] | number, shape?: readonly number[], opts?: CreateOptions): Tensor<'f32'>;
export function tensor(values: AnyTypedArray | number[] | unknown[] | number, shape?: readonly number[], opts?: CreateOptions): Tensor;
export function tensor(
  values: AnyTypedArray | number[] | unknown[] | number,
  shape?: readonly number[],
  opts: CreateOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[] = [];
  if (typeof values === 'number') {
    flat = [values];
  } else if (ArrayBuffer.isView(values)) {
    flat = values;
    inferred = [values.length];
  } else {
    const out: number[] = [];
    flatten(values, out, inferred, 0);
    flat = out;
  }
  const finalShape = shape ? [...shape] : inferred;
  checkShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${shapeToString(finalShape)}`);
  }
  const dtype: DType =
    opts.dtype ?? (values instanceof Int32Array ? 'i32' : values instanceof Uint8Array ? 'u8' : 'f32');
  const data = dtype === 'f32' ? Float32Array.from(flat) : dtype === 'i32' ? Int32Array.from(flat) : Uint8Array.from(flat);
  const backend = backendOf(opts);
  return engine.makeTensor(backend.upload(data), finalShape, dtype, backend);
}

export function scalar(value: number, opts: CreateOptions = {}): Tensor {
  return tensor([value], [], opts);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const backend = backendOf(opts);
  const dtype = opts.dtype ?? 'f32';
  return engine.makeTensor(backend.kernels.fill(sizeOf(shape), dtype, value), [...shape], dtype, backend);
}

export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 1, opts);

/** Same shape, dtype and backend as `t`, filled with `value`. */
export function fullLike(t: Tensor, value: number): Tensor {
  return engine.makeTensor(t.backend.kernels.fill(t.size, t.dtype, value), t.shape, t.dtype, t.backend);
}
export const zerosLike = (t: Tensor): Tensor => fullLike(t, 0);
export const onesLike = (t: Tensor): Tensor => fullLike(t, 1);

/** 0, 1, …, n-1. */
export function arange(n: number, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'i32';
  const data = dtype === 'f32' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = i;
  return tensor(data, [n], { ...opts, dtype });
}

/**
 * Seeded random tensors drawn on the backend (same values on every backend): the generator reserves a
 * range of its counter space, so consecutive draws never overlap.
 */
export function randomUniform(shape: readonly number[], rng: Rng, lo = 0, hi = 1, opts: CreateOptions = {}): Tensor {
  checkShape('randomUniform', shape);
  const backend = backendOf(opts);
  const n = sizeOf(shape);
  const u = backend.kernels.random(n, 'uniform', rng.seed, rng.take(n), 0);
  if (lo === 0 && hi === 1) return engine.makeTensor(u, [...shape], 'f32', backend);
  const k = backend.kernels;
  const scale = k.fill(1, 'f32', hi - lo);
  const shift = k.fill(1, 'f32', lo);
  const scaled = k.binary('mul', u, [n], scale, [1]);
  const out = k.binary('add', scaled, [n], shift, [1]);
  for (const s of [u, scale, shift, scaled]) backend.free(s);
  return engine.makeTensor(out, [...shape], 'f32', backend);
}

export function randomNormal(shape: readonly number[], rng: Rng, mean = 0, std = 1, opts: CreateOptions = {}): Tensor {
  checkShape('randomNormal', shape);
  const backend = backendOf(opts);
  const n = sizeOf(shape);
  const z = backend.kernels.random(n, 'normal', rng.seed, rng.take(n), 0);
  if (mean === 0 && std === 1) return engine.makeTensor(z, [...shape], 'f32', backend);
  const k = backend.kernels;
  const scale = k.fill(1, 'f32', std);
  const shift = k.fill(1, 'f32', mean);
  const scaled = k.binary('mul', z, [n], scale, [1]);
  const out = k.binary('add', scaled, [n], shift, [1]);
  for (const s of [z, scale, shift, scaled]) backend.free(s);
  return engine.makeTensor(out, [...shape], 'f32', backend);
}

/** Copy a tensor to another backend (reads back on GPU backends, so it is async). */
export async function toBackend(t: Tensor, name: string): Promise<Tensor> {
  const target = engine.getBackend(name);
  const data = await t.data();
  return engine.makeTensor(target.upload(data), t.shape, t.dtype, target);
}
