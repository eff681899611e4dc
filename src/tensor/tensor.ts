/**
 * Tensor: a shape, a dtype and a storage owned by one backend. Tensors are immutable values; ops make new
 * ones. Memory on wasm and GPU is not garbage-collected, so a tensor is freed by `dispose()` or by the
 * `tidy` scope that made it (see engine.ts).
 */
import type { AnyTypedArray, Backend, DType, Storage, TypedArrayFor } from '../backend/kernels.ts';
import { shapeToString, sizeOf } from './shape.ts';
import type { TapeNode } from '../autograd/tape.ts';
import { engine } from './engine.ts';

let nextId = 1;

/**
 * `D` names the element type ('f32', 'i32' or 'u8') so `data()` resolves to the matching typed array:
 * `tensor(new Float32Array(4))` is a `Tensor<'f32'>` whose `data()` is a `Float32Array`; a plain `Tensor` (any
 * dtype) reads as the union, and `asType('f32')` narrows after checking the runtime dtype. `D` is a type-level
 * label only (every `Tensor<…>` is assignable to every other), so a variable first holding a `Tensor<'f32'>`
 * can later hold any op's result, as before the label existed.
 */
export class Tensor<D extends DType = DType> {
  readonly id = nextId++;
  readonly size: number;
  /**
   * Autograd: the op that made this tensor (null for leaves and outside recording).
   * @internal
   */
  node: TapeNode | null = null;
  /** Autograd: accumulate a gradient into `.grad` during backward. */
  requiresGrad = false;
  /** Gradient of the last backward pass (a tensor the caller owns until the optimizer zeroes it). */
  grad: Tensor | null = null;
  /** Optional human name (parameters use their state-dict key). */
  name?: string;
  /** Disposed by the user or its scope; storage may still live while the tape references it. */
  isDisposed = false;
  /**
   * Number of tape nodes that saved this tensor for their backward pass.
   * @internal
   */
  tapeRefs = 0;
  /**
   * Set while the storage is really held.
   * @internal
   */
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
   * @internal
   * The storage, or a clear error naming the op when the tensor was disposed. During `backward()` a
   * disposed tensor whose storage the tape still pins is readable (backward functions use saved tensors).
   */
  use(op: string): Storage {
    if (this.storage === null || (this.isDisposed && !engine.inBackward)) {
      throw new Error(`${op}: tensor #${this.id}${this.name ? ` (${this.name})` : ''} of shape ${shapeToString(this.shape)} was disposed`);
    }
    return this.storage;
  }

  /** Read the values (all backends): a Float32Array for 'f32', Int32Array for 'i32', Uint8Array for 'u8'. */
  async data<T extends DType = D>(this: Tensor<T>): Promise<TypedArrayFor<T>> {
    return (await this.backend.read(this.use('data'))) as TypedArrayFor<T>;
  }

  /** This tensor typed by its dtype, after checking it: `(await t.asType('f32').data())` is a Float32Array. */
  asType<T extends DType>(dtype: T): Tensor<T> {
    if (this.dtype !== dtype) throw new Error(`asType: tensor #${this.id} is ${this.dtype}, not ${dtype}`);
    return this as unknown as Tensor<T>;
  }

  /** Read the values synchronously; CPU backends only. */
  dataSync<T extends DType = D>(this: Tensor<T>): TypedArrayFor<T> {
    const s = this.use('dataSync');
    if (!this.backend.readSync) {
      throw new Error(`dataSync: backend '${this.backend.name}' reads asynchronously; use await tensor.data()`);
    }
    return this.backend.readSync(s) as TypedArrayFor<T>;
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
