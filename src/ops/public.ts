/**
 * The ops of the public API: every op of ./index.ts but the argument-checking helpers the ops share (axesOf,
 * resolveShape, unbroadcast, …), which are plumbing. Listed by name, so adding an op to the package is a
 * decision (test/api.test.ts holds the committed list of the root's names).
 */
export { arange, full, fullLike, ones, onesLike, randomNormal, randomUniform, scalar, tensor, toBackend, zeros, zerosLike, type CreateOptions } from './creation.ts';
export { add, div, maximum, minimum, mul, pow, sub } from './binary.ts';
export { abs, cos, elu, erf, exp, floor, gelu, log, neg, reciprocal, relu, rsqrt, sigmoid, sign, sin, sqrt, square, tanh } from './unary.ts';
export { cast, equal, greater, greaterEqual, less, lessEqual, logicalNot, notEqual, where } from './compare.ts';
export { argmax, max, mean, min, std, sum, variance, type Axes } from './reduce.ts';
export { flatten, reshape, reshapeLike } from './reshape.ts';
export { linear, matmul, type MatmulOptions } from './matmul.ts';
export { dropout, l1Loss, layerNorm, logSoftmax, maeLoss, mseLoss, softmax, type Reduction } from './nn.ts';
export { broadcastTo, concat, cumsum, expand, pad, permute, repeat, repeatInterleave, roll, slice, sliceAxis, split, squeeze, stack, tile, transpose, unsqueeze } from './movement.ts';
export { gather, indexSelect, oneHot, scatterAdd, topk, type TopkOptions } from './indexing.ts';
export { conv1d, type Conv1dOptions } from './conv.ts';
export { avgPool1d, maxPool1d, maxPool1dWithIndices } from './pool.ts';
export { batchNorm1d, type BatchNormOptions, type BatchNormRunning } from './batchnorm.ts';
export { complex, complexConj, complexEinsumBHI_HIO, complexMatmul, complexMul, complexMulConj, complexParts, irfft, rfft } from './spectral.ts';
export { Csr, csrToDense, csrTranspose, denseCsrT, denseToCsr, denseToCsrAsync, maskedTopK, sddmm, spmm, type DenseToCsrOptions, type SddmmOptions } from './sparse.ts';
export { causalMask, maskedFill, scaledDotProductAttention, type AttentionOptions, type CausalMaskOptions } from './attention.ts';
export { fusedAttention, multiHeadAttention, type FusedAttentionOptions } from './fused-attention.ts';
export { adamUpdate } from './optimizer.ts';
