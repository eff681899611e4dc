/**
 * Mask structure: which weights a sparse method's counts land on. A method (PALS, GraNet, RigL, SET, static)
 * decides *how many* weights each layer drops and regrows exactly as the reference does; a structure decides
 * only *where*, so that the surviving pattern has a shape kernels can exploit.
 *
 * A masked weight of shape [out, …rest] is viewed as a matrix of R = out rows (output neurons / channels) by
 * C = Π rest columns (the fan-in: `in` for a Linear [out, in], `in·k` for a Conv1d [out, in, k]); row i is
 * contiguous in memory, so element e sits at row ⌊e/C⌋, column e mod C.
 *
 * - `unstructured` — the reference's element-wise rules (criteria.ts); no code here runs for it, so it stays
 *   bit-exact.
 *
 * - `fan_in` (constant fan-in, as Structured RigL — Lasby et al., ICLR 2024): every live neuron (a row with at
 *   least one active weight) holds the same number k of active inputs, and a dead row holds none.
 *   Update rule, for a prune count r and a regrow rule regrow(removed) given by the method:
 *     1. Neuron ablation (threshold γ_sal, `ablation`; 0 turns it off). The unstructured rule is run on the
 *        side to find the *salient* weights: those unstructured magnitude death would keep plus those
 *        unstructured growth would add. A live neuron whose salient count is below γ_sal × the mean salient
 *        count per live neuron is removed whole — its weights count as pruned, so the regrowth of its
 *        budget lands in the surviving neurons. The neuron with the most salient weights is never below the
 *        mean, so a layer never loses its last live neuron (γ_sal ≤ 1).
 *     2. Prune: the r − A weights still to remove (A = weights of ablated neurons) are spread evenly, d =
 *        round(max(0, r − A) / L′) per surviving neuron (round half up; L′ live neurons), each neuron dropping
 *        its d smallest |w| (ties: lower column first), and keeping at least one input. So the layer really
 *        removes A + L′·d — the nearest count the structure can realise — and *that* is the `removed` the
 *        method's regrow rule sees, just as the reference feeds the threshold's real count into it.
 *     3. Grow: g = round(regrow(removed) / L′) per surviving neuron (capped by the free columns of the row),
 *        each taking the g largest growth scores among its inactive inputs, just-dropped ones included (ties:
 *        lower column first). Ablated neurons stay dead: growth only widens live neurons.
 *   Every live neuron therefore ends with k − d + g inputs — the invariant holds after every update — and the
 *   masks count exactly what they hold (Masking.nnz), so the sparsity the PALS rule reads next is the real one.
 *   The per-neuron rounding is the price: on a narrow layer it can cancel a step (a [64, 4] embedding at k = 4
 *   under a PALS shrink with ζ = 0.5, γ = 1.1 drops d = round(2.2) = 2 and regrows g = round(1.81) = 2), and
 *   once ζ has decayed below half a weight per neuron, d = 0 and the layer's topology stops moving.
 *
 * - `block` (B×B blocks, B = `blockSize`): the R×C matrix is tiled from the top-left corner into ⌈R/B⌉×⌈C/B⌉
 *   tiles; the last tile row / column is a partial edge block (fewer rows / columns) when R or C is not a
 *   multiple of B. A tile is either fully active or fully inactive. Prune ranks live blocks by mean |w| over
 *   their elements (the L1 norm per element, so edge blocks compete fairly), smallest first, and drops blocks
 *   in that order while the removed count gets nearer to r (a block is dropped when removed + size/2 ≤ r:
 *   round half up); the last live block is never dropped. Grow ranks inactive blocks (just-dropped included)
 *   by mean growth score (|gradient|, |momentum| or the seeded uniform draw) and adds them by the same
 *   nearest-count rule against regrow(removed). Ties in either ranking: lower block index first.
 *
 * Global pruners (GraNet's gradual step, static one-shot pruning) compute their global threshold as the
 * reference does; the set it would keep in a layer is that layer's salient set and its size is the layer's
 * target — the structure then prunes the layer to that count with no regrowth (same rule as above).
 *
 * Cost per layer update: one O(size) pass to score, plus a sort over blocks
 * (O(size/B² log)); choosing within a row is a linear-time selection, so a fan_in update is O(size).
 */
import type { Rng } from '../tensor/random.ts';
import { kthSmallest, magnitudeDeath } from './criteria.ts';

export type StructureKind = 'unstructured' | 'fan_in' | 'block';

export const STRUCTURES: readonly StructureKind[] = ['unstructured', 'fan_in', 'block'];

export interface MaskStructure {
  kind: StructureKind;
  /** B of `block` (4 by default). */
  blockSize: number;
  /** γ_sal of `fan_in`'s neuron ablation, in [0, 1]; 0 disables ablation. SRigL's default is 0.3. */
  ablation: number;
}

