/**
 * Storage for the `js` backend: a plain typed array plus a freed flag, and the heap that counts live bytes.
 * Every kernel family allocates its outputs through one `JsHeap` so that `bytesInUse()` sees them.
 */
import type { AnyTypedArray, DType, Storage } from '../kernels.ts';

export interface JsStorage extends Storage {
  readonly backend: 'js';
  readonly size: number;
  readonly dtype: DType;
  /** The elements; replaced by an empty array when freed so the memory can be collected. */
  data: AnyTypedArray;
  freed: boolean;
}

export function dtypeOf(data: AnyTypedArray): DType {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Int32Array) return 'i32';
  return 'u8';
}

/** A zero-filled typed array of the given element type. */
export function newArray(dtype: DType, size: number): AnyTypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(size);
    case 'i32':
      return new Int32Array(size);
    case 'u8':
      return new Uint8Array(size);
  }
}

export class JsHeap {
  /** Bytes held by storages that are not freed. */
  bytes = 0;

  /** Take ownership of `data` (no copy) as a new storage. */
  adopt<T extends AnyTypedArray>(data: T): JsStorage & { data: T } {
    this.bytes += data.byteLength;
    return { backend: 'js', size: data.length, dtype: dtypeOf(data), data, freed: false };
  }

  alloc(size: number, dtype: DType): JsStorage {
    return this.adopt(newArray(dtype, size));
  }

  release(s: Storage): void {
    const js = asJs('free', s);
    this.bytes -= js.data.byteLength;
    js.freed = true;
    // Drop the array so the garbage collector can take it; the flag makes later use an error.
    js.data = newArray(js.dtype, 0);
  }
}

/** Check that `s` is a live js storage; errors name the op so the failing call is easy to find. */
export function asJs(op: string, s: Storage): JsStorage {
  if (s === null || typeof s !== 'object') throw new Error(`${op}: expected a storage, got ${String(s)}`);
  if (s.backend !== 'js') {
    throw new Error(`${op}: storage belongs to backend '${s.backend}', not 'js'; move the tensor first`);
  }
  const js = s as JsStorage;
  if (js.freed) throw new Error(`${op}: storage was already freed`);
  return js;
}

/**
 * The elements of an input storage. With `size`, checks that the storage holds exactly that many
 * elements (a mismatch means the caller passed the wrong shape, and reading on would go out of range);
 * with `dtype`, checks the element type.
 */
export function input(op: string, s: Storage, size?: number, dtype?: DType, what = 'input'): AnyTypedArray {
  const js = asJs(op, s);
  if (size !== undefined && js.size !== size) {
    throw new Error(`${op}: ${what} storage holds ${js.size} elements, but its shape needs ${size}`);
  }
  if (dtype !== undefined && js.dtype !== dtype) {
    throw new Error(`${op}: ${what} has dtype ${js.dtype}; expected ${dtype}`);
  }
  return js.data;
}
