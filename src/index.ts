// The public API of sparsecast (re-exports only).
import './tensor/tensor.ts'; // installs the tensor factory on the engine
export { engine, tidy, keep, noGrad } from './tensor/engine.ts';
export type { MemoryInfo } from './tensor/engine.ts';
export { Tensor } from './tensor/tensor.ts';
export { Rng } from './tensor/random.ts';
export type { Backend, DType, Kernels, Storage, CsrStorage, BsrStorage } from './backend/kernels.ts';
export { KERNEL_NAMES } from './backend/kernels.ts';
export * from './ops/index.ts';
export { backward } from './autograd/backward.ts';
export type { BackwardOptions } from './autograd/backward.ts';
export { gradcheck } from './autograd/gradcheck.ts';
export type { GradcheckOptions, GradcheckResult, GradcheckInputResult } from './autograd/gradcheck.ts';
export { createJsBackend } from './backend/js/backend.ts';
export { createWasmBackend, createWasmBackendSync } from './backend/wasm/backend.ts';
