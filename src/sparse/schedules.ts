/**
 * Schedules of sparse training. ζ (the fraction of a layer's active weights moved per update) decays by
 * cosine as torch's CosineAnnealingLR stepped once per iteration; GraNet's density follows a cubic curve
 * between its first and last pruning epochs (Zhu & Gupta's gradual pruning).
 */

/** ζ after `t` iterations of a cosine decay from ζ₀ to ζ_min over `tMax` iterations. */
export function cosineZeta(t: number, tMax: number, zeta0 = 0.5, zetaMin = 0.005): number {
  if (tMax <= 0) return zeta0;
  return zetaMin + ((zeta0 - zetaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/**
 * GraNet's target density at iteration t: d_T + (d_0 − d_T)·(1 − (t − t₀)/(t₁ − t₀))³ between t₀ and t₁,
 * d_0 before, d_T after.
 */
export function cubicDensity(t: number, t0: number, t1: number, initDensity: number, finalDensity: number): number {
  if (t <= t0) return initDensity;
  if (t >= t1) return finalDensity;
  const p = 1 - (t - t0) / (t1 - t0);
  return finalDensity + (initDensity - finalDensity) * p * p * p;
}
