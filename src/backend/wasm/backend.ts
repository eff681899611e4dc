/**
 * The `wasm` backend: AssemblyScript SIMD kernels in one module. Loads from the embedded bytes (works
 * anywhere, no file access), from a precompiled `WebAssembly.Module` (edge runtimes that forbid compiling
 * from bytes import build/kernels.wasm as a module), or from bytes the caller supplies.
 *
 * With `threads: N > 1` it loads the shared-memory build instead (same kernels, imported shared memory,
 * per-thread scratch) and starts a pool of N − 1 workers on that memory (threads.ts); kernels then split
 * large problems across the threads with results bit-identical to one thread. Where threads cannot run
 * (no SharedArrayBuffer, a page that is not cross-origin isolated, a browser page's main thread) it says so
 * once with console.warn and runs the single-threaded build.
 */
import type { AnyTypedArray, Backend, DType, KernelName, Kernels, Storage } from '../kernels.ts';
import { KERNEL_NAMES } from '../kernels.ts';
import { WasmRuntime } from './runtime.ts';
import { nameOutOfMemory } from './kernel-errors.ts';
import { FAMILIES, type KernelFamily } from './kernels/index.ts';
import { ThreadPool, threadSupport } from './threads.ts';
import { installGemmTuner } from './gemm-tune.ts';
import { WASM_BASE64 } from './generated/kernels.bytes.ts';
import { WASM_BASE64 as RELAXED_BASE64 } from './generated/kernels-relaxed.bytes.ts';
import { WASM_BASE64 as THREADS_BASE64 } from './generated/kernels-threads.bytes.ts';

export interface WasmBackendOptions {
  /** Use the relaxed-SIMD FMA build (faster, not bit-reproducible across CPUs). Default false. */
  relaxed?: boolean;
  /** A compiled module (e.g. `import mod from 'sparsecast/kernels.wasm'` on edge runtimes). */
  module?: WebAssembly.Module;
  /** Raw module bytes. */
  bytes?: Uint8Array<ArrayBuffer>;
  /**
   * Threads kernels may use, the calling thread included (default 1: no workers). Needs the async
   * createWasmBackend; not combinable with `relaxed`, `module` or `bytes` (the shared-memory build is
   * embedded).
   */
  threads?: number;
  /** How long a kernel waits for a worker thread before it throws (default 120 000 ms). */
  threadTimeoutMs?: number;
  /**
   * Split every splittable kernel across the threads however small (tests of the partitioning, threshold
   * sweeps); default false: small problems stay on one thread.
   */
  threadSplitAll?: boolean;
  /**
   * Pick the dense GEMM's cache blocking for this CPU by a short trial at the first product of each size class
   * (≤ ~150 ms each, large products only; gemm-tune.ts). Default true. Results are bit-identical either way;
   * false runs every product with the build's blocking (reproducible timings, no trial).
   */
  gemmTune?: boolean;
}

/** The backend over a runtime, its GEMM blocking tuned per CPU unless opts.gemmTune is false. */
function fullBackend(rt: WasmRuntime, opts: WasmBackendOptions): WasmBackend {
  if (opts.gemmTune ?? true) installGemmTuner(rt);
  const backend = new WasmBackend(rt, FAMILIES);
  // Not in sparsecast/infer's backend (its bundle's size budget): there an allocation failure says its bytes only.
  nameOutOfMemory(backend.kernels);
  return backend;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = globalThis.atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let relaxedSupport: boolean | undefined;

/** Whether this runtime accepts relaxed-SIMD wasm (validates the relaxed build itself). */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport === undefined) {
    try {
      relaxedSupport = WebAssembly.validate(decodeBase64(RELAXED_BASE64));
    } catch {
      relaxedSupport = false;
    }
  }
  return relaxedSupport;
}

export function wasmBytes(relaxed = false): Uint8Array<ArrayBuffer> {
  return decodeBase64(relaxed ? RELAXED_BASE64 : WASM_BASE64);
}

