/**
 * The `js` backend: plain TypeScript kernels over typed arrays. It is the reference every other backend
 * is tested against, so it favours accuracy and clarity over speed: sums accumulate in f64 in a fixed
 * order (increasing index along the reduced dimension) and round to f32 once.
 */
import type { AnyTypedArray, Backend, DType, Kernels, Storage } from '../kernels.ts';
import { KERNEL_NAMES } from '../kernels.ts';
import { JsHeap, asJs, type JsStorage } from './store.ts';
import { creationKernels } from './creation.ts';
import { elementwiseKernels } from './elementwise.ts';
import { reduceKernels } from './reduce.ts';
import { softmaxKernels } from './softmax.ts';
import { normKernels } from './norm.ts';
import { optimizerKernels } from './optimizer.ts';
import { matmulKernels } from './matmul.ts';
import { indexingKernels } from './indexing.ts';
import { movementKernels } from './movement.ts';
import { convKernels } from './conv.ts';
import { poolKernels } from './pool.ts';
import { fftKernels } from './fft.ts';
import { sparseKernels } from './sparse.ts';
import { bsrKernels } from './bsr.ts';
import { fanInKernels } from './fan-in.ts';
import { attentionKernels } from './attention.ts';

export type { JsStorage } from './store.ts';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly kernels: Kernels;
  private readonly heap = new JsHeap();

  constructor() {
    const h = this.heap;
    this.kernels = {
      ...creationKernels(h),
      ...elementwiseKernels(h),
      ...reduceKernels(h),
      ...softmaxKernels(h),
      ...normKernels(h),
      ...matmulKernels(h),
      ...indexingKernels(h),
      ...movementKernels(h),
      ...convKernels(h),
      ...poolKernels(h),
      ...fftKernels(h),
      ...sparseKernels(h),
      ...bsrKernels(h),
      ...fanInKernels(h),
      ...attentionKernels(h),
      ...optimizerKernels(h),
    };
    // The object literal is type-checked against Kernels already; this guards the runtime list too.
    const missing = KERNEL_NAMES.filter((k) => typeof this.kernels[k] !== 'function');
    if (missing.length > 0) throw new Error(`js backend: missing kernels ${missing.join(', ')}`);
  }

  alloc(size: number, dtype: DType): JsStorage {
    if (!(Number.isInteger(size) && size >= 0)) throw new Error(`alloc: size must be an integer ≥ 0, got ${size}`);
    return this.heap.alloc(size, dtype);
  }

  free(s: Storage): void {
    this.heap.release(s);
  }

  upload(data: AnyTypedArray): JsStorage {
    if (!(data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array)) {
      throw new Error('upload: expected a Float32Array, Int32Array or Uint8Array');
    }
    return this.heap.adopt(data.slice());
  }

  async read(s: Storage): Promise<AnyTypedArray> {
    return asJs('read', s).data.slice();
  }

  readSync(s: Storage): AnyTypedArray {
    return asJs('readSync', s).data.slice();
  }

  bytesInUse(): number {
    return this.heap.bytes;
  }
}

export function createJsBackend(): JsBackend {
  return new JsBackend();
}
