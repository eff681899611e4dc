/**
 * The sparse-training controller interface (one method per file implements it) and the topology update the
 * methods share: per layer, magnitude death then growth by a criterion, with the reference's exact counts.
 */
import type { Masking, MaskedLayer } from './masking.ts';
import { gradientGrowth, magnitudeDeath, momentumGrowth, randomGrowth } from './criteria.ts';
import { structuredUpdate } from './structure.ts';
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';

export type Growth = 'gradient' | 'random' | 'momentum';

/** What a controller sees at iteration `step` (1-based, counting the step being taken). */
export interface SparseStepContext {
  step: number;
  epoch: number;
  itersPerEpoch: number;
  totalEpochs: number;
  /** Validation MSE of the current model (eval mode, no gradients). */
  validate: () => Promise<number>;
  /** Adam's first moment of a parameter (momentum growth). */
  momentum: (param: Tensor) => Tensor | null;
}

/** One record per topology update (sparsity.jsonl). */
export interface UpdateRecord {
  step: number;
  epoch: number;
  zeta: number;
  decision: string;
  val_loss: number | null;
  L_best: number | null;
  S_best: number | null;
  sparsity: number;
  masked_sparsity: number;
  layers: Record<string, number>;
}

export interface SparsityController {
  readonly method: string;
  readonly masking: Masking | null;
  /** After backward, before the optimizer step (PALS evaluates here, on the pre-step weights). */
  beforeOptimizerStep(ctx: SparseStepContext): Promise<void>;
  /** After the optimizer step, gradients still present: re-mask, and update the topology when due. */
  afterOptimizerStep(ctx: SparseStepContext): Promise<UpdateRecord | null>;
  /**
   * Whether the update after this step reads dense weight gradients (gradient growth on an update step;
   * momentum growth reads Adam's moments, fed by every step's gradient). Absent: always.
   */
  needsDenseGradients?(ctx: SparseStepContext): boolean;
  /** Seconds spent deciding and updating (validation passes included). */
  readonly seconds: number;
  state(): Record<string, unknown>;
  restore(s: Record<string, unknown>): void;
  dispose(): void;
}

export interface LayerUpdate {
  pruneNominal: number;
  removed: number;
  regrown: number;
  /** Neurons removed whole (fan_in structure's ablation). */
  ablated?: number;
}

/** Drop `prune(n)` smallest-magnitude weights of a layer, then grow `regrow(removed)` by the criterion. */
export async function updateLayer(
  masking: Masking, l: MaskedLayer, prune: (n: number) => number, regrow: (removed: number) => number,
  growth: Growth, rng: Rng, momentum: Tensor | null,
): Promise<LayerUpdate> {
  const w = (await l.param.data()) as Float32Array;
  const n = l.active;
  const pruneNominal = prune(n);
  if (masking.structure.kind !== 'unstructured') {
    // Same counts, same growth criterion; the structure only chooses where (structure.ts).
    const score = await growthScores(l, growth, rng, momentum);
    const u = structuredUpdate(masking.structure, l.param.shape, w, l.mask, pruneNominal, regrow, score);
    masking.setMask(l, u.mask);
    return { pruneNominal, removed: u.removed, regrown: u.regrown, ablated: u.ablated };
  }
  const dead = magnitudeDeath(w, l.mask, pruneNominal);
  const want = Math.min(regrow(dead.removed), l.mask.length - (n - dead.removed));
  let next: Uint8Array;
  if (growth === 'random') next = randomGrowth(rng, dead.mask, want);
  else if (growth === 'momentum' && momentum) next = momentumGrowth((await momentum.data()) as Float32Array, dead.mask, want);
  else {
    const g = l.param.grad;
    // Without a gradient (the layer did not take part in this loss) growth falls back to random, as the reference does.
    next = g ? gradientGrowth((await g.data()) as Float32Array, dead.mask, want) : randomGrowth(rng, dead.mask, want);
  }
  masking.setMask(l, next);
  return { pruneNominal, removed: dead.removed, regrown: want };
}

/**
 * Per-element growth scores for a structured update: |gradient| (RigL, PALS, GraNet), |Adam first moment|,
 * or one uniform draw per element from the seeded generator (SET, and gradient growth on a layer without a
 * gradient, as the unstructured path falls back).
 */
async function growthScores(l: MaskedLayer, growth: Growth, rng: Rng, momentum: Tensor | null): Promise<Float32Array> {
  const src = growth === 'random' ? null : growth === 'momentum' && momentum ? momentum : l.param.grad;
  if (!src) return rng.uniform(l.mask.length);
  const v = (await src.data()) as Float32Array;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.abs(v[i]!);
  return out;
}

export function layerDensities(masking: Masking): Record<string, number> {
  return Object.fromEntries(masking.layers.map((l) => [l.name, +(l.active / l.param.size).toFixed(6)]));
}

/** The reference's update window: iterations t with t % ΔT = 0 and floor(t / ΔT) < floor(final_epoch·iters / ΔT). */
export function inUpdateWindow(step: number, every: number, itersPerEpoch: number, initEpoch: number, finalEpoch: number): boolean {
  const finalIter = Math.floor((finalEpoch * itersPerEpoch) / every);
  return step >= initEpoch * itersPerEpoch && step % every === 0 && Math.floor(step / every) < finalIter;
}

/** needsDenseGradients for the window-based methods: gradient growth on update steps, momentum growth always. */
export function denseGradientsFor(growth: Growth, updating: boolean): boolean {
  return growth === 'momentum' || (growth === 'gradient' && updating);
}
