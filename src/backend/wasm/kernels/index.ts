/**
 * The wasm kernel families. Each file exports `(rt: WasmRuntime) => Partial<Kernels>`; the backend merges
 * them, and the conformance suite reports any contract kernel that none of them provides.
 */
import type { Kernels } from '../../kernels.ts';
import type { WasmRuntime } from '../runtime.ts';
import { matmulFamily } from './matmul.ts';
import { sparseFamily, sparseForwardFamily } from './sparse.ts';
import { bsrFamily, bsrForwardFamily } from './bsr.ts';
import { fanInFamily } from './fan-in.ts';
import { creationFamily } from './creation.ts';
import { elementwiseFamily } from './elementwise.ts';
import { reduceFamily } from './reduce.ts';
import { softmaxFamily } from './softmax.ts';
import { normFamily } from './norm.ts';
import { indexingFamily } from './indexing.ts';
import { movementFamily } from './movement.ts';
import { convFamily } from './conv.ts';
import { poolFamily } from './pool.ts';
import { fftFamily } from './fft.ts';
import { attentionFamily } from './attention.ts';
import { optimizerFamily } from './optimizer.ts';
import { dropoutFamily } from './dropout.ts';

export type KernelFamily = (rt: WasmRuntime) => Partial<Kernels>;

/** The families an inference-only backend needs (sparsecast/infer bundles only these). */
export const FORWARD_FAMILIES: KernelFamily[] = [
  matmulFamily,
  sparseForwardFamily,
  bsrForwardFamily,
  creationFamily,
  elementwiseFamily,
  reduceFamily,
  softmaxFamily,
  normFamily,
  indexingFamily,
  movementFamily,
  convFamily,
  poolFamily,
  fftFamily,
];

/**
 * Every family: the forward ones plus sparse training (SpMM, SDDMM, CSR construction, masked top-k), the
 * block-sparse (BSR) and constant fan-in kernels, dropout and the optimizer update, whose kernels the inference module does not have. Marked pure so bundles that use only
 * FORWARD_FAMILIES (sparsecast/infer) drop this list and that glue.
 */
export const FAMILIES: KernelFamily[] = /* @__PURE__ */ FORWARD_FAMILIES.concat([attentionFamily, sparseFamily, bsrFamily, fanInFamily, dropoutFamily, optimizerFamily]);
