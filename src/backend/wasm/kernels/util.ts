/**
 * Helpers shared by the wasm kernel glue (not the matmul/sparse families): export lookup, input checks,
 * dimension merging for strided walks, and temporary f32 copies of non-f32 inputs.
 */
import type { DType, Storage } from '../../kernels.ts';
import { BYTES_PER, type WasmRuntime } from '../runtime.ts';

export type Fn = (...args: number[]) => number;

/** The module export `name`; a missing one is a build problem, reported by name. */
export function wasmFn(rt: WasmRuntime, name: string): Fn {
  const f = rt.exports[name];
  if (typeof f !== 'function') throw new Error(`wasm: kernel export '${name}' is missing from the module (rebuild with npm run build:wasm)`);
  return f as Fn;
}

/** Byte offset of a live input storage, checking it holds `size` elements (and its dtype when given). */
export function inPtr(rt: WasmRuntime, op: string, s: Storage, size?: number, what = 'input', dtype?: DType): number {
  const p = rt.ptr(s, op);
  if (size !== undefined && s.size !== size) {
    throw new Error(`${op}: ${what} storage holds ${s.size} elements, but its shape needs ${size}`);
  }
  if (dtype !== undefined && s.dtype !== dtype) throw new Error(`${op}: ${what} has dtype ${s.dtype}; expected ${dtype}`);
  return p;
}

export function elemBytes(dtype: DType): number {
  return BYTES_PER[dtype];
}

/** Maximum rank the odometer walks accept (static counters in assembly/common.ts). */
export const MAX_RANK = 32;

/**
 * Merge dimensions for a strided walk: size-1 dims are dropped and neighbours i, i+1 are merged when every
 * stride list is contiguous across them. Always returns rank ≥ 1 (a scalar becomes [1] with stride 0).
 */
export function mergeDims(op: string, shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const k = outShape.length - 1;
    if (k >= 0 && strides.every((st, j) => outStrides[j]![k] === st[d]! * n)) {
      outShape[k]! *= n;
      strides.forEach((st, j) => (outStrides[j]![k] = st[d]!));
    } else {
      outShape.push(n);
      strides.forEach((st, j) => outStrides[j]!.push(st[d]!));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  if (outShape.length > MAX_RANK) throw new Error(`${op}: rank ${outShape.length} exceeds the wasm limit of ${MAX_RANK}`);
  return { shape: outShape, strides: outStrides };
}

export function splitAt(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return { outer, n: shape[axis]!, inner };
}

export function checkAxis(op: string, axis: number, rank: number): void {
  if (!(Number.isInteger(axis) && axis >= 0 && axis < rank)) {
    throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
}

/**
 * Run `fn` with `s` as f32: f32 storages pass through, i32/u8 are converted into a temporary that is
 * freed afterwards.
 */
export function withF32<T>(rt: WasmRuntime, s: Storage, fn: (f32: Storage) => T): T {
  if (s.dtype === 'f32') return fn(s);
  const tmp = convert(rt, s, 'f32');
  try {
    return fn(tmp);
  } finally {
    rt.free(tmp);
  }
}

/** Convert a storage to another numeric dtype (the contract's cast rules) into a new storage. */
export function convert(rt: WasmRuntime, s: Storage, dtype: DType): Storage {
  const src = rt.ptr(s, 'cast');
  const out = rt.alloc(s.size, dtype, false);
  const n = s.size;
  if (n === 0) return out;
  const dst = out.ptr;
  const from = s.dtype;
  if (from === dtype) {
    if (dtype === 'u8') wasmFn(rt, 'castU8U8')(src, dst, n);
    else rt.u8().copyWithin(dst, src, src + n * 4);
  } else if (from === 'f32' && dtype === 'i32') {
    wasmFn(rt, 'castF32I32')(src, dst, n);
  } else if (from === 'i32' && dtype === 'f32') {
    wasmFn(rt, 'castI32F32')(src, dst, n);
  } else if (dtype === 'u8') {
    wasmFn(rt, 'cast32U8')(src, dst, n, from === 'f32' ? 1 : 0);
  } else {
    wasmFn(rt, 'castU8To32')(src, dst, n, dtype === 'f32' ? 1 : 0);
  }
  return out;
}

/** Validate i32 indices held in wasm memory: each must be in [0, limit) (the error names op, index, position). */
export function checkIndices(rt: WasmRuntime, op: string, ptr: number, count: number, limit: number): void {
  const v = rt.i32();
  const base = ptr >>> 2;
  for (let j = 0; j < count; j++) {
    const i = v[base + j]!;
    if (!(i >= 0 && i < limit)) throw new Error(`${op}: index ${i} at position ${j} is out of range [0, ${limit})`);
  }
}

/** Throw `kernel: msg` (the sparse kernels' glue reports structural errors this way). */
export function fail(kernel: string, msg: string): never {
  throw new Error(`${kernel}: ${msg}`);
}

/** A storage must hold exactly `size` elements of `dtype`. */
export function checkSize(kernel: string, what: string, s: Storage, size: number, dtype: Storage['dtype']): void {
  if (s.dtype !== dtype) fail(kernel, `${what} must be ${dtype}, got ${s.dtype}`);
  if (s.size !== size) fail(kernel, `${what} has ${s.size} elements, expected ${size}`);
}

/** A dimension must be a non-negative integer. */
export function checkDim(kernel: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) fail(kernel, `${what} must be a non-negative integer, got ${v}`);
}

/** The address of an optional bias [n] (f32) for the sparse Linear products, or 0 (the kernels' "no bias"). */
export function biasPtr(rt: WasmRuntime, kernel: string, bias: Storage | undefined, n: number): number {
  if (!bias) return 0;
  checkSize(kernel, `bias [${n}]`, bias, n, 'f32');
  return rt.ptr(bias, kernel);
}
