/**
 * The wasm runtime: one instance of the AssemblyScript kernel module, its linear memory and the allocator
 * that hands out regions of it. Kernel glue (src/backend/wasm/kernels/*.ts) allocates outputs here, passes
 * byte offsets to the module's exports, and never keeps a typed-array view across an allocation: memory.grow
 * detaches old views, so views are re-made on demand (`f32()`, `i32()`, `u8()`).
 *
 * Allocator: blocks are rounded up to a size class (64-byte granules; coarser above 64 KiB) and freed blocks
 * go to an exact-size-class free list for reuse, which suits training loops that make the same shapes every
 * step. A block freed at the top of the heap lowers the bump pointer instead. Freed storages are poisoned so a
 * use-after-free is reported, not read.
 *
 * Threads: with a thread pool (threads.ts) the memory is a shared one and `parallel` runs one kernel export
 * split across threads. Only this (calling) thread allocates, frees, grows memory or touches the views.
 */
import type { DType, Storage } from '../kernels.ts';
import type { ThreadPool } from './threads.ts';
import type { GemmBlocking } from './gemm-tune.ts';

export interface WasmStorage extends Storage {
  readonly backend: 'wasm';
  /** Byte offset in linear memory. */
  readonly ptr: number;
  /** Bytes reserved (size class). */
  readonly bytes: number;
  freed: boolean;
}

export const BYTES_PER: Record<DType, number> = { f32: 4, i32: 4, u8: 1 };

const PAGE = 65536;
const WASM32_MAX_BYTES = 4 * 1024 * 1024 * 1024;

/** The exports every kernel family adds to; glue files index it by name. */
export type KernelExports = Record<string, (...args: number[]) => number | void> & {
  memory: WebAssembly.Memory;
};

function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 16);
  if (b <= 65536) return Math.ceil(b / 64) * 64;
  if (b <= 1 << 22) return Math.ceil(b / 4096) * 4096;
  return Math.ceil(b / 65536) * 65536;
}

/**
 * How an allocation the wasm32 heap cannot serve begins its message; kernel-errors.ts adds the kernel and its
 * arguments to such an error (a prefix, not an Error subclass: sparsecast/infer's bundle is at its size budget).
 */
export const OUT_OF_MEMORY = 'wasm: out of memory';

