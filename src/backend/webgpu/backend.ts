/**
 * The `webgpu` backend: WGSL compute shaders (shaders/*.wgsl) run through WebGPU. Ops are synchronous and
 * only record work (see runtime.ts for batching); `read` is async and there is no `readSync`.
 *
 * Every kernel of the contract is implemented (`missing` is empty); a kernel added to the contract later
 * without a WGSL version throws a clear error naming it (no silent fallback) and is listed in `missing`.
 */
import type { AnyTypedArray, Backend, CsrStorage, DType, Kernels, Storage } from '../kernels.ts';
import { KERNEL_NAMES } from '../kernels.ts';
import { acquireDevice, type AcquireOptions } from './device.ts';
import { WebGpuRuntime, type WebGpuRuntimeOptions } from './runtime.ts';
import { elementwiseKernels } from './kernels/elementwise.ts';
import { reduceKernels } from './kernels/reduce.ts';
import { optimizerKernels } from './kernels/optimizer.ts';
import { MatmulKernel, matmulKernels } from './kernels/matmul.ts';
import { movementKernels } from './kernels/movement.ts';
import { convKernels } from './kernels/conv.ts';
import { denseToCsrAsync, sparseKernels } from './kernels/sparse.ts';
import { bsrKernels } from './kernels/bsr.ts';
import { fanInKernels } from './kernels/fan-in.ts';
import { attentionKernels } from './kernels/attention.ts';
import { withSparseBias } from './kernels/sparse-bias.ts';

export interface WebGpuBackendOptions extends AcquireOptions, WebGpuRuntimeOptions {
  /** Run the short matmul tile trial now (default true); otherwise a conservative tile is used. */
  tuneMatmul?: boolean;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly kernels: Kernels;
  readonly matmul: MatmulKernel;
  /** Kernels of the contract this backend does not implement yet. */
  readonly missing: readonly string[];

  constructor(readonly rt: WebGpuRuntime) {
    this.matmul = new MatmulKernel(rt);
    const impl: Partial<Kernels> = {
      ...elementwiseKernels(rt),
      ...reduceKernels(rt),
      ...optimizerKernels(rt),
      ...matmulKernels(this.matmul),
      ...movementKernels(rt),
      ...convKernels(rt),
      ...sparseKernels(rt),
      ...bsrKernels(rt),
      ...fanInKernels(rt),
      ...attentionKernels(rt),
    };
    Object.assign(impl, withSparseBias(impl as Kernels, (s) => rt.free(s)));
    const missing: string[] = [];
    for (const k of KERNEL_NAMES) {
      if (typeof impl[k] !== 'function') {
        missing.push(k);
        (impl as Record<string, unknown>)[k] = () => {
          throw new Error(`webgpu: kernel '${k}' is not implemented on the webgpu backend yet`);
        };
      }
    }
    this.missing = missing;
    this.kernels = impl as Kernels;
  }

  /** `denseToCsr` for callers that do not know nnz: counts on the GPU and reads the count first. */
  denseToCsrAsync(x: Storage, rows: number, cols: number, mask?: Storage): Promise<CsrStorage> {
    return denseToCsrAsync(this.rt, x, rows, cols, mask);
  }

  alloc(size: number, dtype: DType): Storage {
    return this.rt.alloc(size, dtype, true);
  }

  free(s: Storage): void {
    this.rt.free(s);
  }

  upload(data: AnyTypedArray): Storage {
    return this.rt.upload(data);
  }

  read(s: Storage): Promise<AnyTypedArray> {
    return this.rt.read(s);
  }

  bytesInUse(): number {
    return this.rt.bytesInUse;
  }

  /** Submit recorded work now (reads do this themselves). */
  flush(): void {
    this.rt.flush();
  }

  /** Wait for all submitted work; throws the first asynchronous GPU error, if any. */
  sync(): Promise<void> {
    return this.rt.sync();
  }

  /** Destroy pooled idle buffers. */
  trim(): void {
    this.rt.trim();
  }

  destroy(): void {
    this.rt.destroy();
  }
}

/** Acquire a device and build the backend. Throws one clear Error when no WebGPU adapter exists. */
export async function createWebGpuBackend(opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const ctx = await acquireDevice(opts);
  const backend = new WebGpuBackend(new WebGpuRuntime(ctx, opts));
  if (opts.tuneMatmul !== false) await backend.matmul.tune();
  return backend;
}
