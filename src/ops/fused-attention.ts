/**
 * Fused scaled dot-product attention as one differentiable op: the `attention` kernel forward (no [Lq, Lk]
 * weights tensor is ever made) and `attentionBackward` on the tape, which recomputes the weights tile by tile
 * from the saved log-sum-exp. Masks are structural (causal, local window), dropout draws the same Philox
 * counters as the unfused path (`dropout` reserves batch·Lq·Lk of them), so either path gives the same run.
 * The backward pass is one kernel, as layer norm's: first-order gradients only (no double backward).
 */
import { record } from '../autograd/tape.ts';
import type { AttentionAttrs, AttentionShape } from '../backend/kernels.ts';
import { firstBlindRow } from '../backend/attention-band.ts';
import { sameShape, shapeToString } from '../tensor/shape.ts';
import { countFlops } from '../tensor/flops.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { checkDtype, storages, wrap } from './util.ts';

export interface FusedAttentionOptions {
  /** Score scale; default 1/√E. */
  scale?: number;
  /** Mask keys j > i (TSLib's TriangularCausalMask). */
  causal?: boolean;
  /** Local window half width w: query i sees keys with |i − j| ≤ w (combined with `causal` when set). */
  window?: number;
  /** Dropout probability on the attention weights, 0 ≤ p < 1 (needs `rng` and `training`). */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
}

/** Checks shared by both attention paths: dtypes, ranks, matching sizes; returns the sizes. */
export function attentionSizes(op: string, q: Tensor, k: Tensor, v: Tensor): { lq: number; lk: number; e: number; ev: number } {
  for (const [t, name] of [[q, 'query'], [k, 'key'], [v, 'value']] as const) {
    checkDtype(op, t, ['f32'], name);
    if (t.rank < 2) throw new Error(`${op}: ${name} ${shapeToString(t.shape)} must have rank ≥ 2 ([..., L, E])`);
  }
  const e = q.shape[q.rank - 1]!;
  if (k.shape[k.rank - 1] !== e) {
    throw new Error(`${op}: query ${shapeToString(q.shape)} and key ${shapeToString(k.shape)} differ in the feature dimension`);
  }
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new Error(`${op}: key ${shapeToString(k.shape)} and value ${shapeToString(v.shape)} differ in length`);
  }
  return { lq: q.shape[q.rank - 2]!, lk: k.shape[k.rank - 2]!, e, ev: v.shape[v.rank - 1]! };
}

/**
 * A query row that sees no key would get the softmax of an empty (all −∞) row: NaN. Both paths refuse such
 * a mask up front rather than return NaN silently (the kernels themselves define it as NaN; see kernels.ts).
 */
export function checkNoBlindRows(op: string, lq: number, lk: number, causal: boolean, window: number | undefined): void {
  const blind = firstBlindRow(lq, lk, { scale: 1, causal, window });
  if (blind >= 0) {
    throw new Error(`${op}: query row ${blind} of ${lq} sees no key (keys ${lk}${window !== undefined && window >= 0 ? `, window ${window}` : ''}${causal ? ', causal' : ''}): its softmax would be NaN`);
  }
}

/** Whether the fused kernel can run these inputs (same batch dims everywhere; otherwise use the unfused path). */
export function fusable(q: Tensor, k: Tensor, v: Tensor): boolean {
  const bq = q.shape.slice(0, -2);
  return sameShape(bq, k.shape.slice(0, -2)) && sameShape(bq, v.shape.slice(0, -2));
}

/**
 * q [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev] with equal batch dims → softmax(scale·Q·Kᵀ, masked) · V
 * (with dropout on the weights) of shape [..., Lq, Ev].
 */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, opts: FusedAttentionOptions = {}): Tensor {
  const op = 'fusedAttention';
  const { lq, lk, e, ev } = attentionSizes(op, q, k, v);
  if (!fusable(q, k, v)) {
    throw new Error(`${op}: query ${shapeToString(q.shape)}, key ${shapeToString(k.shape)} and value ${shapeToString(v.shape)} must have equal batch dimensions (use scaledDotProductAttention to broadcast)`);
  }
  const batch = q.shape.slice(0, -2).reduce((a, d) => a * d, 1);
  return run(op, q, k, v, { batch, lq, lk, e, ev }, [...q.shape.slice(0, -1), ev], opts);
}

