/**
 * The PALS decision rule (Atashgahi et al., ECML PKDD 2024), exactly as the reference code's training loop
 * takes it every ΔT iterations (PALS-REFERENCE.md §1.1):
 *
 *   if S < S_min:                              shrink
 *   elif L ≤ λ·L_best and S < S_max:           shrink
 *   elif L > λ·L_best and S > S_best:          expand
 *   else:                                      stable
 *   then, if L < L_best: L_best, S_best = L, S
 *
 * S is the sparsity left by the previous update; L_best starts at 10000 and S_best at 1 − D_init.
 */
export type Decision = 'shrink' | 'expand' | 'stable';

export interface PalsRuleOptions {
  lambda: number;
  sMin: number;
  sMax: number;
  initDensity: number;
  /** Ablation: never expand (the expand branch becomes stable). */
  noExpand?: boolean;
}

export class PalsRule {
  bestLoss = 10000;
  bestSparsity: number;

  constructor(readonly opts: PalsRuleOptions) {
    this.bestSparsity = 1 - opts.initDensity;
  }

  decide(valLoss: number, sparsity: number): Decision {
    const { lambda, sMin, sMax } = this.opts;
    let d: Decision;
    if (sparsity < sMin) d = 'shrink';
    else if (valLoss <= lambda * this.bestLoss && sparsity < sMax) d = 'shrink';
    else if (valLoss > lambda * this.bestLoss && sparsity > this.bestSparsity) d = this.opts.noExpand ? 'stable' : 'expand';
    else d = 'stable';
    if (valLoss < this.bestLoss) {
      this.bestLoss = valLoss;
      this.bestSparsity = sparsity;
    }
    return d;
  }

  state(): { bestLoss: number; bestSparsity: number } {
    return { bestLoss: this.bestLoss, bestSparsity: this.bestSparsity };
  }

  restore(s: { bestLoss: number; bestSparsity: number }): void {
    this.bestLoss = s.bestLoss;
    this.bestSparsity = s.bestSparsity;
  }
}

/**
 * Per-layer prune and regrow counts for a decision, with n active weights, ζ and γ (§1.2):
 * shrink drops ceil(ζ·n·γ) and regrows int(r·(1/γ)); expand drops ceil(ζ·n) and regrows int(r·γ);
 * stable drops ceil(ζ·n) and regrows r — r being what the threshold really removed.
 */
export function pruneCount(decision: Decision, n: number, zeta: number, gamma: number): number {
  return decision === 'shrink' ? Math.ceil(zeta * n * gamma) : Math.ceil(zeta * n);
}

export function regrowCount(decision: Decision, removed: number, gamma: number): number {
  // Written as the reference does, r * (1/γ) in floating point: for γ = 1.1, r = 33 gives 30, not 29.
  if (decision === 'shrink') return Math.trunc(removed * (1 / gamma));
  if (decision === 'expand') return Math.trunc(removed * gamma);
  return removed;
}