export class WasmRuntime {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  readonly relaxed: boolean;
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private inUse = 0;
  private buffer: ArrayBuffer | null = null;
  private f32View: Float32Array | null = null;
  private i32View: Int32Array | null = null;
  private u8View: Uint8Array | null = null;
  /** The worker pool sharing this memory, when the backend was created with threads > 1. */
  pool: ThreadPool | null = null;
  /** Split every kernel that can be split, whatever its size (tests and the threshold sweep; default off). */
  splitAll = false;
  /**
   * A bench instrument (bench/threads.ts --model), for machines with no idle core to measure a speedup on:
   * without a pool, plan kernels for `threads` threads but run the parts one after another on this thread,
   * reporting each part's time to `onJob`. Null in normal use.
   */
  model: { threads: number; onJob: (name: string, partMs: number[]) => void } | null = null;
  /**
   * The dense GEMM's blocking for an m×n×k product (gemm-tune.ts: measured per CPU at first use; null: the
   * build's own). Unset (the inference backend, or tuning turned off): every product runs the build's blocking.
   * Declared only (no initialiser), so the inference bundle carries no code for it.
   */
  declare gemmBlocking?: (m: number, n: number, k: number, transA: boolean, transB: boolean) => GemmBlocking | null;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as KernelExports;
    this.memory = this.exports.memory;
    const base = (this.exports.heapBase as () => number)();
    this.top = Math.ceil(base / 64) * 64;
    this.relaxed = (this.exports.isRelaxed as () => number)() === 1;
  }

  /** Bytes held by live storages. */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Total linear memory (grows, never shrinks). */
  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Threads a kernel may split its work over (1 without a pool, or once the pool is shut down). */
  get threads(): number {
    return this.pool ? this.pool.size : (this.model?.threads ?? 1);
  }

  /**
   * Run kernel export `name` once per part, parts[t] being thread t's arguments (null: nothing for that
   * thread), and return when all are done. Without a working pool the parts run one after another on this
   * thread: kernels split their work so that any order of the parts gives the same bytes.
   */
  parallel(name: string, parts: ReadonlyArray<ReadonlyArray<number> | null>): void {
    if (this.pool && this.pool.size >= parts.length && parts.length > 1) {
      this.pool.run(name, parts);
      return;
    }
    const fn = this.exports[name];
    if (typeof fn !== 'function') throw new Error(`wasm: kernel export '${name}' is missing from the module`);
    if (this.model && parts.length > 1) {
      const ms = parts.map((p) => {
        const t0 = performance.now();
        if (p) fn(...p);
        return performance.now() - t0;
      });
      this.model.onJob(name, ms);
      return;
    }
    for (const p of parts) if (p) fn(...p);
  }

  /**
   * Reserve `bytes` for the runtime's whole life (per-thread kernel scratch): taken from the top of the heap,
   * 64-byte aligned, never freed and not counted in bytesInUse (it holds no tensor).
   */
  reserveStatic(bytes: number): number {
    const b = this.allocBytes(bytes);
    this.inUse -= b.bytes;
    return b.ptr;
  }

  /** Reserve `bytes` of linear memory and return the byte offset (64-byte aligned). */
  allocBytes(bytes: number): { ptr: number; bytes: number } {
    const cls = sizeClass(bytes);
    const list = this.freeLists.get(cls);
    let ptr: number;
    if (list && list.length > 0) {
      ptr = list.pop()!;
    } else {
      ptr = this.top;
      const end = ptr + cls;
      if (end > WASM32_MAX_BYTES) {
        throw new Error(`${OUT_OF_MEMORY}: ${bytes} bytes requested with ${this.inUse} in use (wasm32 limit is 4 GiB)`);
      }
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        const pages = Math.ceil((end - have) / PAGE);
        // Grow by at least 1/8 of the heap so repeated small growths stay cheap.
        const want = Math.max(pages, Math.ceil(have / PAGE / 8));
        try {
          this.memory.grow(Math.min(want, (WASM32_MAX_BYTES - have) / PAGE));
        } catch {
          try {
            this.memory.grow(pages);
          } catch {
            throw new Error(`${OUT_OF_MEMORY}: cannot grow linear memory to ${end} bytes (${this.inUse} bytes in use)`);
          }
        }
      }
      this.top = end;
    }
    this.inUse += cls;
    return { ptr, bytes: cls };
  }

  freeBytes(ptr: number, bytes: number): void {
    this.inUse -= bytes;
    if (ptr + bytes === this.top) {
      this.top = ptr;
      return;
    }
    let list = this.freeLists.get(bytes);
    if (!list) this.freeLists.set(bytes, (list = []));
    list.push(ptr);
  }

  /** A storage of `size` elements; zero-filled unless `zero` is false (for outputs a kernel overwrites). */
  alloc(size: number, dtype: DType, zero = true): WasmStorage {
    const { ptr, bytes } = this.allocBytes(size * BYTES_PER[dtype]);
    if (zero) this.u8().fill(0, ptr, ptr + size * BYTES_PER[dtype]);
    return { backend: 'wasm', size, dtype, ptr, bytes, freed: false };
  }

  free(s: Storage): void {
    const w = this.check(s, 'free');
    w.freed = true;
    this.freeBytes(w.ptr, w.bytes);
  }

  /** Byte offset of a live storage of this runtime. */
  ptr(s: Storage, op = 'wasm'): number {
    return this.check(s, op).ptr;
  }

  private check(s: Storage, op: string): WasmStorage {
    const w = s as WasmStorage;
    if (w.backend !== 'wasm' || typeof w.ptr !== 'number') {
      throw new Error(`${op}: storage belongs to backend '${s.backend}', not wasm`);
    }
    if (w.freed) throw new Error(`${op}: storage was already freed (use after dispose)`);
    return w;
  }

  /**
   * Run `fn` with temporary blocks (workspaces, shape/stride arrays) that are freed afterwards.
   * `ints` copies small integer arrays (shapes, strides) into wasm memory.
   */
  withTemp<T>(fn: (tmp: TempArena) => T): T {
    const blocks: { ptr: number; bytes: number }[] = [];
    const arena: TempArena = {
      bytes: (n: number) => {
        const b = this.allocBytes(n);
        blocks.push(b);
        return b.ptr;
      },
      ints: (values: ArrayLike<number>) => {
        const b = this.allocBytes(Math.max(4, values.length * 4));
        blocks.push(b);
        const v = this.i32();
        for (let i = 0; i < values.length; i++) v[(b.ptr >>> 2) + i] = values[i]!;
        return b.ptr;
      },
      floats: (values: ArrayLike<number>) => {
        const b = this.allocBytes(Math.max(4, values.length * 4));
        blocks.push(b);
        const v = this.f32();
        for (let i = 0; i < values.length; i++) v[(b.ptr >>> 2) + i] = values[i]!;
        return b.ptr;
      },
    };
    try {
      return fn(arena);
    } finally {
      for (let i = blocks.length - 1; i >= 0; i--) this.freeBytes(blocks[i]!.ptr, blocks[i]!.bytes);
    }
  }

  private refresh(): ArrayBuffer {
    const buf = this.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.f32View = new Float32Array(buf);
      this.i32View = new Int32Array(buf);
      this.u8View = new Uint8Array(buf);
    }
    return buf;
  }

  /** Views over the whole memory; re-made after growth. Never hold one across an allocation. */
  f32(): Float32Array {
    this.refresh();
    return this.f32View!;
  }
  i32(): Int32Array {
    this.refresh();
    return this.i32View!;
  }
  u8(): Uint8Array {
    this.refresh();
    return this.u8View!;
  }

  /** Copy of a storage's elements. */
  read(s: Storage): Float32Array | Int32Array | Uint8Array {
    const w = this.check(s, 'read');
    const buf = this.refresh();
    switch (w.dtype) {
      case 'f32':
        return new Float32Array(buf, w.ptr, w.size).slice();
      case 'i32':
        return new Int32Array(buf, w.ptr, w.size).slice();
      default:
        return new Uint8Array(buf, w.ptr, w.size).slice();
    }
  }

  write(s: Storage, data: Float32Array | Int32Array | Uint8Array): void {
    const w = this.check(s, 'write');
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.u8().set(bytes, w.ptr);
  }
}

export interface TempArena {
  /** A temporary block of `n` bytes; returns its byte offset. */
  bytes(n: number): number;
  /** Copy integers into a temporary i32 array; returns its byte offset. */
  ints(values: ArrayLike<number>): number;
  /** Copy numbers into a temporary f32 array; returns its byte offset. */
  floats(values: ArrayLike<number>): number;
}
