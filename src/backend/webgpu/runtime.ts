/**
 * The WebGPU runtime: one device, its buffer pools, the pipeline cache and the command batcher.
 *
 * Storage: every storage is one pooled GPUBuffer (STORAGE | COPY_SRC | COPY_DST). f32 and i32 hold one
 * 32-bit word per element. u8 has no WGSL storage type, so a u8 storage holds ONE u32 WORD PER ELEMENT
 * (value 0..255; masks are 0/1): kernels read and write `array<u32>`, `upload` widens a Uint8Array to
 * u32 words and `read` narrows them back. This costs 4x the bytes of a packed mask and keeps every kernel
 * free of sub-word read-modify-write races. Empty storages get a minimum-size buffer (a 0-byte binding is
 * invalid) and kernels on them dispatch nothing.
 *
 * Batching: kernels record dispatches into one open command encoder (consecutive dispatches share one
 * compute pass; the implementation orders storage accesses between dispatches). The encoder is submitted
 * once per `read`, per explicit `flush()`, or after `maxBatch` dispatches, never per op. Reads copy into a MAP_READ staging buffer and `mapAsync` it.
 *
 * Ordering rules that make buffer reuse safe without waiting on the GPU:
 * - a freed buffer goes straight back to the pool; any later use is recorded after the earlier uses in the
 *   same queue, so the GPU sees them in order;
 * - `queue.writeBuffer` runs at the next queue operation, *before* the open encoder is submitted, so an
 *   upload into a recycled buffer while work is recorded goes through a mapped-at-creation staging buffer
 *   and a copy inside the encoder instead (fresh buffers use writeBuffer);
 * - zero-filled allocations of recycled buffers use `clearBuffer` inside the encoder.
 * Params (shapes, sizes, scalars) go in a 1 KiB uniform buffer per dispatch, drawn from a pool that is
 * refilled after each submit.
 *
 * Errors: validation and out-of-memory errors arrive asynchronously; the first one is kept and thrown by
 * the next `read`/`sync`, naming the kernel that was being recorded when it was raised where possible.
 * Kernels whose arguments can only be validated against GPU-computed values (denseToCsr's `nnz`) record a
 * `expectWord` check: the word is copied into a small mappable buffer inside the batch, and the next
 * `read`/`sync` compares it and throws the kernel's own message on a mismatch.
 */
import type { AnyTypedArray, DType, Storage } from '../kernels.ts';
import { BufferPool } from './buffer-pool.ts';
import { PipelineCache, type Spec } from './pipelines.ts';
import type { GpuContext } from './device.ts';

export interface GpuStorage extends Storage {
  readonly backend: 'webgpu';
  readonly buffer: GPUBuffer;
  /** Bytes reserved (size class). */
  readonly bytes: number;
  freed: boolean;
}

/** Words (u32) of the params uniform; shaders/common.wgsl declares the same size. */
export const PARAM_WORDS = 256;
const PARAM_BYTES = PARAM_WORDS * 4;

/** Bytes per element on the GPU: u8 is widened to a u32 word. */
export const GPU_BYTES_PER = 4;

/** Bit pattern of an f32 value, for params. */
const f32Buf = new Float32Array(1);
const u32View = new Uint32Array(f32Buf.buffer);
export function f32bits(v: number): number {
  f32Buf[0] = v;
  return u32View[0]!;
}

/** A params block: integers (i32 or u32, stored as their 32-bit pattern) and f32 bit patterns. */
export class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  set(i: number, v: number): this {
    if (i >= PARAM_WORDS) throw new Error(`webgpu: params index ${i} out of range`);
    this.words[i] = v >>> 0;
    return this;
  }
  setF(i: number, v: number): this {
    return this.set(i, f32bits(v));
  }
  setAll(i: number, vs: readonly number[]): this {
    for (let k = 0; k < vs.length; k++) this.set(i + k, vs[k]!);
    return this;
  }
}

export interface DispatchDesc {
  family: string;
  entry: string;
  spec?: Spec;
  params: Params;
  /** Storages bound at bindings 1, 2, ... in order (binding 0 is the params uniform); null skips a binding. */
  buffers: (GpuStorage | null)[];
  /** Workgroup grid: a count (laid out as x, spilling into y past the per-dimension limit) or x, y, z. */
  groups: number | [number, number, number];
}

export interface WebGpuRuntimeOptions {
  /** Submit after this many recorded dispatches even without a read (bounds params memory). */
  maxBatch?: number;
}

