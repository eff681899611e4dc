/**
 * PALS: every ΔT iterations, the validation loss decides shrink / expand / stable (pals.ts), and every
 * masked layer moves by the decision's prune/regrow counts with ζ decayed by cosine. Topology changes only
 * within the first floor(2/3·epochs)+1 epochs.
 *
 * One deliberate difference in cost, not in outcome: the reference keeps running its validation pass every
 * ΔT after updates stop, although those decisions change nothing; here it is skipped.
 */
import type { Masking } from './masking.ts';
import { PalsRule, pruneCount, regrowCount, type Decision } from './pals.ts';
import { cosineZeta } from './schedules.ts';
import { denseGradientsFor, inUpdateWindow, layerDensities, updateLayer, type Growth, type SparseStepContext, type SparsityController, type UpdateRecord } from './controller.ts';
import type { Rng } from '../tensor/random.ts';

export interface PalsOptions {
  lambda: number;
  gamma: number;
  updateFrequency: number;
  sMin: number;
  sMax: number;
  zeta: number;
  initDensity: number;
  noExpand: boolean;
  growth: Growth;
}

export class PalsController implements SparsityController {
  readonly method: string;
  readonly rule: PalsRule;
  private decision: Decision = 'shrink';
  private lastVal: number | null = null;
  seconds = 0;

  constructor(readonly masking: Masking, readonly opts: PalsOptions, private readonly rng: Rng) {
    this.method = opts.noExpand ? 'pals-no-expand' : 'pals';
    this.rule = new PalsRule({ lambda: opts.lambda, sMin: opts.sMin, sMax: opts.sMax, initDensity: opts.initDensity, noExpand: opts.noExpand });
  }

  private finalEpoch(ctx: SparseStepContext): number {
    return palsFinalEpoch(ctx.totalEpochs);
  }

  needsDenseGradients(ctx: SparseStepContext): boolean {
    return denseGradientsFor(this.opts.growth, inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, 0, this.finalEpoch(ctx)));
  }

  async beforeOptimizerStep(ctx: SparseStepContext): Promise<void> {
    if (!inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, 0, this.finalEpoch(ctx))) return;
    const t0 = performance.now();
    this.lastVal = await ctx.validate();
    this.decision = this.rule.decide(this.lastVal, this.masking.sparsity());
    this.seconds += (performance.now() - t0) / 1000;
  }

  async afterOptimizerStep(ctx: SparseStepContext): Promise<UpdateRecord | null> {
    const t0 = performance.now();
    this.masking.apply();
    if (!inUpdateWindow(ctx.step, this.opts.updateFrequency, ctx.itersPerEpoch, 0, this.finalEpoch(ctx))) {
      this.seconds += (performance.now() - t0) / 1000;
      return null;
    }
    const zeta = cosineZeta(ctx.step, ctx.itersPerEpoch * ctx.totalEpochs, this.opts.zeta);
    const d = this.decision;
    for (const l of this.masking.layers) {
      await updateLayer(this.masking, l, (n) => pruneCount(d, n, zeta, this.opts.gamma), (r) => regrowCount(d, r, this.opts.gamma), this.opts.growth, this.rng, ctx.momentum(l.param));
    }
    this.masking.apply();
    this.seconds += (performance.now() - t0) / 1000;
    return {
      step: ctx.step, epoch: ctx.epoch, zeta, decision: d, val_loss: this.lastVal, L_best: this.rule.bestLoss, S_best: this.rule.bestSparsity,
      sparsity: this.masking.sparsity(), masked_sparsity: this.masking.maskedSparsity(), layers: layerDensities(this.masking),
    };
  }

  state(): Record<string, unknown> {
    return { rule: this.rule.state(), decision: this.decision, lastVal: this.lastVal, seconds: this.seconds };
  }

  restore(s: Record<string, unknown>): void {
    this.rule.restore(s.rule as { bestLoss: number; bestSparsity: number });
    this.decision = s.decision as Decision;
    this.lastVal = s.lastVal as number | null;
    this.seconds = s.seconds as number;
  }

  dispose(): void {
    this.masking.dispose();
  }
}

/** The reference's update window: decisions stop after the first ⌊2/3 · epochs⌋ + 1 epochs. */
function palsFinalEpoch(totalEpochs: number): number {
  return Math.floor((2 / 3) * totalEpochs) + 1;
}

/**
 * How many sparsity decisions PALS takes in a run that trains every epoch to the end (early stopping can only
 * take fewer): steps 1 … epochs × itersPerEpoch, a decision every `updateFrequency` steps inside the window.
 */
export function palsDecisionCount(updateFrequency: number, itersPerEpoch: number, epochs: number): number {
  const final = palsFinalEpoch(epochs);
  let n = 0;
  for (let step = updateFrequency; step <= epochs * itersPerEpoch; step += updateFrequency) {
    if (inUpdateWindow(step, updateFrequency, itersPerEpoch, 0, final)) n++;
  }
  return n;
}
