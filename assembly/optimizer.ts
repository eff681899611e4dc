// Fused Adam update (contract: src/backend/kernels.ts, `adam`). Every operation rounds to f32 in the order
// of the contract's formula, so the result equals the same update written as eleven elementwise kernels —
// without their ten temporaries and passes over memory.

/** pOut, mOut, vOut [n] from p, g, m, v [n]; c1 = 1 − β1, c2 = 1 − β2 (rounded to f32 by the caller). */
export function adamUpdate(
  p: usize, g: usize, m: usize, v: usize, pOut: usize, mOut: usize, vOut: usize, n: i32,
  beta1: f32, c1: f32, beta2: f32, c2: f32, bc2Sqrt: f32, eps: f32, stepSize: f32,
): void {
  const b1 = f32x4.splat(beta1), k1 = f32x4.splat(c1), b2 = f32x4.splat(beta2), k2 = f32x4.splat(c2);
  const bc = f32x4.splat(bc2Sqrt), ep = f32x4.splat(eps), st = f32x4.splat(stepSize);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(gi, k1));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(gi, gi), k2));
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bc), ep);
    v128.store(pOut + o, f32x4.sub(v128.load(p + o), f32x4.mul(f32x4.div(mi, denom), st)));
    v128.store(mOut + o, mi);
    v128.store(vOut + o, vi);
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o) * beta1 + gi * c1;
    const vi = load<f32>(v + o) * beta2 + gi * gi * c2;
    const denom = Mathf.sqrt(vi) / bc2Sqrt + eps;
    store<f32>(pOut + o, load<f32>(p + o) - (mi / denom) * stepSize);
    store<f32>(mOut + o, mi);
    store<f32>(vOut + o, vi);
  }
}