export class WebGpuRuntime {
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  readonly description: string;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private readonly maxBatch: number;
  private paramFree: GPUBuffer[] = [];
  private paramUsed: GPUBuffer[] = [];
  private uploadTemps: GPUBuffer[] = [];
  private uploadTempBytes = 0;
  private firstError: Error | null = null;
  /** Deferred value checks (see `expectWord`): the buffer being filled and the checks recorded into it. */
  private checkBuf: GPUBuffer | null = null;
  private checkSlots: Array<{ expected: number; message: (actual: number) => string }> = [];
  private checkBatches: Array<{ buffer: GPUBuffer; slots: Array<{ expected: number; message: (actual: number) => string }> }> = [];
  private checkFree: GPUBuffer[] = [];
  private current = '';
  private lost = false;
  /** Counters for tests and benchmarks. */
  readonly stats = { submits: 0, dispatches: 0 };

  constructor(readonly ctx: GpuContext, opts: WebGpuRuntimeOptions = {}) {
    this.device = ctx.device;
    this.limits = ctx.device.limits;
    this.description = ctx.description;
    this.maxBatch = opts.maxBatch ?? 512;
    this.pipelines = new PipelineCache(this.device);
    this.pool = new BufferPool(
      this.device,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      'sparsecast',
    );
    this.staging = new BufferPool(this.device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'staging', 64 << 20);
    this.device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.firstError ??= new Error(`webgpu: ${e.constructor?.name ?? 'GPUError'}${this.current ? ` (while recording ${this.current})` : ''}: ${e.message}`);
    });
    void this.device.lost.then((info) => {
      this.lost = true;
      this.firstError ??= new Error(`webgpu: device lost (${info.reason}): ${info.message}`);
    });
  }

  // ---- storage ------------------------------------------------------------------------------------

  get bytesInUse(): number {
    return this.pool.bytesInUse;
  }

  private checkSize(size: number, op: string): number {
    if (!(Number.isInteger(size) && size >= 0)) throw new Error(`${op}: size must be an integer ≥ 0, got ${size}`);
    const bytes = size * GPU_BYTES_PER;
    const max = this.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new Error(
        `${op}: a tensor of ${size} elements needs ${bytes} bytes, more than this adapter's ` +
          `maxStorageBufferBindingSize (${max} bytes, ${this.description}); split it or use the wasm backend`,
      );
    }
    return bytes;
  }

  /** A storage of `size` elements; zero-filled unless `zero` is false (outputs a kernel overwrites). */
  alloc(size: number, dtype: DType, zero = true, op = 'alloc'): GpuStorage {
    const bytes = this.checkSize(size, op);
    if (this.pool.overCap) this.trim();
    const b = this.pool.acquire(bytes);
    if (zero && !b.fresh) {
      this.endPass();
      this.enc().clearBuffer(b.buffer, 0, b.bytes);
    }
    return { backend: 'webgpu', size, dtype, buffer: b.buffer, bytes: b.bytes, freed: false };
  }

  free(s: Storage): void {
    const g = this.check(s, 'free');
    g.freed = true;
    this.pool.release(g.buffer, g.bytes);
  }

  check(s: Storage, op: string): GpuStorage {
    if (s === null || typeof s !== 'object') throw new Error(`${op}: expected a storage, got ${String(s)}`);
    const g = s as GpuStorage;
    if (g.backend !== 'webgpu' || !g.buffer) {
      throw new Error(`${op}: storage belongs to backend '${s.backend}', not 'webgpu'; move the tensor first`);
    }
    if (g.freed) throw new Error(`${op}: storage was already freed (use after dispose)`);
    return g;
  }

  upload(data: AnyTypedArray): GpuStorage {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u8';
    if (!(data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array)) {
      throw new Error('upload: expected a Float32Array, Int32Array or Uint8Array');
    }
    const bytes = this.checkSize(data.length, 'upload');
    if (this.pool.overCap) this.trim();
    const b = this.pool.acquire(bytes);
    const s: GpuStorage = { backend: 'webgpu', size: data.length, dtype, buffer: b.buffer, bytes: b.bytes, freed: false };
    if (data.length === 0) return s;
    const words = dtype === 'u8' ? Uint32Array.from(data as Uint8Array) : data;
    if (!b.fresh && this.encoder) {
      // writeBuffer would run before the open encoder, and recorded work may still read this recycled
      // buffer: stage the data in a mapped-at-creation buffer and copy it inside the encoder instead, so
      // uploads do not force a submit. The staging buffer is destroyed after the batch is submitted.
      const tmp = this.device.createBuffer({
        size: Math.ceil(words.byteLength / 4) * 4, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true, label: 'upload',
      });
      new Uint8Array(tmp.getMappedRange()).set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
      tmp.unmap();
      this.endPass();
      this.enc().copyBufferToBuffer(tmp, 0, b.buffer, 0, words.byteLength);
      this.uploadTemps.push(tmp);
      this.uploadTempBytes += tmp.size;
      if (this.uploadTempBytes > 64 << 20) this.flush();
      return s;
    }
    this.device.queue.writeBuffer(b.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return s;
  }

  // ---- deferred checks ------------------------------------------------------------------------------

  private static readonly CHECK_SLOTS = 64;

  /**
   * Record a check that word `index` of `src` (as i32) equals `expected` once the recorded work has run; the
   * next `read`/`sync` throws `message(actual)` otherwise. Costs one 4-byte copy in the batch and, at the next
   * read, one map of a 256-byte buffer.
   */
  expectWord(src: GpuStorage, index: number, expected: number, message: (actual: number) => string): void {
    if (!this.checkBuf) {
      this.checkBuf = this.checkFree.pop() ?? this.device.createBuffer({
        size: WebGpuRuntime.CHECK_SLOTS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'checks',
      });
    }
    this.endPass();
    this.enc().copyBufferToBuffer(src.buffer, index * 4, this.checkBuf, this.checkSlots.length * 4, 4);
    this.checkSlots.push({ expected, message });
    if (this.checkSlots.length === WebGpuRuntime.CHECK_SLOTS) this.closeChecks();
  }

  private closeChecks(): void {
    if (this.checkBuf && this.checkSlots.length > 0) {
      this.checkBatches.push({ buffer: this.checkBuf, slots: this.checkSlots });
    }
    this.checkBuf = null;
    this.checkSlots = [];
  }

  /** Map the check buffers of submitted work and throw the first failed check (call after `flush`). */
  private async runChecks(): Promise<void> {
    this.closeChecks();
    if (this.checkBatches.length === 0) return;
    const batches = this.checkBatches;
    this.checkBatches = [];
    let failure: Error | null = null;
    for (const b of batches) {
      try {
        await b.buffer.mapAsync(GPUMapMode.READ, 0, b.slots.length * 4);
      } catch (e) {
        b.buffer.destroy();
        failure ??= new Error(`webgpu: reading a kernel check failed: ${(e as Error).message}`);
        continue;
      }
      const words = new Int32Array(b.buffer.getMappedRange(0, b.slots.length * 4).slice(0));
      b.buffer.unmap();
      this.checkFree.push(b.buffer);
      b.slots.forEach((c, i) => {
        if (words[i] !== c.expected) failure ??= new Error(c.message(words[i]!));
      });
    }
    if (failure) throw failure;
  }

  /** Copy a storage back to the host (submits all recorded work first). */
  async read(s: Storage): Promise<AnyTypedArray> {
    const g = this.check(s, 'read');
    const bytes = g.size * GPU_BYTES_PER;
    if (bytes === 0) {
      await this.sync();
      return g.dtype === 'f32' ? new Float32Array(0) : g.dtype === 'i32' ? new Int32Array(0) : new Uint8Array(0);
    }
    const st = this.staging.acquire(bytes);
    this.endPass();
    this.enc().copyBufferToBuffer(g.buffer, 0, st.buffer, 0, bytes);
    this.flush();
    const checks = this.runChecks();
    checks.catch(() => undefined); // awaited below; handled now so an early failure is not 'unhandled'
    try {
      await st.buffer.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      await checks.catch(() => undefined);
      this.throwIfError();
      throw new Error(`webgpu: read failed: ${(e as Error).message}`);
    }
    const copy = st.buffer.getMappedRange(0, bytes).slice(0);
    st.buffer.unmap();
    this.staging.release(st.buffer, st.bytes);
    await checks;
    this.throwIfError();
    switch (g.dtype) {
      case 'f32':
        return new Float32Array(copy);
      case 'i32':
        return new Int32Array(copy);
      default:
        return Uint8Array.from(new Uint32Array(copy));
    }
  }

  /** Submit recorded work and wait for the GPU; throws the first asynchronous error, if any. */
  async sync(): Promise<void> {
    this.flush();
    const checks = this.runChecks();
    checks.catch(() => undefined); // awaited below; handled now so an early failure is not 'unhandled'
    await this.device.queue.onSubmittedWorkDone();
    await checks;
    this.throwIfError();
  }

  private throwIfError(): void {
    if (this.firstError) {
      const e = this.firstError;
      if (!this.lost) this.firstError = null;
      throw e;
    }
  }

  /** Destroy idle pooled buffers (after submitting work that may still use them). */
  trim(): void {
    this.flush();
    this.pool.trim();
    this.staging.trim();
  }

  private dummyStorage: GpuStorage | null = null;

  /** A small zeroed storage outside the pool (not counted in bytesInUse) for optional bindings. */
  dummy(): GpuStorage {
    if (!this.dummyStorage) {
      const buffer = this.device.createBuffer({
        size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: 'dummy',
      });
      this.dummyStorage = { backend: 'webgpu', size: 64, dtype: 'f32', buffer, bytes: 256, freed: false };
    }
    return this.dummyStorage;
  }

  private readonly constants = new Map<string, GpuStorage>();

  /**
   * A read-only table (e.g. FFT twiddles) cached under `key` for the runtime's life, outside the pool (not
   * counted in bytesInUse). Written at creation (mappedAtCreation), so no ordering hazard with recorded work.
   */
  constant(key: string, make: () => Float32Array): GpuStorage {
    let c = this.constants.get(key);
    if (!c) {
      const data = make();
      const bytes = Math.max(256, Math.ceil(data.byteLength / 4) * 4);
      const buffer = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true, label: key });
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
      c = { backend: 'webgpu', size: data.length, dtype: 'f32', buffer, bytes, freed: false };
      this.constants.set(key, c);
    }
    return c;
  }

  // ---- recording ----------------------------------------------------------------------------------

  private enc(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'sparsecast batch' });
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Record a buffer-to-buffer copy (whole-word counts). */
  copy(src: GpuStorage, srcElem: number, dst: GpuStorage, dstElem: number, count: number): void {
    if (count === 0) return;
    this.endPass();
    this.enc().copyBufferToBuffer(src.buffer, srcElem * 4, dst.buffer, dstElem * 4, count * 4);
  }

  private paramBuffer(p: Params): GPUBuffer {
    let buf = this.paramFree.pop();
    if (!buf) {
      buf = this.device.createBuffer({
        size: PARAM_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        label: 'params',
      });
    }
    // Each recorded dispatch has its own params buffer, so writing it now (before submit) is safe.
    this.device.queue.writeBuffer(buf, 0, p.words.buffer, 0, PARAM_BYTES);
    this.paramUsed.push(buf);
    return buf;
  }

  /** Split a workgroup count over x and y so no dimension passes the limit. */
  grid(count: number): [number, number, number] {
    const lim = this.limits.maxComputeWorkgroupsPerDimension;
    if (count <= lim) return [count, 1, 1];
    const y = Math.ceil(count / lim);
    if (y > lim) throw new Error(`webgpu: ${count} workgroups exceed the dispatch limit`);
    return [Math.ceil(count / y), y, 1];
  }

  dispatch(d: DispatchDesc): void {
    const [x, y, z] = typeof d.groups === 'number' ? this.grid(d.groups) : d.groups;
    if (x === 0 || y === 0 || z === 0) return;
    this.current = `${d.family}.${d.entry}`;
    const pipeline = this.pipelines.get(d.family, d.entry, d.spec);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.paramBuffer(d.params) } }];
    d.buffers.forEach((s, i) => {
      if (s === null) return;
      const g = this.check(s, `${d.family}.${d.entry}`);
      entries.push({ binding: i + 1, resource: { buffer: g.buffer } });
    });
    const bind = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (!this.pass) this.pass = this.enc().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bind);
    this.pass.dispatchWorkgroups(x, y, z);
    this.recorded++;
    this.stats.dispatches++;
    if (this.recorded >= this.maxBatch) this.flush();
  }

  /** Submit the open encoder (if any). Ops never need this; reads call it. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const cb = this.encoder.finish();
    this.encoder = null;
    this.recorded = 0;
    this.device.queue.submit([cb]);
    this.stats.submits++;
    // Params buffers of submitted work can be rewritten: writeBuffer is ordered after this submit.
    this.paramFree.push(...this.paramUsed);
    this.paramUsed = [];
    // Destroying after submit is safe: the buffers live until the submitted work that copies them is done.
    for (const t of this.uploadTemps) t.destroy();
    this.uploadTemps = [];
    this.uploadTempBytes = 0;
  }

  destroy(): void {
    this.flush();
    this.pool.trim();
    this.staging.trim();
    for (const b of this.paramFree) b.destroy();
    this.paramFree = [];
    for (const b of this.checkFree) b.destroy();
    this.checkFree = [];
    this.device.destroy();
  }
}
