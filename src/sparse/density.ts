/**
 * Initial per-layer densities: uniform (every layer at the target) or ERK (Evci et al., RigL): density_l ∝
 * Σ dims / Π dims, scaled so the masked parameters reach the target overall; layers that would exceed 1 are
 * made dense and the rest re-solved.
 */
export type DensityInit = 'uniform' | 'erk';

export function allocateDensities(layers: { name: string; shape: readonly number[] }[], target: number, kind: DensityInit): Map<string, number> {
  const out = new Map<string, number>();
  if (target >= 1 || kind === 'uniform') {
    for (const l of layers) out.set(l.name, Math.min(1, target));
    return out;
  }
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const dense = new Set<string>();
  const total = layers.reduce((a, l) => a + size(l.shape), 0);
  for (;;) {
    let divisor = 0;
    let rhs = 0;
    const raw = new Map<string, number>();
    for (const l of layers) {
      const n = size(l.shape);
      if (dense.has(l.name)) {
        rhs -= n;
        continue;
      }
      const r = l.shape.reduce((a, b) => a + b, 0) / n;
      raw.set(l.name, r);
      divisor += r * n;
    }
    rhs += target * total;
    const eps = rhs / divisor;
    let grew = false;
    for (const [name, r] of raw) {
      if (eps * r > 1) {
        dense.add(name);
        grew = true;
      }
    }
    if (!grew) {
      for (const l of layers) out.set(l.name, dense.has(l.name) ? 1 : eps * raw.get(l.name)!);
      return out;
    }
  }
}
