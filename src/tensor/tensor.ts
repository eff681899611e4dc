/**
 * Tensor: a shape, a dtype and a storage owned by one backend. Tensors are immutable values; ops make new
 * ones. Memory on wasm and GPU is not garbage-collected, so a tensor is freed by `dispose()` or by the
 * `tidy` scope that made it (see engine.ts).
 */
import type { AnyTypedArray, Backend, DType, Storage } from '../backend/kernels.ts';
import { shapeToString, sizeOf } from './shape.ts';
import type { TapeNode } from '../autograd/tape.ts';
import { engine } from './engine.ts';

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  /** Autograd: the op that made this tensor (null for leaves and outside recording). */
  node: TapeNode | null = null;
  /** Autograd: accumulate a gradient into `.grad` during backward. */
  requiresGrad = false;
  /** Gradient of the last backward pass (a tensor the caller owns until the optimizer zeroes it). */
  grad: Tensor | null = null;
  /** Optional human name (parameters use their state-dict key). */
  name?: string;
  /** Disposed by the user or its scope; storage may still live while the tape references it. */
  isDisposed = false;
  /** Number of tape nodes that saved this tensor for their backward pass. */
  tapeRefs = 0;
  /** Set while the storage is really held. */
  storage: Storage | null;

  constructor(
    storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly backend: Backend,
  ) {
    this.storage = storage;
    this.size = sizeOf(shape);
    if (storage.size !== this.size) {
      throw new Error(`Tensor: storage holds ${storage.size} elements but shape ${shapeToString(shape)} needs ${this.size}`);
    }
  }

  get rank(): number {
    return this.shape.length;
  }

  /**
   * The storage, or a clear error naming the op when the tensor was disposed. During `backward()` a
   * disposed tensor whose storage the tape still pins is readable (backward functions use saved tensors).
   */
  use(op: string): Storage {
    if (this.storage === null || (this.isDisposed && !engine.inBackward)) {
      throw new Error(`${op}: tensor #${this.id}${this.name ? ` (${this.name})` : ''} of shape ${shapeToString(this.shape)} was disposed`);
    }
    return this.storage;
  }

  /** Read the values (all backends). */
  async data(): Promise<AnyTypedArray> {
    return this.backend.read(this.use('data'));
  }

  /** Read the values synchronously; CPU backends only. */
  dataSync(): AnyTypedArray {
    const s = this.use('dataSync');
    if (!this.backend.readSync) {
      throw new Error(`dataSync: backend '${this.backend.name}' reads asynchronously; use await tensor.data()`);
    }
    return this.backend.readSync(s);
  }

  /** Values as nested JS arrays (for printing and tests). */
  async array(): Promise<unknown> {
    return nest(Array.from(await this.data()), this.shape);
  }

  dispose(): void {
    engine.disposeTensor(this);
  }

  toString(): string {
    return `Tensor#${this.id}(${shapeToString(this.shape)}, ${this.dtype}, ${this.backend.name})`;
  }
}

function nest(flat: number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  if (shape.length === 1) return flat;
  const [d, ...rest] = shape;
  const inner = sizeOf(rest);
  return Array.from({ length: d! }, (_, i) => nest(flat.slice(i * inner, (i + 1) * inner), rest));
}

engine.factory = (storage, shape, dtype, backend) => new Tensor(storage, shape, dtype, backend);
