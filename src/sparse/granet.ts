/**
 * GraNet (Liu et al., NeurIPS 2021) as the PALS code runs it: every ΔT iterations within the pruning window,
 * global gradual magnitude pruning to the cubic schedule's density (keep |w| ≥ the global threshold), then a
 * stable per-layer prune-and-regrow by gradient with ζ decayed by cosine.
 */
import type { Masking } from './masking.ts';
import { cubicDensity, cosineZeta } from './schedules.ts';
import { denseGradientsFor, inUpdateWindow, layerDensities, updateLayer, type Growth, type SparseStepContext, type SparsityController, type UpdateRecord } from './controller.ts';
import { countActive, kthSmallest } from './criteria.ts';
import { structuredUpdate } from './structure.ts';
import type { Rng } from '../tensor/random.ts';

export interface GranetOptions {
  initDensity: number;
  finalDensity: number;
  updateFrequency: number;
  zeta: number;
  growth: Growth;
  initPruneEpoch: number;
}

export class GranetController implements SparsityController {
  readonly method = 'granet';
  seconds = 0;

  constructor(readonly masking: Masking, readonly opts: GranetOptions, private readonly rng: Rng) {}

  async beforeOptimizerStep(): Promise<void> {}

  needsDenseGradients(ctx: SparseStepContext): boolean {
    const finalEpoch = Math.floor((2 / 3) * ctx.totalEpochs) + 1;
    return denseGradientsFor(this.opts.growth, inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, this.opts.initPruneEpoch, finalEpoch));
  }

  /** Target density at `step`, in units of update iterations as the reference counts them. */
  targetDensity(step: number, ctx: SparseStepContext): number {
    const every = this.opts.updateFrequency;
    const first = Math.floor((this.opts.initPruneEpoch * ctx.itersPerEpoch) / every);
    const last = Math.floor(((Math.floor((2 / 3) * ctx.totalEpochs) + 1) * ctx.itersPerEpoch) / every);
    return cubicDensity(Math.floor(step / every), first, last, this.opts.initDensity, this.opts.finalDensity);
  }

  async afterOptimizerStep(ctx: SparseStepContext): Promise<UpdateRecord | null> {
    const t0 = performance.now();
    this.masking.apply();
    const finalEpoch = Math.floor((2 / 3) * ctx.totalEpochs) + 1;
    if (!inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, this.opts.initPruneEpoch, finalEpoch)) {
      this.seconds += (performance.now() - t0) / 1000;
      return null;
    }
    const density = this.targetDensity(ctx.step, ctx);
    await this.globalPrune(density);
    const zeta = cosineZeta(ctx.step, ctx.itersPerEpoch * ctx.totalEpochs, this.opts.zeta);
    for (const l of this.masking.layers) {
      await updateLayer(this.masking, l, (n) => Math.ceil(zeta * n), (r) => r, this.opts.growth, this.rng, ctx.momentum(l.param));
    }
    this.masking.apply();
    this.seconds += (performance.now() - t0) / 1000;
    return {
      step: ctx.step, epoch: ctx.epoch, zeta, decision: `prune-to-${density.toFixed(4)}`, val_loss: null, L_best: null, S_best: null,
      sparsity: this.masking.sparsity(), masked_sparsity: this.masking.maskedSparsity(), layers: layerDensities(this.masking),
    };
  }

  /** Keep the int(N·density) largest |w| over all masked layers (ties at the threshold kept, as `>=`). */
  private async globalPrune(density: number): Promise<void> {
    const all = new Float32Array(this.masking.maskedParams);
    let o = 0;
    const weights: Float32Array[] = [];
    for (const l of this.masking.layers) weights.push((await l.param.data()) as Float32Array);
    this.masking.layers.forEach((l, i) => {
      const w = weights[i]!;
      for (let j = 0; j < w.length; j++) all[o++] = l.mask[j] ? Math.abs(w[j]!) : 0;
    });
    const keep = Math.floor(all.length * density);
    if (keep >= this.masking.nnz() || keep <= 0) return;
    const threshold = kthSmallest(all, all.length - keep + 1);
    this.masking.layers.forEach((l, i) => {
      const w = weights[i]!;
      const m = new Uint8Array(w.length);
      for (let j = 0; j < w.length; j++) m[j] = l.mask[j] && Math.abs(w[j]!) >= threshold ? 1 : 0;
      if (this.masking.structure.kind !== 'unstructured') {
        // The global threshold says how many this layer keeps (and which weights matter, for ablation); the
        // structure chooses which to keep (structure.ts).
        const drop = l.active - countActive(m);
        this.masking.setMask(l, structuredUpdate(this.masking.structure, l.param.shape, w, l.mask, drop, () => 0, null, m).mask);
        return;
      }
      this.masking.setMask(l, m);
    });
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
