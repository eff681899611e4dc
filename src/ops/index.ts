// Every op, re-exported in one place (`import * as op from './ops/index.ts'`).
export * from './creation.ts';
export * from './binary.ts';
export * from './unary.ts';
export * from './compare.ts';
export * from './reduce.ts';
export * from './reshape.ts';
export * from './matmul.ts';
export * from './nn.ts';
export * from './movement.ts';
export * from './indexing.ts';
export * from './conv.ts';
export * from './pool.ts';
export * from './batchnorm.ts';
export * from './spectral.ts';
export * from './sparse.ts';
export * from './attention.ts';
export * from './fused-attention.ts';