/** Kernel → the wasm export it needs, for the kernels the inference-only module leaves out but ops can avoid. */
const OPTIONAL_EXPORTS: Partial<Record<KernelName, string>> = {
  attention: 'attentionForward', attentionBackward: 'attentionBackwardKernel', sddmm: 'sddmm',
  adam: 'adamUpdate',
};

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly kernels: Kernels;

  /** Contract kernels that no installed family provides. */
  private readonly missing = new Set<KernelName>();

  /** `families`: the kernel glue to install (FAMILIES; sparsecast/infer passes FORWARD_FAMILIES). */
  constructor(readonly rt: WasmRuntime, families: readonly KernelFamily[]) {
    const merged: Partial<Kernels> = {};
    for (const family of families) Object.assign(merged, family(rt));
    // A kernel no installed family provides fails by name when called (the inference backend's training
    // kernels), and `supports` says it is absent.
    for (const name of KERNEL_NAMES) {
      if (merged[name]) continue;
      this.missing.add(name);
      merged[name] = (() => {
        throw new Error(`wasm: kernel '${name}' is not in this backend (sparsecast/infer installs the forward kernels only)`);
      }) as never;
    }
    this.kernels = merged as Kernels;
  }

  /**
   * False for a kernel no installed family provides, and for one whose module export is missing (the
   * inference-only module: answered from the instance's exports).
   */
  supports(kernel: KernelName): boolean {
    if (this.missing.has(kernel)) return false;
    const exportName = OPTIONAL_EXPORTS[kernel];
    return exportName === undefined || exportName in (this.rt.exports as object);
  }

  alloc(size: number, dtype: DType): Storage {
    return this.rt.alloc(size, dtype, true);
  }

  free(s: Storage): void {
    this.rt.free(s);
  }

  upload(data: AnyTypedArray): Storage {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u8';
    const s = this.rt.alloc(data.length, dtype, false);
    this.rt.write(s, data);
    return s;
  }

  async read(s: Storage): Promise<AnyTypedArray> {
    return this.rt.read(s);
  }

  readSync(s: Storage): AnyTypedArray {
    return this.rt.read(s);
  }

  bytesInUse(): number {
    return this.rt.bytesInUse;
  }

  /** Threads kernels currently split work over (1 without a pool or after dispose). */
  get threads(): number {
    return this.rt.threads;
  }

  /** Stop the worker threads (if any). Tensors stay usable; kernels then run on the calling thread only. */
  dispose(): void {
    this.rt.pool?.shutdown();
  }
}

function instantiateSync(module: WebAssembly.Module): WasmRuntime {
  return new WasmRuntime(new WebAssembly.Instance(module, {}));
}

let warnedNoThreads = false;

/** The thread count asked for, checked: an integer ≥ 1. */
function threadCount(opts: WasmBackendOptions): number {
  const t = opts.threads ?? 1;
  if (!Number.isInteger(t) || t < 1) throw new Error(`wasm: threads must be an integer ≥ 1, got ${t}`);
  if (t > 1 && (opts.relaxed || opts.module || opts.bytes)) {
    throw new Error('wasm: threads > 1 runs the embedded shared-memory build; it cannot be combined with relaxed, module or bytes');
  }
  return t;
}

/** Linear memory for the shared-memory build: 4 GiB maximum where the runtime reserves it, else 1 GiB. */
function sharedMemory(): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  } catch {
    return new WebAssembly.Memory({ initial: 64, maximum: 16384, shared: true });
  }
}

async function createThreadedBackend(threads: number, opts: WasmBackendOptions): Promise<WasmBackend> {
  const module = await WebAssembly.compile(decodeBase64(THREADS_BASE64));
  const memory = sharedMemory();
  const rt = new WasmRuntime(await WebAssembly.instantiate(module, { env: { memory } }));
  const scratchBytes = (rt.exports.threadScratchBytes as () => number)();
  const scratch = Array.from({ length: threads - 1 }, () => rt.reserveStatic(scratchBytes));
  rt.pool = await ThreadPool.create({ threads, module, memory, exports: rt.exports, scratch, timeoutMs: opts.threadTimeoutMs });
  rt.splitAll = opts.threadSplitAll ?? false;
  return fullBackend(rt, opts);
}

/** Create the wasm backend (async: browsers refuse synchronous compilation of large modules). */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const threads = threadCount(opts);
  if (threads > 1) {
    const support = threadSupport();
    if (support.ok) return createThreadedBackend(threads, opts);
    if (!warnedNoThreads) {
      warnedNoThreads = true;
      console.warn(`sparsecast: wasm threads unavailable (${support.why}); running on one thread`);
    }
  }
  if (opts.relaxed && !opts.module && !opts.bytes && !relaxedSimdSupported()) {
    throw new Error(
      'wasm: the relaxed-SIMD build is not supported by this runtime (Node 20 needs --experimental-wasm-relaxed-simd); use the default build',
    );
  }
  const module = opts.module ?? (await WebAssembly.compile(opts.bytes ?? wasmBytes(opts.relaxed)));
  const instance = await WebAssembly.instantiate(module, {});
  return fullBackend(new WasmRuntime(instance), opts);
}

/** Synchronous variant for Node, Deno and workers. */
export function createWasmBackendSync(opts: WasmBackendOptions = {}): WasmBackend {
  if (threadCount(opts) > 1) throw new Error('wasm: threads > 1 need the async createWasmBackend (workers start asynchronously)');
  const module = opts.module ?? new WebAssembly.Module(opts.bytes ?? wasmBytes(opts.relaxed));
  return fullBackend(instantiateSync(module), opts);
}
