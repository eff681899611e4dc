/**
 * Backends for the inference entry: one engine-registered instance per kind, created on first use. The wasm
 * backend instantiates a compiled `WebAssembly.Module` (never compiles bytes itself, which edge runtimes
 * forbid); the embedded fallback in index.ts compiles the bytes where that is allowed. The module is
 * normally the inference-only build (build/kernels-infer.wasm, forward kernels only); the full
 * build/kernels.wasm works too. The plain-TypeScript kernels (`backend: 'js'`) load on demand.
 */
import type { Backend } from '../backend/kernels.ts';
import { engine } from '../tensor/engine.ts';
import { WasmBackend } from '../backend/wasm/backend.ts';
import { WasmRuntime } from '../backend/wasm/runtime.ts';
import { FORWARD_FAMILIES } from '../backend/wasm/kernels/index.ts';
import { createForecaster, type Forecaster } from './core.ts';

export type InferBackend = 'wasm' | 'js';

export interface LoadOptions {
  /**
   * The compiled kernels (`import wasm from 'sparsecast/infer-kernels.wasm'` on edge runtimes; `sparsecast/kernels.wasm`
   * works too). The first wasm load instantiates it; later loads share that instance and only check theirs.
   */
  wasmModule?: WebAssembly.Module;
  /** 'wasm' (default: bit-identical across runtimes, fast) or 'js' (plain TypeScript kernels). */
  backend?: InferBackend;
}

let wasmBackend: Backend | null = null;

/**
 * The instance as the kernel glue sees it: the glue looks up every export of the full module (training kernels
 * included) when the backend is made; an export the inference module lacks becomes a function that throws when
 * called, so loading works and only an unexpected call fails, naming the kernel.
 */
function forwardOnly(instance: WebAssembly.Instance): WebAssembly.Instance {
  const exports = new Proxy(instance.exports, {
    get: (t, k) => (typeof k !== 'string' || k in t ? Reflect.get(t, k) : () => {
      throw new Error(`sparsecast/infer: wasm kernel '${k}' is not in the inference kernels (kernels-infer.wasm, forward kernels only)`);
    }),
  });
  return { exports } as WebAssembly.Instance;
}

let jsBackend: Backend | null = null;

export async function backendFor(kind: InferBackend, module: () => Promise<WebAssembly.Module>): Promise<Backend> {
  if (kind === 'js') {
    if (!jsBackend) {
      const { createJsBackend } = await import('./js-backend.ts');
      jsBackend = createJsBackend();
      engine.registerBackend(jsBackend);
    }
    return jsBackend;
  }
  if (kind !== 'wasm') throw new Error(`loadForecaster: backend must be 'wasm' or 'js', got ${JSON.stringify(kind)}`);
  if (!wasmBackend) {
    const instance = await WebAssembly.instantiate(await module(), {});
    wasmBackend = new WasmBackend(new WasmRuntime(forwardOnly(instance)), FORWARD_FAMILIES);
    engine.registerBackend(wasmBackend);
  }
  return wasmBackend;
}

export async function load(modelBytes: Uint8Array, opts: LoadOptions, fallback: () => Promise<WebAssembly.Module>): Promise<Forecaster> {
  if (!(modelBytes instanceof Uint8Array)) throw new Error('loadForecaster: modelBytes must be a Uint8Array (e.g. new Uint8Array(await res.arrayBuffer()))');
  // A misspelled option (wasm_module) would fall back to compiling the embedded bytes, which edge runtimes forbid.
  for (const k in opts) if (k !== 'wasmModule' && k !== 'backend') throw new Error(`loadForecaster: unknown option ${k} (wasmModule, backend)`);
  // Checked on every call: the module is only instantiated by the first wasm load (below), and a wrong value
  // passed to a later call was accepted without a word.
  if (opts.wasmModule !== undefined && !(opts.wasmModule instanceof WebAssembly.Module)) {
    throw new Error('loadForecaster: wasmModule must be a WebAssembly.Module');
  }
  const kind = opts.backend ?? 'wasm';
  // One wasm instance serves every forecaster of this realm: the first load's module is instantiated, and a
  // later load's module is not (both builds carry the same forward kernels, so the numbers are the same).
  const backend = await backendFor(kind, async () => opts.wasmModule ?? fallback());
  return createForecaster(modelBytes, backend);
}
