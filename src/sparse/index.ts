/**
 * `sparse`: sparse training. `createController(model, options, rng)` builds a method by name (`METHODS`:
 * dense, pals, granet, rigl, set, static) over a `Masking` (a 0/1 mask per weight), with the reference's
 * accounting (`Masking.sparsity()`: 1 − non-zeros / all trainable parameters) and FLOP counts.
 */
export { METHODS, DEFAULT_SPARSE, createController, type SparseOptions } from './methods.ts';
export { Masking, type MaskedLayer, type MaskListener } from './masking.ts';
export {
  layerDensities, type SparsityController, type SparseStepContext, type UpdateRecord, type Growth,
} from './controller.ts';
export { PalsController, type PalsOptions } from './pals-controller.ts';
export { PalsRule, type Decision, type PalsRuleOptions } from './pals.ts';
export { GranetController, type GranetOptions } from './granet.ts';
export { FixedDensityController, type DstOptions } from './dst.ts';
export { StaticPruningController } from './static-pruning.ts';
export { DenseController } from './dense.ts';
export { allocateDensities, type DensityInit } from './density.ts';
export {
  enableSparseExecution, type SparseExecution, type SparseExecOptions, type ExecMode, type ExecPath, type SparseFormat,
} from './sparse-exec.ts';
export type { GuardResult } from './model-guard.ts';
export type { PathTrial } from './path-choice.ts';
export { measureFlops, summarizeFlops, type FlopRecord } from '../tensor/flops.ts';
