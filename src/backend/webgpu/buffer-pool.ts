/**
 * Size-bucketed reuse of GPUBuffers. Requests are rounded up to a size class (256 B minimum, then steps of
 * a quarter power of two, so at most 25% is wasted) and freed buffers wait in a per-class free list. Training
 * loops make the same shapes every step, so after the first step almost every allocation is a reuse.
 *
 * `bytesInUse` counts the class bytes of buffers handed out and not yet released (what engine.memory
 * reports); `bytesPooled` counts idle buffers kept for reuse. `trim()` destroys idle buffers; the pool also
 * trims itself when idle bytes pass `maxIdleBytes`. The runtime must flush pending GPU work that may still
 * reference released buffers before calling `trim()`.
 */

export function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 256);
  const p = 2 ** Math.floor(Math.log2(b));
  if (b === p) return b;
  const step = Math.max(p / 4, 256);
  return Math.ceil(b / step) * step;
}

export interface PooledBuffer {
  buffer: GPUBuffer;
  bytes: number;
  /** True when the buffer was just created (contents are zero and no pending GPU work uses it). */
  fresh: boolean;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private inUse = 0;
  private pooled = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
    readonly maxIdleBytes = 256 * 1024 * 1024,
  ) {}

  acquire(bytes: number): PooledBuffer {
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    this.inUse += cls;
    if (list && list.length > 0) {
      this.pooled -= cls;
      return { buffer: list.pop()!, bytes: cls, fresh: false };
    }
    const buffer = this.device.createBuffer({ size: cls, usage: this.usage, label: `${this.label}:${cls}` });
    return { buffer, bytes: cls, fresh: true };
  }

  release(buffer: GPUBuffer, bytes: number): void {
    this.inUse -= bytes;
    let list = this.free.get(bytes);
    if (!list) this.free.set(bytes, (list = []));
    list.push(buffer);
    this.pooled += bytes;
  }

  /** True when idle buffers exceed the cap (the runtime then flushes and trims). */
  get overCap(): boolean {
    return this.pooled > this.maxIdleBytes;
  }

  /** Destroy idle buffers (all of them, or until at most `keepBytes` stay pooled). */
  trim(keepBytes = 0): void {
    // Largest classes first: they free the most memory per destroyed buffer.
    const classes = [...this.free.keys()].sort((a, b) => b - a);
    for (const cls of classes) {
      const list = this.free.get(cls)!;
      while (list.length > 0 && this.pooled > keepBytes) {
        list.pop()!.destroy();
        this.pooled -= cls;
      }
    }
  }

  get bytesInUse(): number {
    return this.inUse;
  }

  get bytesPooled(): number {
    return this.pooled;
  }
}