export const UNSTRUCTURED: MaskStructure = { kind: 'unstructured', blockSize: 4, ablation: 0.3 };

/** Throws a flag-named error on an unknown structure or bad parameters. */
export function validateStructure(s: MaskStructure): void {
  if (!STRUCTURES.includes(s.kind)) throw new Error(`sparse: unknown --sparsity_structure '${s.kind}' (available: ${STRUCTURES.join(', ')})`);
  if (!Number.isInteger(s.blockSize) || s.blockSize < 1) throw new Error(`sparse: --block_size must be a positive integer, got ${s.blockSize}`);
  if (!(s.ablation >= 0 && s.ablation <= 1)) throw new Error(`sparse: --fan_in_ablation must be in [0, 1], got ${s.ablation}`);
}

/** R rows (output neurons) × C columns (fan-in) of a weight shape. */
export function rowsCols(shape: readonly number[]): { R: number; C: number } {
  const R = shape[0]!;
  const size = shape.reduce((a, b) => a * b, 1);
  return { R, C: R > 0 ? size / R : 0 };
}

/** Half-up rounding of a/b for non-negative integers a and b > 0, in exact integer arithmetic. */
function roundDiv(a: number, b: number): number {
  return Math.floor((2 * a + b) / (2 * b));
}

/**
 * Of the candidates `idx[0..len)` (ascending element indices), the `count` with the smallest `key` — ties
 * to the earlier candidate, exactly what a stable sort would take — written as `value` into `out`. Linear
 * time (a selection for the count-th key, then two passes), so a layer update stays O(size).
 */
function takeSmallest(idx: Int32Array, key: Float32Array, len: number, count: number, out: Uint8Array, value: number): void {
  if (count <= 0 || len === 0) return;
  if (count >= len) {
    for (let t = 0; t < len; t++) out[idx[t]!] = value;
    return;
  }
  const keys = key.subarray(0, len);
  const th = kthSmallest(keys, count);
  let taken = 0;
  for (let t = 0; t < len; t++) if (keys[t]! < th) { out[idx[t]!] = value; taken++; }
  for (let t = 0; t < len && taken < count; t++) if (keys[t] === th) { out[idx[t]!] = value; taken++; }
}

/** Per-row active counts. */
function rowCounts(mask: Uint8Array, R: number, C: number): Int32Array {
  const c = new Int32Array(R);
  for (let r = 0, e = 0; r < R; r++) {
    let n = 0;
    for (let j = 0; j < C; j++, e++) n += mask[e]!;
    c[r] = n;
  }
  return c;
}

/** Block geometry: block index of every element, and each block's element count. */
interface Blocks {
  count: number;
  of: Int32Array;
  size: Int32Array;
}

function blocksOf(R: number, C: number, B: number): Blocks {
  const nbc = Math.ceil(C / B);
  const count = Math.ceil(R / B) * nbc;
  const of = new Int32Array(R * C);
  const size = new Int32Array(count);
  for (let r = 0, e = 0; r < R; r++) {
    const rowBase = Math.floor(r / B) * nbc;
    for (let j = 0; j < C; j++, e++) {
      const b = rowBase + Math.floor(j / B);
      of[e] = b;
      size[b]!++;
    }
  }
  return { count, of, size };
}

/** Mean of `values` (absolute when `abs`) over each block's elements. */
function blockMeans(values: Float32Array, bl: Blocks, abs: boolean): Float64Array {
  const s = new Float64Array(bl.count);
  for (let e = 0; e < values.length; e++) {
    const b = bl.of[e]!;
    s[b] = s[b]! + (abs ? Math.abs(values[e]!) : values[e]!);
  }
  for (let b = 0; b < bl.count; b++) s[b] = s[b]! / bl.size[b]!;
  return s;
}

/**
 * Walk `order` and take blocks while the total gets nearer to `target` (take when taken + size/2 ≤ target,
 * i.e. round half up); stop at the first block that would overshoot, keeping at most `limit` blocks taken.
 */
function takeNearest(order: number[], size: Int32Array, target: number, limit: number): { taken: number[]; total: number } {
  const taken: number[] = [];
  let total = 0;
  for (const b of order) {
    if (taken.length >= limit || 2 * (total + size[b]!) > 2 * target + size[b]!) break;
    taken.push(b);
    total += size[b]!;
  }
  return { taken, total };
}

/**
 * An initial mask of the structure at `density` (random layouts: every draw from `rng`).
 * fan_in: each row keeps the same k = max(1, round(density·C)) inputs, those with the largest uniform draws
 * (one draw per element). block: blocks in order of one uniform draw per block (largest first), taken by the
 * nearest-count rule against round(density·size), at least one block.
 */
