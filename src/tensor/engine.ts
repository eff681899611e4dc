/**
 * The engine: which backend new tensors go to, tidy scopes, live-tensor accounting and the autograd switch.
 * One instance per program (`engine`).
 */
import type { Backend, DType, Storage } from '../backend/kernels.ts';
import type { Tensor } from './tensor.ts';

export interface MemoryInfo {
  /** Live (not yet freed) tensors over all backends. */
  tensors: number;
  /** Bytes held by live storages over all backends. */
  bytes: number;
  perBackend: Record<string, { tensors: number; bytes: number }>;
}

type TensorFactory = (storage: Storage, shape: readonly number[], dtype: DType, backend: Backend) => Tensor;

export class Engine {
  private readonly backends = new Map<string, Backend>();
  private current: Backend | null = null;
  private readonly scopes: Set<Tensor>[] = [];
  private readonly live = new Set<Tensor>();
  private noGradDepth = 0;
  private backwardDepth = 0;
  /**
   * Extra owners of storages shared between tensors (a `reshape` shares its input's storage). A storage is
   * freed when its last owner releases it; storages owned by one tensor are not listed.
   */
  private readonly sharedStorage = new Map<Storage, number>();
  /** Set by tensor.ts at load; avoids a circular import at module-evaluation time. */
  factory: TensorFactory | null = null;

  registerBackend(backend: Backend): void {
    this.backends.set(backend.name, backend);
    if (this.current === null) this.current = backend;
  }

  hasBackend(name: string): boolean {
    return this.backends.has(name);
  }

  /** Whether any backend is registered (so `backend` has one to return). */
  hasAnyBackend(): boolean {
    return this.current !== null;
  }

  getBackend(name?: string): Backend {
    if (name === undefined) {
      if (this.current === null) throw new Error("no backend selected: call `await setBackend('wasm')` (or 'js', 'webgpu') first");
      return this.current;
    }
    const b = this.backends.get(name);
    if (!b) {
      throw new Error(`engine: backend '${name}' is not initialised (known: ${[...this.backends.keys()].join(', ') || 'none'})`);
    }
    return b;
  }

  /** Make `name` the backend for new tensors. */
  useBackend(name: string): void {
    this.current = this.getBackend(name);
  }

  get backend(): Backend {
    return this.getBackend();
  }

  /** Wrap a fresh storage as a tracked tensor in the current scope. */
  makeTensor(storage: Storage, shape: readonly number[], dtype: DType, backend: Backend): Tensor {
    if (!this.factory) throw new Error('engine: tensor factory missing (import src/index.ts)');
    const t = this.factory(storage, shape, dtype, backend);
    this.live.add(t);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.add(t);
    return t;
  }

  /**
   * Run `fn`; every tensor created inside that is not part of its result (tensor, array or object of
   * tensors) and not kept is disposed at the end, even when `fn` throws.
   */
  tidy<T>(fn: () => T): T {
    const scope = new Set<Tensor>();
    this.scopes.push(scope);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.scopes.pop();
      for (const t of scope) this.disposeTensor(t);
      throw e;
    }
    this.scopes.pop();
    const keepSet = new Set<Tensor>();
    collectTensors(result, keepSet);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of scope) {
      if (keepSet.has(t)) {
        if (parent) parent.add(t);
      } else {
        this.disposeTensor(t);
      }
    }
    return result;
  }

  /** Take `t` out of every tidy scope: the caller disposes it. */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  disposeTensor(t: Tensor): void {
    if (t.isDisposed) return;
    t.isDisposed = true;
    for (const s of this.scopes) s.delete(t);
    this.releaseIfUnused(t);
  }

  /**
   * Wrap `t`'s storage as a second tensor of another shape (same size): no copy, no kernel. The storage is
   * reference-counted and freed when the last tensor holding it is released. Storages are immutable (kernels
   * never write their inputs), so sharing is safe.
   */
  shareTensor(t: Tensor, shape: readonly number[], op: string): Tensor {
    const s = t.use(op);
    this.sharedStorage.set(s, (this.sharedStorage.get(s) ?? 0) + 1);
    return this.makeTensor(s, shape, t.dtype, t.backend);
  }

  /** Free the storage once the tensor is disposed and no tape node still needs it. */
  releaseIfUnused(t: Tensor): void {
    if (!t.isDisposed || t.storage === null) return;
    if (t.tapeRefs > 0) {
      // Pinned, perhaps only by the node that made it: that node may now be unreachable (see TapeNode).
      t.node?.onOutputFreed();
      return;
    }
    const node = t.node;
    t.node = null;
    const owners = this.sharedStorage.get(t.storage);
    if (owners === undefined) t.backend.free(t.storage);
    else if (owners === 1) this.sharedStorage.delete(t.storage);
    else this.sharedStorage.set(t.storage, owners - 1);
    t.storage = null;
    this.live.delete(t);
    if (node) node.onOutputFreed();
  }

  memory(): MemoryInfo {
    const perBackend: Record<string, { tensors: number; bytes: number }> = {};
    for (const b of this.backends.values()) perBackend[b.name] = { tensors: 0, bytes: b.bytesInUse() };
    for (const t of this.live) {
      const e = (perBackend[t.backend.name] ??= { tensors: 0, bytes: 0 });
      e.tensors++;
    }
    let tensors = 0;
    let bytes = 0;
    for (const e of Object.values(perBackend)) {
      tensors += e.tensors;
      bytes += e.bytes;
    }
    return { tensors, bytes, perBackend };
  }

  get gradEnabled(): boolean {
    return this.noGradDepth === 0;
  }

  /**
   * True while `backward()` runs node backward functions: they may read tensors that a tidy scope disposed
   * but the tape still pins (their storage is held until the node is released).
   */
  get inBackward(): boolean {
    return this.backwardDepth > 0;
  }

  /** Run `fn` as backward code (see `inBackward`); used by autograd/backward.ts. */
  runBackward<T>(fn: () => T): T {
    this.backwardDepth++;
    try {
      return fn();
    } finally {
      this.backwardDepth--;
    }
  }

  /** Run `fn` without recording autograd nodes. */
  noGrad<T>(fn: () => T): T {
    this.noGradDepth++;
    try {
      return fn();
    } finally {
      this.noGradDepth--;
    }
  }
}

function collectTensors(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (value === null || value === undefined || depth > 4) return;
  if (typeof value !== 'object') return;
  if ('storage' in value && 'shape' in value && 'backend' in value) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, depth + 1);
  }
}

export const engine = new Engine();

export const tidy = <T>(fn: () => T): T => engine.tidy(fn);
export const keep = <T extends Tensor>(t: T): T => engine.keep(t);
export const noGrad = <T>(fn: () => T): T => engine.noGrad(fn);
