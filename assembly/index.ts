// The one AssemblyScript module of sparsecast. Each kernel family lives in its own file; this file only
// re-exports them. Kernels work on raw byte offsets into linear memory handed out by the TypeScript
// allocator (src/backend/wasm/runtime.ts); nothing here allocates from the AssemblyScript heap.

/** First byte the TypeScript allocator may hand out (everything below is static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when this build uses relaxed-SIMD FMA (kernels-relaxed.wasm), else 0. */
export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export { setThreadScratch, threadScratchBytes } from './common';
export * from './gemm';
export * from './sparse';
export * from './bsr';
export * from './fan-in';
export * from './random';
export * from './elementwise';
export * from './reduce';
export * from './softmax';
export * from './norm';
export * from './indexing';
export * from './movement';
export * from './conv';
export * from './pool';
export * from './fft';
export * from './attention';
export * from './optimizer';
export * from './dropout';