export function structuredInitMask(s: MaskStructure, rng: Rng, shape: readonly number[], density: number): Uint8Array {
  const { R, C } = rowsCols(shape);
  const size = R * C;
  const m = new Uint8Array(size);
  if (density >= 1) return m.fill(1);
  if (s.kind === 'fan_in') {
    const k = Math.min(C, Math.max(1, Math.round(density * C)));
    const u = rng.uniform(size);
    const idx = new Int32Array(C);
    const key = new Float32Array(C);
    for (let r = 0; r < R; r++) {
      const base = r * C;
      // The k largest draws of the row (keys negated), ties to the lower column.
      for (let j = 0; j < C; j++) { idx[j] = base + j; key[j] = -u[base + j]!; }
      takeSmallest(idx, key, C, k, m, 1);
    }
    return m;
  }
  if (s.kind === 'block') {
    const bl = blocksOf(R, C, s.blockSize);
    const u = rng.uniform(bl.count);
    const order = Array.from({ length: bl.count }, (_, b) => b).sort((a, b) => u[b]! - u[a]! || a - b);
    const { taken } = takeNearest(order, bl.size, Math.round(density * size), bl.count);
    if (taken.length === 0) taken.push(order[0]!);
    const on = new Uint8Array(bl.count);
    for (const b of taken) on[b] = 1;
    for (let e = 0; e < size; e++) m[e] = on[bl.of[e]!]!;
    return m;
  }
  throw new Error(`structuredInitMask: '${s.kind}' has no structured initialisation`);
}

export interface StructuredUpdate {
  mask: Uint8Array;
  /** Weights the update really removed (ablated neurons included). */
  removed: number;
  /** Weights it really added. */
  regrown: number;
  /** fan_in: neurons removed whole in this update. */
  ablated: number;
}

/**
 * One prune-and-grow of a layer under the structure (see the rules at the top of this file).
 * `pruneCount` is the method's nominal count r; `regrow(removed)` its regrow rule; `growScore` the growth
 * criterion per element (larger is better; null when the step only prunes); `salient`, when given, is the mask
 * the unstructured rule would end with (global pruners pass their threshold's set) — else, for fan_in
 * ablation, it is computed here from magnitude death and growth by `growScore`.
 */
export function structuredUpdate(
  s: MaskStructure, shape: readonly number[], weight: Float32Array, mask: Uint8Array,
  pruneCount: number, regrow: (removed: number) => number, growScore: Float32Array | null, salient?: Uint8Array,
): StructuredUpdate {
  if (s.kind === 'fan_in') return fanInUpdate(s, shape, weight, mask, pruneCount, regrow, growScore, salient);
  if (s.kind === 'block') return blockUpdate(s, shape, weight, mask, pruneCount, regrow, growScore);
  throw new Error(`structuredUpdate: '${s.kind}' is handled by the unstructured criteria`);
}

function fanInUpdate(
  s: MaskStructure, shape: readonly number[], weight: Float32Array, mask: Uint8Array,
  pruneCount: number, regrow: (removed: number) => number, growScore: Float32Array | null, salient?: Uint8Array,
): StructuredUpdate {
  const { R, C } = rowsCols(shape);
  const size = R * C;
  const out = mask.slice();
  const counts = rowCounts(mask, R, C);
  const live: number[] = [];
  let n = 0;
  for (let r = 0; r < R; r++) if (counts[r]! > 0) { live.push(r); n += counts[r]!; }
  if (live.length === 0) return { mask: out, removed: 0, regrown: 0, ablated: 0 };
  const r0 = Math.max(0, Math.min(n, Math.ceil(pruneCount)));

  // 1. Neuron ablation against the unstructured rule's salient set.
  let ablatedWeights = 0;
  let ablated = 0;
  let survivors = live;
  if (s.ablation > 0 && live.length > 1) {
    let sal = salient;
    if (!sal) {
      const dead = magnitudeDeath(weight, mask, r0);
      const want = Math.min(regrow(dead.removed), size - (n - dead.removed));
      sal = dead.mask;
      if (growScore && want > 0) {
        // The `want` largest growth scores among the inactive positions (unstructured growth's choice).
        const idx = new Int32Array(size);
        const key = new Float32Array(size);
        let len = 0;
        for (let e = 0; e < size; e++) if (!sal[e]) { idx[len] = e; key[len++] = -growScore[e]!; }
        takeSmallest(idx, key, len, want, sal, 1);
      }
    }
    const sc = rowCounts(sal, R, C);
    let total = 0;
    for (const r of live) total += sc[r]!;
    const threshold = (s.ablation * total) / live.length;
    survivors = [];
    for (const r of live) {
      if (sc[r]! < threshold) {
        out.fill(0, r * C, (r + 1) * C);
        ablatedWeights += counts[r]!;
        ablated++;
      } else survivors.push(r);
    }
  }

  // 2. Prune the rest evenly: d smallest |w| per surviving neuron, at least one input kept.
  const L = survivors.length;
  const d = roundDiv(Math.max(0, r0 - ablatedWeights), L);
  let removed = ablatedWeights;
  const idx = new Int32Array(C);
  const key = new Float32Array(C);
  if (d > 0) {
    for (const r of survivors) {
      const base = r * C;
      let len = 0;
      for (let j = 0; j < C; j++) if (out[base + j]) { idx[len] = base + j; key[len++] = Math.abs(weight[base + j]!); }
      const take = Math.min(d, len - 1);
      takeSmallest(idx, key, len, take, out, 0);
      removed += Math.max(0, take);
    }
  }

  // 3. Grow evenly: g largest scores per surviving neuron among its inactive inputs.
  const want = Math.max(0, Math.min(regrow(removed), size - (n - removed)));
  const g = roundDiv(want, L);
  let regrown = 0;
  if (g > 0 && growScore) {
    for (const r of survivors) {
      const base = r * C;
      let len = 0;
      for (let j = 0; j < C; j++) if (!out[base + j]) { idx[len] = base + j; key[len++] = -growScore[base + j]!; }
      const take = Math.min(g, len);
      takeSmallest(idx, key, len, take, out, 1);
      regrown += take;
    }
  }
  return { mask: out, removed, regrown, ablated };
}

