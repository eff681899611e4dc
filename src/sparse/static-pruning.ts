/**
 * Static magnitude pruning: one dense warm-up epoch, then one-shot global magnitude pruning to the target
 * density; the mask stays fixed for the rest of training.
 */
import type { Masking } from './masking.ts';
import { layerDensities, type SparseStepContext, type SparsityController, type UpdateRecord } from './controller.ts';
import { countActive, kthSmallest } from './criteria.ts';
import { structuredUpdate } from './structure.ts';

export class StaticPruningController implements SparsityController {
  readonly method = 'static';
  seconds = 0;
  private pruned = false;

  constructor(readonly masking: Masking, readonly density: number, readonly warmupEpochs = 1) {}

  async beforeOptimizerStep(): Promise<void> {}

  /** No gradient-based growth: weight gradients may stay sparse. */
  needsDenseGradients(): boolean {
    return false;
  }

  async afterOptimizerStep(ctx: SparseStepContext): Promise<UpdateRecord | null> {
    const t0 = performance.now();
    if (this.pruned) this.masking.apply();
    if (this.pruned || ctx.step !== this.warmupEpochs * ctx.itersPerEpoch) {
      this.seconds += (performance.now() - t0) / 1000;
      return null;
    }
    const weights: Float32Array[] = [];
    for (const l of this.masking.layers) weights.push((await l.param.data()) as Float32Array);
    const all = new Float32Array(this.masking.maskedParams);
    let o = 0;
    for (const w of weights) for (let j = 0; j < w.length; j++) all[o++] = Math.abs(w[j]!);
    const keep = Math.floor(all.length * this.density);
    const threshold = keep > 0 ? kthSmallest(all, all.length - keep + 1) : Infinity;
    this.masking.layers.forEach((l, i) => {
      const w = weights[i]!;
      const m = new Uint8Array(w.length);
      for (let j = 0; j < w.length; j++) m[j] = Math.abs(w[j]!) >= threshold ? 1 : 0;
      if (this.masking.structure.kind !== 'unstructured') {
        // As GraNet's global step: the threshold gives the layer's count, the structure the positions.
        const drop = l.active - countActive(m);
        this.masking.setMask(l, structuredUpdate(this.masking.structure, l.param.shape, w, l.mask, drop, () => 0, null, m).mask);
        return;
      }
      this.masking.setMask(l, m);
    });
    this.masking.apply();
    this.pruned = true;
    this.seconds += (performance.now() - t0) / 1000;
    return {
      step: ctx.step, epoch: ctx.epoch, zeta: 0, decision: `one-shot-${this.density}`, val_loss: null, L_best: null, S_best: null,
      sparsity: this.masking.sparsity(), masked_sparsity: this.masking.maskedSparsity(), layers: layerDensities(this.masking),
    };
  }

  state(): Record<string, unknown> {
    return { seconds: this.seconds, pruned: this.pruned };
  }

  restore(s: Record<string, unknown>): void {
    this.seconds = s.seconds as number;
    this.pruned = s.pruned as boolean;
  }

  dispose(): void {
    this.masking.dispose();
  }
}
