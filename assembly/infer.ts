// The inference-only kernel module (build/kernels-infer.wasm, asconfig target `infer`, size-optimised): the
// forward kernels `sparsecast/infer` calls for every exported model, re-exported from the same kernel files as
// assembly/index.ts, so they compile from the same source and give the same bits (test/infer-runtimes.test.ts
// compares the two modules' forecasts for every model).
// Left out, for the 60 KB budget (entry JS + this module, gzip): the fused attention kernel (FullAttention
// asks the backend and runs the unfused softmax path here) and SDDMM (ProbSparse query selection reads the
// sampled scores off a Q·Kᵀ product here); backward kernels (conv1d, pooling, layer norm, attention), SpMM,
// CSR construction and masked top-k (sparse training), random draws, log-softmax, one-hot, argmax and
// batch-norm statistics (training only). The inference glue (src/infer/backends.ts) turns a call to a kernel
// that is not here into an error naming it.

export { heapBase, isRelaxed } from './index';
export { gemmWorkspaceBytes, gemm } from './gemm';
export { denseCsrTWorkspaceBytes, denseCsrT } from './sparse';
export { denseBsrTWorkspaceBytes, denseBsrT } from './bsr';
export { fill32, fill8, castF32I32, castI32F32, cast32U8, castU8To32, castU8U8, unaryF32, binaryF32, binaryI32, compare32, where32 } from './elementwise';
export { reduce3, divScalar, cumsum3 } from './reduce';
export { softmaxRows } from './softmax';
export { layerNormRows } from './norm';
export { indexSelect3, gatherND, scatterAddND, topkRows } from './indexing';
export { roll3, copy2d, stridedCopy, transpose3, padND } from './movement';
export { conv1dFwd } from './conv';
export { avgPool1dRows, maxPool1dRows } from './pool';
export { rfftRows, irfftRows } from './fft';