function blockUpdate(
  s: MaskStructure, shape: readonly number[], weight: Float32Array, mask: Uint8Array,
  pruneCount: number, regrow: (removed: number) => number, growScore: Float32Array | null,
): StructuredUpdate {
  const { R, C } = rowsCols(shape);
  const size = R * C;
  const bl = blocksOf(R, C, s.blockSize);
  const on = new Uint8Array(bl.count);
  for (let e = 0; e < size; e++) if (mask[e]) on[bl.of[e]!] = 1;
  let n = 0;
  const liveBlocks: number[] = [];
  for (let b = 0; b < bl.count; b++) if (on[b]) { liveBlocks.push(b); n += bl.size[b]!; }
  const r0 = Math.max(0, Math.min(n, Math.ceil(pruneCount)));

  const wScore = blockMeans(weight, bl, true);
  liveBlocks.sort((a, b) => wScore[a]! - wScore[b]! || a - b);
  const drop = takeNearest(liveBlocks, bl.size, r0, liveBlocks.length - 1);
  for (const b of drop.taken) on[b] = 0;
  const removed = drop.total;

  const want = Math.max(0, Math.min(regrow(removed), size - (n - removed)));
  let regrown = 0;
  if (want > 0 && growScore) {
    const gScore = blockMeans(growScore, bl, false);
    const free: number[] = [];
    for (let b = 0; b < bl.count; b++) if (!on[b]) free.push(b);
    free.sort((a, b) => gScore[b]! - gScore[a]! || a - b);
    const grow = takeNearest(free, bl.size, want, free.length);
    for (const b of grow.taken) on[b] = 1;
    regrown = grow.total;
  }
  const out = new Uint8Array(size);
  for (let e = 0; e < size; e++) out[e] = on[bl.of[e]!]!;
  return { mask: out, removed, regrown, ablated: 0 };
}

/** Null when `mask` satisfies the structure's invariant, else a sentence saying where it does not. */
export function structureViolation(s: MaskStructure, shape: readonly number[], mask: Uint8Array): string | null {
  const { R, C } = rowsCols(shape);
  if (s.kind === 'fan_in') {
    const counts = rowCounts(mask, R, C);
    let k = -1;
    for (let r = 0; r < R; r++) {
      const c = counts[r]!;
      if (c === 0) continue;
      if (k < 0) k = c;
      else if (c !== k) return `fan_in: row ${r} has ${c} inputs, an earlier live row ${k}`;
    }
    return null;
  }
  if (s.kind === 'block') {
    const bl = blocksOf(R, C, s.blockSize);
    const ones = new Int32Array(bl.count);
    for (let e = 0; e < mask.length; e++) {
      const b = bl.of[e]!;
      ones[b] = ones[b]! + mask[e]!;
    }
    for (let b = 0; b < bl.count; b++) if (ones[b] !== 0 && ones[b] !== bl.size[b]) return `block: block ${b} is partly active (${ones[b]} of ${bl.size[b]})`;
    return null;
  }
  return null;
}

/** Live neurons and their fan-in of a fan_in mask (k = 0 when no neuron is live). */
export function fanInOf(shape: readonly number[], mask: Uint8Array): { live: number; k: number } {
  const { R, C } = rowsCols(shape);
  const counts = rowCounts(mask, R, C);
  let live = 0;
  let k = 0;
  for (let r = 0; r < R; r++) if (counts[r]! > 0) { live++; k = counts[r]!; }
  return { live, k };
}
