/**
 * `sparsecast/infer`: forecasting from an exported model file (`sparsecast export`), forward-only.
 *
 *     import { loadForecaster } from 'sparsecast/infer';
 *     const f = await loadForecaster(modelBytes);            // kernels: the embedded wasm, or pass { wasmModule }
 *     const y = f.forecast({ values, dates });               // [pred_len × C], de-normalised
 *
 * Without `wasmModule`, the kernels (the inference-only build, kernels-infer.wasm) come from a separate
 * embedded copy (dist/infer-wasm.js, loaded on demand), so this file stays small; `{ backend: 'js' }` loads the
 * JS kernels on demand too (dist/infer-js.js). Runtimes that forbid compiling wasm from bytes (Cloudflare
 * Workers) use `sparsecast/infer/edge`, which requires the module.
 */
import { load, type LoadOptions } from './backends.ts';
import type { Forecaster } from './core.ts';

export type { Forecaster, ForecastWindow } from './core.ts';
export type { LoadOptions, InferBackend } from './backends.ts';
export type { ModelConfig } from '../io/model-file.ts';
export { readModelFile } from '../io/model-file.ts';

export async function loadForecaster(modelBytes: Uint8Array, opts: LoadOptions = {}): Promise<Forecaster> {
  return load(modelBytes, opts, async () => {
    const { embeddedWasmModule } = await import('./embedded-wasm.ts');
    return embeddedWasmModule();
  });
}
