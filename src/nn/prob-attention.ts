/**
 * Informer's ProbSparse self-attention as Time-Series-Library defines it (layers/SelfAttention_Family.py,
 * ProbAttention), and the AttentionLayer variant it runs in.
 *
 * For queries [B, H, L_Q, E], keys [B, H, L_K, E], values [B, H, L_K, D]:
 * 1. sample_k = factor·⌈ln L_K⌉ (at most L_K) key positions are drawn per query, uniformly with
 *    replacement, one [L_Q, sample_k] index table shared by every batch row and head (TSLib's
 *    `torch.randint(L_K, (L_Q, sample_k))`; here from the seeded Rng, drawn on every forward — from the
 *    generator `sampler` gives, which the Informer points at a copy of its stream in eval mode, see there);
 * 2. the sparsity measure M = max_s(q·k_s) − Σ_s(q·k_s) / L_K over the sampled scores (TSLib divides by
 *    L_K, not by sample_k);
 * 3. the u = factor·⌈ln L_Q⌉ (at most L_Q) queries with the largest M are chosen (topk);
 * 4. only those queries get full scores q·Kᵀ·scale (scale = 1/√E unless given), masked by ProbMask (key j
 *    hidden from chosen query i when j > i) under the causal flag, softmaxed, and multiplied by V;
 * 5. the context starts as mean_s V for every query (or cumsum_s V under the causal flag, which needs
 *    L_Q = L_K) and the chosen rows are replaced by their attention outputs.
 *
 * Steps 1–3 only pick indices, so they run without a tape (TSLib's gradient does not flow through them
 * either); only the sampled scores are computed (a sampled dense-dense product), and step 4 scores only the
 * u chosen queries, so no [L_Q, L_K] score matrix is formed (except on a backend without sddmm — the
 * inference-only wasm module — where the selection reads the sampled scores off one Q·Kᵀ product). Steps 4–5 use gather / scatterAdd / where, so the gradient reaches Q (chosen rows), K
 * and V. The attention dropout module exists (TSLib registers it) but ProbAttention never applies it.
 */
import { Module } from './module.ts';
import { Dropout } from './dropout.ts';
import { AttentionLayer, type InnerAttention } from './attention.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { engine } from '../tensor/engine.ts';
import { matmul } from '../ops/matmul.ts';
import { mul, sub, div } from '../ops/binary.ts';
import { softmax } from '../ops/nn.ts';
import { broadcastTo, cumsum, permute } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';
import { cast, greater, where } from '../ops/compare.ts';
import { arange, ones, tensor } from '../ops/creation.ts';
import { gather, scatterAdd, topk } from '../ops/indexing.ts';
import { Csr, sddmm } from '../ops/sparse.ts';
import { max, mean, sum } from '../ops/reduce.ts';

/** factor·⌈ln L⌉ capped at L, as TSLib computes U_part and u. */
export function probSampleCount(factor: number, length: number): number {
  const n = factor * Math.ceil(Math.log(length));
  return n < length ? n : length;
}

/** The [L_Q, sampleK] table of key positions in [0, L_K) (torch.randint's role), from `rng`. */
export function probSampleIndices(rng: Rng, lq: number, lk: number, sampleK: number): Int32Array {
  const u = rng.uniform(lq * sampleK);
  const out = new Int32Array(u.length);
  for (let i = 0; i < u.length; i++) out[i] = Math.min(lk - 1, Math.floor(u[i]! * lk));
  return out;
}

export class ProbAttention extends Module implements InnerAttention {
  readonly dropout: Dropout;

  constructor(
    rng: Rng,
    readonly maskFlag: boolean,
    readonly factor = 5,
    attentionDropout = 0.1,
    readonly scale: number | null = null,
    /** Where each forward's key samples come from (default: `rng`, drawn on). */
    private readonly sampler: () => Rng = () => rng,
  ) {
    super();
    this.dropout = this.module('dropout', new Dropout(rng, attentionDropout));
  }

  /**
   * The chosen query indices [B, H, u] (i32): sampled scores, sparsity measure, top-u. No tape.
   * `sample` is the [L_Q, sample_k] key table.
   *
   * Only the sampled scores are computed — B·H·L_Q·sample_k dot products, never the dense [L_Q, L_K] score
   * matrix — with one sampled dense-dense product (sddmm) over all batch rows and heads at once: the pattern is
   * block-diagonal, row (bh, i) holding keys bh·L_K + sample[i, ·]. CSR wants strictly increasing columns and
   * TSLib samples with replacement, so each row stores its distinct keys once and a gather puts every draw
   * (duplicates included, as TSLib counts them in the sum) back into a [B, H, L_Q, sample_k] table.
   */
  selectQueries(q: Tensor, k: Tensor, sample: Int32Array, sampleK: number, u: number): Tensor {
    const [b, h, lq, e] = q.shape as [number, number, number, number];
    const lk = k.shape[2]!;
    if (q.backend.supports?.('sddmm') === false) return this.selectQueriesDense(q, k, sample, sampleK, u);
    const bh = b * h;
    const backend = q.backend.name;
    // Distinct sampled keys of each query row (sorted), and where each draw sits among them.
    const distinct: Int32Array[] = [];
    const rank = new Int32Array(lq * sampleK);
    let perHead = 0;
    for (let i = 0; i < lq; i++) {
      const row = sample.subarray(i * sampleK, (i + 1) * sampleK);
      const keys = Int32Array.from(new Set(row)).sort();
      distinct.push(keys);
      perHead += keys.length;
      for (let s = 0; s < sampleK; s++) rank[i * sampleK + s] = keys.indexOf(row[s]!);
    }
    const rowPtr = new Int32Array(bh * lq + 1);
    const colIdx = new Int32Array(bh * perHead);
    const draw = new Int32Array(bh * lq * sampleK);
    for (let g = 0, p = 0; g < bh; g++) {
      for (let i = 0; i < lq; i++) {
        const row = g * lq + i;
        const keys = distinct[i]!;
        for (let t = 0; t < keys.length; t++) colIdx[p + t] = g * lk + keys[t]!;
        for (let s = 0; s < sampleK; s++) draw[row * sampleK + s] = p + rank[i * sampleK + s]!;
        p += keys.length;
        rowPtr[row + 1] = p;
      }
    }
    return engine.noGrad(() =>
      engine.tidy(() => {
        const pattern = Csr.fromArrays(rowPtr, colIdx, new Float32Array(colIdx.length), [bh * lq, bh * lk], { backend });
        const scores = sddmm(reshape(q, [bh * lq, e]), reshape(k, [bh * lk, e]), pattern, { transB: true }); // [nnz]
        const sampled = reshape(gather(scores, 0, tensor(draw, [draw.length], { dtype: 'i32', backend })), [b, h, lq, sampleK]);
        const m = sub(max(sampled, -1), div(sum(sampled, -1), lk)); // [B, H, L_Q]
        return topk(m, u).indices;
      }),
    );
  }

