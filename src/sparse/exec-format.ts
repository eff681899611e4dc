/**
 * The contract of one sparse storage format as sparse execution runs a masked Linear y = X·Wᵀ (X [m, k],
 * W [n, k]) through it (src/sparse/sparse-exec.ts). Each format (CSR, BSR 4×4, constant fan-in, compact dense)
 * is one class in its own file, src/sparse/exec-<format>.ts, holding its device copies of W (and of Wᵀ where its
 * input gradient needs one) as raw storages on the layer's backend — freed by `dispose`, never left to a GC.
 *
 * Every product is one named method, so a faster kernel can replace one product of one format without touching
 * the rest: `forward` (y = X·Wᵀ), `inputGrad` (dX = G·W) and `weightGradAtPattern` (Gᵀ·X only at W's stored
 * positions, the 'sparse-between-updates' weight gradient). The dense weight gradient Gᵀ·X is no format's
 * business: sparse-exec.ts computes it with the GEMM for every format, as the reference does.
 *
 * Equality with the dense-masked GEMM (wasm): every product sums each output in increasing order of the reduced
 * index, one multiply and one add per term, and skips or multiplies only weights that are exactly 0 (inactive
 * weights are 0 after Masking.apply; a format stores W ⊙ M, never W), so each format gives the dense results
 * bit for bit — a timed choice of format never changes a number.
 */
import type { Backend, Storage } from '../backend/kernels.ts';
import type { MaskedLayer } from './masking.ts';

/** The sparse formats a layer can run in; 'dense' is the dense-masked GEMM. */
export type SparseFormat = 'csr' | 'bsr' | 'fan_in' | 'compact';
export type ExecPath = 'dense' | SparseFormat;
export const SPARSE_FORMATS: readonly SparseFormat[] = ['csr', 'bsr', 'fan_in', 'compact'];

export interface FormatExec {
  readonly format: SparseFormat;
  /** Follow the layer's current host mask (rebuild or update the structure, upload it). */
  setMask(mask: Uint8Array): void;
  /** Re-read W's values (W [n, k] as stored on the backend, already masked). Called after `setMask`. */
  setValues(weight: Storage): void;
  /** y = X·Wᵀ (+ bias [n], added once to each finished sum as matmul's fused bias is) → [m, n]. */
  forward(x: Storage, m: number, bias?: Storage): Storage;
  /** dX = G·W → [m, k]. */
  inputGrad(g: Storage, m: number): Storage;
  /** Dense [n, k]: (Gᵀ·X) at W's active positions, 0 elsewhere. */
  weightGradAtPattern(g: Storage, x: Storage, m: number): Storage;
  /** Device bytes held (the structure and the values). */
  bytes(): number;
  dispose(): void;
}

/** What every format executor is built from. */
export interface FormatContext {
  backend: Backend;
  layer: MaskedLayer;
  /** W is [n, k]. */
  n: number;
  k: number;
}

/** Upload a host i32 array (the kernels check sizes exactly: an empty pattern is an empty buffer). */
export function uploadI32(be: Backend, a: Int32Array): Storage {
  return be.upload(a);
}

/** Free storages that may be null. */
export function freeAll(be: Backend, xs: Array<Storage | null | undefined>): void {
  for (const s of xs) if (s) be.free(s);
}

/**
 * W's values at flat positions `pos` (i32[count] into W [n·k]), multiplied by `keep` (f32[count] of 0/1) when
 * given — for formats that store positions the mask does not keep (BSR's partly kept or edge blocks), so they
 * hold exact zeros whatever W holds there.
 */
export function gatherValues(be: Backend, weight: Storage, size: number, pos: Storage, count: number, keep: Storage | null): Storage {
  if (count === 0) return be.upload(new Float32Array(0));
  const v = be.kernels.indexSelect(weight, [size], 0, pos, count);
  if (!keep) return v;
  const out = be.kernels.binary('mul', v, [count], keep, [count]);
  be.free(v);
  return out;
}