/**
 * Multi-head attention on projections as they come out of their Linear layers: q [B, Lq, H·E], k [B, Lk, H·E],
 * v [B, Lk, H·Ev] → [B, Lq, H·Ev], head h of every row being features h·E .. (h+1)·E. The same result, bit for
 * bit, as splitting the heads ([B, H, L, E] by a permute), `fusedAttention`, and merging them back, but the
 * kernels read and write the interleaved layout in place (AttentionShape.heads), forward and backward.
 */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, opts: FusedAttentionOptions = {}): Tensor {
  const op = 'multiHeadAttention';
  for (const [t, name] of [[q, 'query'], [k, 'key'], [v, 'value']] as const) {
    checkDtype(op, t, ['f32'], name);
    if (t.rank !== 3) throw new Error(`${op}: ${name} ${shapeToString(t.shape)} must have rank 3 ([B, L, heads·E])`);
    if (!Number.isInteger(heads) || heads < 1 || t.shape[2]! % heads !== 0) {
      throw new Error(`${op}: ${name} ${shapeToString(t.shape)} has ${t.shape[2]} features, not a multiple of ${heads} heads`);
    }
  }
  const [b, lq, dq] = q.shape as [number, number, number];
  const [bk, lk, dk] = k.shape as [number, number, number];
  const [bv, lv, dv] = v.shape as [number, number, number];
  if (bk !== b || bv !== b) throw new Error(`${op}: query ${shapeToString(q.shape)}, key ${shapeToString(k.shape)} and value ${shapeToString(v.shape)} differ in batch`);
  if (dk !== dq) throw new Error(`${op}: query ${shapeToString(q.shape)} and key ${shapeToString(k.shape)} differ in the feature dimension`);
  if (lv !== lk) throw new Error(`${op}: key ${shapeToString(k.shape)} and value ${shapeToString(v.shape)} differ in length`);
  return run(op, q, k, v, { batch: b * heads, lq, lk, e: dq / heads, ev: dv / heads, heads }, [b, lq, dv], opts);
}

/** The kernel call and its tape record, for either layout. */
function run(op: string, q: Tensor, k: Tensor, v: Tensor, shape: AttentionShape, outShape: number[], opts: FusedAttentionOptions): Tensor {
  const { lq, lk, e, ev } = shape;
  const causal = opts.causal ?? false;
  if (opts.window !== undefined && !(Number.isInteger(opts.window) && opts.window >= 0)) {
    throw new Error(`${op}: window must be an integer ≥ 0, got ${opts.window}`);
  }
  checkNoBlindRows(op, lq, lk, causal, opts.window);
  const scale = opts.scale ?? 1 / Math.sqrt(e);
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale ${scale} is not finite (E = ${e})`);
  const attrs: AttentionAttrs = { scale, causal, ...(opts.window !== undefined ? { window: opts.window } : {}) };
  const p = opts.dropout ?? 0;
  if (p > 0 && (opts.training ?? false)) {
    if (!(p < 1)) throw new Error(`${op}: dropout p must be in [0, 1), got ${p}`);
    if (!opts.rng) throw new Error(`${op}: dropout ${p} in training needs an rng`);
    // The same counters the unfused path's dropout reserves for the [..., Lq, Lk] weights.
    attrs.dropout = { p, seed: opts.rng.seed, counter: opts.rng.take(shape.batch * lq * lk) };
  }
  const { backend, s } = storages(op, q, k, v);
  // FLOP accounting as the unfused path counts it (Q·Kᵀ and weights·V in full, masked or not, as TSLib
  // computes them), so a model reports the same FLOPs whichever path its attention takes.
  countFlops(op, 2 * shape.batch * lq * lk * e + 2 * shape.batch * lq * lk * ev, null);
  const r = backend.kernels.attention(s[0]!, s[1]!, s[2]!, shape, attrs);
  const out = wrap(r.out, outShape, backend);
  const lse = wrap(r.logSumExp, [shape.batch, lq], backend);
  // The backend's record of the dropout draws, if it keeps one (wasm): the backward pass reads it back.
  const keep = r.keep ? wrap(r.keep, [r.keep.size], backend) : null;
  backend.free(r.rowMax); // the backward pass needs only the log-sum-exp
  record('attention', [q, k, v], [out], ([dOut]) => {
    const g = backend.kernels.attentionBackward(
      dOut!.use(op), q.use(op), k.use(op), v.use(op), out.use(op), lse.use(op), shape, attrs, keep?.use(op),
    );
    return [wrap(g.dq, q.shape, backend), wrap(g.dk, k.shape, backend), wrap(g.dv, v.shape, backend)];
  }, keep ? [out, lse, keep] : [out, lse]);
  // Pinned by the tape when a backward pass may come, freed now otherwise.
  lse.dispose();
  keep?.dispose();
  return out;
}
