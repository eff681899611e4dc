/**
 * Fixed-density dynamic sparse training, the shared core of RigL (gradient growth; Evci et al., ICML 2020)
 * and SET (random growth; Mocanu et al., 2018): start from a random mask at the target density (uniform or
 * ERK per layer), and every ΔT iterations within the update window drop ceil(ζ·n) smallest-magnitude weights
 * per layer and regrow as many, ζ decayed by cosine.
 */
import type { Masking } from './masking.ts';
import { cosineZeta } from './schedules.ts';
import { denseGradientsFor, inUpdateWindow, layerDensities, updateLayer, type Growth, type SparseStepContext, type SparsityController, type UpdateRecord } from './controller.ts';
import type { Rng } from '../tensor/random.ts';

export interface DstOptions {
  updateFrequency: number;
  zeta: number;
  growth: Growth;
}

export class FixedDensityController implements SparsityController {
  seconds = 0;

  constructor(readonly method: string, readonly masking: Masking, readonly opts: DstOptions, private readonly rng: Rng) {}

  async beforeOptimizerStep(): Promise<void> {}

  needsDenseGradients(ctx: SparseStepContext): boolean {
    const finalEpoch = Math.floor((2 / 3) * ctx.totalEpochs) + 1;
    return denseGradientsFor(this.opts.growth, inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, 0, finalEpoch));
  }

  async afterOptimizerStep(ctx: SparseStepContext): Promise<UpdateRecord | null> {
    const t0 = performance.now();
    this.masking.apply();
    const finalEpoch = Math.floor((2 / 3) * ctx.totalEpochs) + 1;
    if (!inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, 0, finalEpoch)) {
      this.seconds += (performance.now() - t0) / 1000;
      return null;
    }
    const zeta = cosineZeta(ctx.step, ctx.itersPerEpoch * ctx.totalEpochs, this.opts.zeta);
    for (const l of this.masking.layers) {
      await updateLayer(this.masking, l, (n) => Math.ceil(zeta * n), (r) => r, this.opts.growth, this.rng, ctx.momentum(l.param));
    }
    this.masking.apply();
    this.seconds += (performance.now() - t0) / 1000;
    return {
      step: ctx.step, epoch: ctx.epoch, zeta, decision: 'stable', val_loss: null, L_best: null, S_best: null,
      sparsity: this.masking.sparsity(), masked_sparsity: this.masking.maskedSparsity(), layers: layerDensities(this.masking),
    };
  }

  state(): Record<string, unknown> {
    return { seconds: this.seconds };
  }

  restore(s: Record<string, unknown>): void {
    this.seconds = s.seconds as number;
  }

  dispose(): void {
    this.masking.dispose();
  }
}
