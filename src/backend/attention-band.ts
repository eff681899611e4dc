/**
 * The visibility band of a fused attention (kernels.ts, `AttentionAttrs`), shared by every backend's glue and
 * by the ops layer: which keys a query row sees, which key range a tile of query rows needs, and the dropout
 * constants. Visibility is a band because both masks are: causal keeps j ≤ i, a window keeps |i − j| ≤ w, so
 * row i sees the contiguous keys [lo(i), hi(i)), and lo, hi never decrease with i.
 */
import type { AttentionAttrs, AttentionShape } from './kernels.ts';

/** Interleaved heads H of the layout (1: plain [batch, L, width]). */
export function headsOf(shape: AttentionShape): number {
  return shape.heads ?? 1;
}

/**
 * Element offset of row i of batch index bh in a tensor of `len` rows of `width` values per head: the
 * [batch, len, width] offset when H = 1, the [B, len, H, width] one otherwise (rows are H·width apart).
 */
export function rowOffset(shape: AttentionShape, bh: number, i: number, len: number, width: number): number {
  const h = headsOf(shape);
  return ((Math.floor(bh / h) * len + i) * h + (bh % h)) * width;
}

/** Window half width, or −1 for none. */
export function windowOf(attrs: AttentionAttrs): number {
  return attrs.window === undefined || attrs.window < 0 ? -1 : attrs.window;
}

/** Keys [lo, hi) visible from query row i (empty when hi ≤ lo). */
export function keyRange(i: number, lk: number, attrs: AttentionAttrs): [number, number] {
  const w = windowOf(attrs);
  let lo = 0;
  let hi = lk;
  if (attrs.causal) hi = Math.min(hi, i + 1);
  if (w >= 0) {
    lo = Math.max(lo, i - w);
    hi = Math.min(hi, i + w + 1);
  }
  return [lo, Math.max(lo, hi)];
}

/** The first query row that sees no key, or −1 when every row sees at least one. */
export function firstBlindRow(lq: number, lk: number, attrs: AttentionAttrs): number {
  if (lq === 0) return -1;
  if (lk === 0) return 0;
  // lo(i) grows with i while hi(i) ≥ min(lk, i + 1) > lo(i) as long as lo(i) < lk: only rows past lk + w go blind.
  const w = windowOf(attrs);
  if (w < 0) return -1;
  const first = lk + w;
  return first < lq ? first : -1;
}

/** Dropout constants as f32 values: keep when uniform < keepP; kept weights are multiplied by keepScale. */
export function dropoutConstants(p: number): { keepP: number; keepScale: number } {
  return { keepP: Math.fround(1 - p), keepScale: Math.fround(1 / (1 - p)) };
}

/** Validate sizes and attributes (kernels assume them valid; the error names the kernel and the shape). */
export function checkAttention(op: string, shape: AttentionShape, attrs: AttentionAttrs): void {
  const { batch, lq, lk, e, ev } = shape;
  for (const [k, v] of Object.entries({ batch, lq, lk, e, ev })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${k} must be an integer ≥ 0, got ${v}`);
  }
  const h = headsOf(shape);
  if (!Number.isInteger(h) || h < 1 || batch % h !== 0) {
    throw new Error(`${op}: heads must be an integer ≥ 1 dividing batch ${batch}, got ${shape.heads}`);
  }
  if (!Number.isFinite(attrs.scale)) throw new Error(`${op}: scale must be finite, got ${attrs.scale}`);
  if (attrs.window !== undefined && !(Number.isInteger(attrs.window) && attrs.window >= -1)) {
    throw new Error(`${op}: window must be an integer ≥ 0 (or −1 for none), got ${attrs.window}`);
  }
  const d = attrs.dropout;
  if (d) {
    if (!(d.p >= 0 && d.p < 1)) throw new Error(`${op}: dropout p must be in [0, 1), got ${d.p}`);
    if (!Number.isSafeInteger(d.seed) || d.seed < 0) throw new Error(`${op}: dropout seed must be a non-negative safe integer, got ${d.seed}`);
    if (!Number.isSafeInteger(d.counter) || d.counter < 0 || d.counter + batch * lq * lk > Number.MAX_SAFE_INTEGER) {
      throw new Error(`${op}: dropout counter ${d.counter} (+ ${batch * lq * lk} elements) must stay below 2^53`);
    }
  }
}
