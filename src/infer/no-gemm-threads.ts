/**
 * Stands in for src/backend/wasm/kernels/gemm-parallel.ts in the inference bundle (scripts/build-infer.mjs):
 * the inference backend has no thread pool, so gemmPlan never asks for a multi-threaded plan.
 */
export function parallelGemmPlan(): never {
  throw new Error('sparsecast/infer: a multi-threaded GEMM was planned, but the inference build runs on one thread');
}
