// The public API of sparsecast (re-exports only).
export { engine, tidy, keep, noGrad } from './tensor/engine.ts';
export type { MemoryInfo } from './tensor/engine.ts';
export { Tensor } from './tensor/tensor.ts';
export { Rng } from './tensor/random.ts';
export type { Backend, DType, Kernels, Storage, CsrStorage } from './backend/kernels.ts';
export { KERNEL_NAMES } from './backend/kernels.ts';
