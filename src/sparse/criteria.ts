/**
 * Prune and grow criteria on host arrays, exactly as the sparselearning code of GraNet / PALS behaves:
 * pruning keeps weights whose magnitude is strictly above the k-th smallest (k = zeros + removals), so ties
 * at the threshold all go; growth activates the largest |gradient| (or random, or |momentum|) positions among
 * those inactive after the drop, ties by lower index.
 */
import type { Rng } from '../tensor/random.ts';

/** k-th smallest value (1-based) of `values` (copied; the input is untouched). */
export function kthSmallest(values: Float32Array, k: number): number {
  const a = values.slice();
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    // Median-of-three pivot, Hoare partition: expected O(n).
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

/**
 * Magnitude death: drop `numRemove` of the active weights with the smallest |w|. The new mask keeps
 * |w| > threshold where threshold is the (zeros + numRemove)-th smallest |w| over the whole tensor
 * (inactive weights are exactly 0). Returns the new mask and how many weights it really removed.
 */
export function magnitudeDeath(weight: Float32Array, mask: Uint8Array, numRemove: number): { mask: Uint8Array; removed: number } {
  const n = weight.length;
  let active = 0;
  for (let i = 0; i < n; i++) active += mask[i]!;
  const zeros = n - active;
  const k = Math.ceil(zeros + numRemove);
  const out = new Uint8Array(n);
  if (k <= 0) {
    out.set(mask);
    return { mask: out, removed: 0 };
  }
  const abs = new Float32Array(n);
  for (let i = 0; i < n; i++) abs[i] = mask[i] ? Math.abs(weight[i]!) : 0;
  const threshold = kthSmallest(abs, Math.min(k, n));
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const keep = abs[i]! > threshold ? 1 : 0;
    out[i] = keep;
    kept += keep;
  }
  return { mask: out, removed: active - kept };
}

/** Indices of the `count` largest `score` values among positions where `mask` is 0; ties → lower index. */
export function topInactive(score: Float32Array, mask: Uint8Array, count: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < mask.length; i++) if (!mask[i]) idx.push(i);
  idx.sort((a, b) => score[b]! - score[a]! || a - b);
  return idx.slice(0, Math.max(0, count));
}

/** RigL / PALS growth: activate the largest |grad| among inactive positions. */
export function gradientGrowth(grad: Float32Array, mask: Uint8Array, count: number): Uint8Array {
  const score = new Float32Array(grad.length);
  for (let i = 0; i < grad.length; i++) score[i] = Math.abs(grad[i]!);
  const out = mask.slice();
  for (const i of topInactive(score, mask, count)) out[i] = 1;
  return out;
}

/** Growth by |momentum| (Adam's first moment), as sparse momentum. */
export const momentumGrowth = gradientGrowth;

/** SET growth: uniformly random inactive positions from the seeded generator. */
export function randomGrowth(rng: Rng, mask: Uint8Array, count: number): Uint8Array {
  const score = rng.uniform(mask.length);
  const out = mask.slice();
  for (const i of topInactive(score, mask, count)) out[i] = 1;
  return out;
}

export function countActive(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}
