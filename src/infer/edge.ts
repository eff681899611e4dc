/**
 * `sparsecast/infer/edge`: the inference entry for runtimes that import wasm as a module and forbid compiling
 * it from bytes (Cloudflare Workers, workerd). The caller passes the compiled kernels:
 *
 *     import wasm from 'sparsecast/infer-kernels.wasm';      // a WebAssembly.Module on Workers
 *     import { loadForecaster } from 'sparsecast/infer/edge';
 *     const f = await loadForecaster(modelBytes, { wasmModule: wasm });
 *
 * `{ backend: 'js' }` imports the JS kernels on demand (dist/infer-js.js, beside this file); a Worker bundler
 * (wrangler) includes it.
 */
import { load, type LoadOptions } from './backends.ts';
import type { Forecaster } from './core.ts';

export type { Forecaster, ForecastWindow } from './core.ts';
export type { LoadOptions, InferBackend } from './backends.ts';
export type { ModelConfig } from '../io/model-file.ts';
export { readModelFile } from '../io/model-file.ts';

export async function loadForecaster(modelBytes: Uint8Array, opts: LoadOptions = {}): Promise<Forecaster> {
  return load(modelBytes, opts, async () => {
    throw new Error("loadForecaster (edge): pass { wasmModule } (import wasm from 'sparsecast/infer-kernels.wasm'), or { backend: 'js' }");
  });
}
