/**
 * sparsecast: tensors, autograd and sparse Transformer forecasters in TypeScript.
 *
 *     import { setBackend, tensor, nn, models, data, train, sparse, io } from 'sparsecast';
 *
 * The root holds the tensor layer (ops, autograd, backends) as plain names, and the forecasting layers as
 * namespaces: `nn` (layers), `models` (the seven forecasters), `data` (CSV, splits, windows, scaler, time
 * features), `train` (Adam, Trainer, `fit`), `sparse` (PALS and the other methods, masks, accounting) and `io`
 * (safetensors, the `.sc` model file, run folders). Forecasting from an exported file alone: `sparsecast/infer`.
 */
import './tensor/tensor.ts'; // installs the tensor factory on the engine
import { engine as coreEngine, type Engine } from './tensor/engine.ts';

/**
 * The engine's public face: backends, scopes and memory. (Storage bookkeeping and the autograd switches stay
 * internal.) Prefer `setBackend` to register and select a backend.
 */
export type PublicEngine = Pick<Engine, 'registerBackend' | 'hasBackend' | 'useBackend' | 'tidy' | 'keep' | 'noGrad' | 'memory' | 'gradEnabled'>;
export const engine: PublicEngine = coreEngine;
export { tidy, keep, noGrad } from './tensor/engine.ts';
export type { MemoryInfo } from './tensor/engine.ts';
export { Tensor } from './tensor/tensor.ts';
export { Rng } from './tensor/random.ts';
export type { Backend, DType, TypedArrayFor, AnyTypedArray } from './backend/kernels.ts';
export * from './ops/public.ts';
export { backward } from './autograd/backward.ts';
export type { BackwardOptions } from './autograd/backward.ts';
export { gradcheck } from './autograd/gradcheck.ts';
export type { GradcheckOptions, GradcheckResult, GradcheckInputResult } from './autograd/gradcheck.ts';
export { setBackend, currentBackend, BACKEND_NAMES, type BackendName, type SetBackendOptions, type WebGpuOptions } from './backend/set-backend.ts';
export { createJsBackend } from './backend/js/backend.ts';
export { createWasmBackend, createWasmBackendSync, type WasmBackendOptions } from './backend/wasm/backend.ts';

export * as nn from './nn/index.ts';
export * as models from './models/index.ts';
export * as data from './data/index.ts';
export * as train from './train/index.ts';
export * as sparse from './sparse/index.ts';
export * as io from './io/index.ts';
