// The inference-only kernel module (build/kernels-infer.wasm, asconfig target `infer`): the forward kernels
// that `sparsecast/infer` calls, re-exported from the same kernel files as assembly/index.ts, so they compile
// from the same source (same bits). Training-only kernels (backward passes, SDDMM, masked top-k, CSR
// construction, random draws) are left out; the JS glue turns a call to a missing one into a clear error.

export { heapBase, isRelaxed } from './index';
export { gemmWorkspaceBytes, gemm } from './gemm';
export { denseCsrTWorkspaceBytes, denseCsrT } from './sparse';
export { fill32, fill8, castF32I32, castI32F32, cast32U8, castU8To32, castU8U8, unaryF32, binaryF32, binaryI32, compare32, where32 } from './elementwise';
export { reduce3, divScalar, argmax3, cumsum3 } from './reduce';
export { softmaxRows, logSoftmaxRows } from './softmax';
export { layerNormRows } from './norm';
export { indexSelect3, gatherND, scatterAddND, oneHotRows, topkRows } from './indexing';
export { roll3, copy2d, stridedCopy, transpose3, padND } from './movement';
export { conv1dFwd } from './conv';
export { avgPool1dRows, maxPool1dRows } from './pool';
export { rfftRows, irfftRows } from './fft';