  /**
   * The same selection from the full Q·Kᵀ product read at the sampled positions: for backends without sddmm
   * (the inference-only wasm module, which leaves it out for size). Both sum each dot product over e in
   * increasing order with one multiply and one add per step, so they pick the same queries.
   */
  private selectQueriesDense(q: Tensor, k: Tensor, sample: Int32Array, sampleK: number, u: number): Tensor {
    const [b, h, lq] = q.shape as [number, number, number, number];
    const lk = k.shape[2]!;
    return engine.noGrad(() =>
      engine.tidy(() => {
        const scores = matmul(q, k, { transB: true }); // [B, H, L_Q, L_K]
        const table = tensor(sample, [1, 1, lq, sampleK], { dtype: 'i32', backend: q.backend.name });
        const sampled = gather(scores, 3, broadcastTo(table, [b, h, lq, sampleK])); // [B, H, L_Q, sample_k]
        const m = sub(max(sampled, -1), div(sum(sampled, -1), lk)); // [B, H, L_Q]
        return topk(m, u).indices;
      }),
    );
  }

  forward(q: Tensor, k: Tensor, v: Tensor, _mask: Tensor | null = null): Tensor {
    const [b, h, lq, e] = q.shape as [number, number, number, number];
    const lk = k.shape[2]!;
    const d = v.shape[3]!;
    const backend = q.backend.name;
    const sampleK = probSampleCount(this.factor, lk);
    const u = probSampleCount(this.factor, lq);
    const sample = probSampleIndices(this.sampler(), lq, lk, sampleK);
    const top = this.selectQueries(q, k, sample, sampleK, u); // [B, H, u]
    const top4 = reshape(top, [b, h, u, 1]);

    // Scores of the chosen queries only: [B, H, u, L_K].
    const qReduce = gather(q, 2, broadcastTo(top4, [b, h, u, e]));
    const scale = this.scale ?? 1 / Math.sqrt(e);
    let scores = mul(matmul(qReduce, k, { transB: true }), scale);
    if (this.maskFlag) {
      // ProbMask: chosen query i may not see key j > i.
      const pos = reshape(arange(lk, { backend }), [1, 1, 1, lk]);
      scores = where(greater(pos, top4), -Infinity, scores);
    }
    const attn = softmax(scores);
    const updated = matmul(attn, v); // [B, H, u, D]

    // Initial context, then the chosen rows replaced.
    let initial: Tensor;
    if (!this.maskFlag) {
      initial = mean(v, 2, true); // [B, H, 1, D], broadcast over L_Q by `where`
    } else {
      if (lq !== lk) throw new Error(`ProbAttention: the causal (decoder self-attention) form needs L_Q = L_K, got ${lq} and ${lk}`);
      initial = cumsum(v, 2);
    }
    const rows = cast(scatterAdd(ones([b, h, u, 1], { backend }), top4, 2, [b, h, lq, 1]), 'u8');
    const placed = scatterAdd(updated, broadcastTo(top4, [b, h, u, d]), 2, [b, h, lq, d]);
    return where(rows, placed, initial);
  }
}

/**
 * TSLib's AttentionLayer around an inner attention that returns its context as [B, H, L, D] (ProbAttention):
 * TSLib reshapes that tensor straight to [B, L, H·D] (`out.view(B, L, -1)` without moving the head axis),
 * so heads and time steps interleave in the merged rows. Reproduced exactly so that TSLib weights give
 * TSLib outputs. Parameter names are AttentionLayer's.
 */
export class ProbAttentionLayer extends AttentionLayer {
  override forward(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor | null = null): Tensor {
    const [b, l] = queries.shape as [number, number, number];
    const s = keys.shape[1]!;
    const h = this.nHeads;
    const heads = (t: Tensor, len: number) => permute(reshape(t, [b, len, h, -1]), [0, 2, 1, 3]);
    const q = heads(this.queryProjection.forward(queries), l);
    const k = heads(this.keyProjection.forward(keys), s);
    const v = heads(this.valueProjection.forward(values), s);
    const out = this.innerAttention.forward(q, k, v, mask); // [B, H, L, D]
    return this.outProjection.forward(reshape(out, [b, l, -1]));
  }
}
