/**
 * Picking the compute backend: one call creates and registers it (once per program) and makes it the backend
 * new tensors go to. The plain-TypeScript `js` backend is always registered as well, because a few host-side
 * steps (export's read-back check, mask bookkeeping) use it whatever trains.
 */
import { engine } from '../tensor/engine.ts';
import '../tensor/tensor.ts';
import { createJsBackend } from './js/backend.ts';
import { createWasmBackend } from './wasm/backend.ts';

/** The backends `setBackend` knows. */
export type BackendName = 'js' | 'wasm' | 'webgpu';

export const BACKEND_NAMES: readonly BackendName[] = ['js', 'wasm', 'webgpu'];

export interface SetBackendOptions {
  /**
   * wasm: threads the kernels may use, the calling thread included (default 1). Results are bit-identical for
   * any count. Only read when this call creates the wasm backend.
   */
  threads?: number;
  /** webgpu: adapter and device options (Node needs the optional peer package `webgpu`: `npm install webgpu`). */
  webgpu?: WebGpuOptions;
}

/**
 * The webgpu backend's options, declared here without WebGPU's types so that the public declarations need
 * no `@webgpu/types` (src/backend/webgpu/backend.ts has the full `WebGpuBackendOptions`).
 */
export interface WebGpuOptions {
  /** A `GPU` object to use instead of `navigator.gpu` or the `webgpu` package's (tests, custom Dawn instances). */
  gpu?: unknown;
  powerPreference?: 'low-power' | 'high-performance';
  /** Dawn toggles for Node's `create()` (e.g. ['backend=vulkan']). */
  dawnOptions?: string[];
  /** Submit after this many recorded dispatches even without a read (bounds parameter memory). */
  maxBatch?: number;
  /** Run the short matmul tile trial when the backend is created (default true). */
  tuneMatmul?: boolean;
}

/**
 * Create (on first use), register and select a backend:
 *
 *     await setBackend('wasm');                 // SIMD kernels; { threads: 4 } for worker threads
 *     await setBackend('webgpu');               // the GPU; rejects with how to get an adapter when there is none
 *
 * A later call with another name switches between already-created backends without re-creating them.
 */
export async function setBackend(name: BackendName, opts: SetBackendOptions = {}): Promise<void> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new Error(`setBackend: unknown backend ${JSON.stringify(name)} (js, wasm or webgpu)`);
  }
  if (!engine.hasBackend('js')) engine.registerBackend(createJsBackend());
  if (name === 'wasm' && !engine.hasBackend('wasm')) engine.registerBackend(await createWasmBackend({ threads: opts.threads ?? 1 }));
  if (name === 'webgpu' && !engine.hasBackend('webgpu')) {
    // Loaded on request only: the WGSL shaders and the GPU runtime stay out of a wasm-only program's work.
    const { createWebGpuBackend } = await import('./webgpu/backend.ts');
    engine.registerBackend(await createWebGpuBackend(opts.webgpu as Parameters<typeof createWebGpuBackend>[0]));
  }
  engine.useBackend(name);
}

/** The name of the backend new tensors go to, or null before any `setBackend` / registration. */
export function currentBackend(): string | null {
  return engine.hasAnyBackend() ? engine.backend.name : null;
}
