/**
 * Shared by the fused-attention tests on every backend: the cases (causal, window, dropout, Lq ≠ Lk, odd sizes
 * that are not multiples of any tile, batch and head dims, a non-power-of-two scale) and one run of either path
 * (forward, then backward of Σ out·G), read back to the host.
 */
import { tidy } from '../../src/tensor/engine.ts';
import { Rng } from '../../src/tensor/random.ts';
import { backward } from '../../src/autograd/backward.ts';
import * as op from '../../src/ops/index.ts';

export interface AttentionCase {
  batch: number[];
  lq: number;
  lk: number;
  e: number;
  ev: number;
  causal?: boolean;
  window?: number;
  dropout?: number;
  scale?: number;
}

export function attentionCases(): AttentionCase[] {
  return [
    { batch: [1], lq: 1, lk: 1, e: 1, ev: 1 },
    { batch: [2, 3], lq: 7, lk: 7, e: 4, ev: 4 },
    { batch: [2, 3], lq: 7, lk: 7, e: 4, ev: 4, causal: true },
    { batch: [3], lq: 17, lk: 23, e: 5, ev: 3 },
    { batch: [3], lq: 23, lk: 17, e: 5, ev: 7, causal: true },
    { batch: [2, 2], lq: 37, lk: 37, e: 16, ev: 16, window: 3 },
    { batch: [2], lq: 37, lk: 33, e: 8, ev: 9, window: 5, causal: true },
    { batch: [2, 2], lq: 19, lk: 19, e: 16, ev: 16, dropout: 0.3 },
    { batch: [2, 2], lq: 21, lk: 18, e: 6, ev: 10, dropout: 0.5, causal: true },
    { batch: [2], lq: 40, lk: 40, e: 12, ev: 12, dropout: 0.2, window: 4 },
    { batch: [2, 2], lq: 33, lk: 35, e: 64, ev: 64, causal: true, dropout: 0.1 },
    { batch: [2], lq: 9, lk: 11, e: 6, ev: 5, scale: 0.3 },
    { batch: [1, 2], lq: 50, lk: 3, e: 4, ev: 2, causal: true },
  ];
}

export interface PathResult {
  out: Float32Array;
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
  rngOffset: number;
}

/** Forward and backward of one case on the current backend through the fused or the unfused path. */
export async function runAttentionPaths(c: AttentionCase, fused: boolean): Promise<PathResult> {
  const data = new Rng(1000 + c.lq * 31 + c.lk * 7 + c.e);
  const B = c.batch.reduce((a, d) => a * d, 1);
  const mk = (l: number, d: number, s = 1) => {
    const t = op.tensor(Array.from(data.normal(B * l * d), (x) => x * s), [...c.batch, l, d]);
    t.requiresGrad = true;
    return t;
  };
  const q = mk(c.lq, c.e, 1.5);
  const k = mk(c.lk, c.e, 1.5);
  const v = mk(c.lk, c.ev);
  const g = op.tensor(data.normal(B * c.lq * c.ev), [...c.batch, c.lq, c.ev]);
  const rng = new Rng(77, 5);
  const opts = {
    causal: c.causal, window: c.window, scale: c.scale, dropout: c.dropout, rng, training: c.dropout !== undefined,
  };
  const out = tidy(() => {
    const r = fused
      ? op.scaledDotProductAttention(q, k, v, { ...opts, weights: false })
      : op.scaledDotProductAttention(q, k, v, opts);
    if (r.attn) r.attn.dispose();
    backward(op.sum(op.mul(r.output, g)));
    return r.output;
  });
  const res: PathResult = {
    out: (await out.data()) as Float32Array,
    dq: (await q.grad!.data()) as Float32Array,
    dk: (await k.grad!.data()) as Float32Array,
    dv: (await v.grad!.data()) as Float32Array,
    rngOffset: rng.offset,
  };
  for (const t of [q, k, v, g, out, q.grad!, k.grad!, v.grad!]) t.dispose();
  return res;
}

/** [B, H, L, D] → [B, L, H, D] (forward = true) or back, on host data. */
function swapHeads(x: Float32Array, b: number, h: number, l: number, d: number, forward: boolean): Float32Array {
  const out = new Float32Array(x.length);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      for (let i = 0; i < l; i++) {
        const split = ((bi * h + hi) * l + i) * d;
        const inter = ((bi * l + i) * h + hi) * d;
        for (let t = 0; t < d; t++) {
          if (forward) out[inter + t] = x[split + t]!;
          else out[split + t] = x[inter + t]!;
        }
      }
    }
  }
  return out;
}

/**
 * The same case (batch [B, H]) through `multiHeadAttention` on the projections' layout [B, L, H·D]: the same
 * inputs as runAttentionPaths, interleaved on the host, and the results moved back to [B, H, L, D] order.
 */
export async function runInterleavedHeads(c: AttentionCase): Promise<PathResult> {
  if (c.batch.length !== 2) throw new Error('runInterleavedHeads: the case needs batch [B, H]');
  const [B, H] = c.batch as [number, number];
  const data = new Rng(1000 + c.lq * 31 + c.lk * 7 + c.e);
  const n = B * H;
  const mk = (l: number, d: number, s = 1, grad = true) => {
    const split = Float32Array.from(data.normal(n * l * d), (x) => x * s);
    const t = op.tensor(swapHeads(split, B, H, l, d, true), [B, l, H * d]);
    t.requiresGrad = grad;
    return t;
  };
  const q = mk(c.lq, c.e, 1.5);
  const k = mk(c.lk, c.e, 1.5);
  const v = mk(c.lk, c.ev);
  const g = mk(c.lq, c.ev, 1, false);
  const rng = new Rng(77, 5);
  const out = tidy(() => {
    const o = op.multiHeadAttention(q, k, v, H, {
      causal: c.causal, window: c.window, scale: c.scale, dropout: c.dropout, rng, training: c.dropout !== undefined,
    });
    backward(op.sum(op.mul(o, g)));
    return o;
  });
  const back = async (t: { data(): Promise<unknown> }, l: number, d: number) => swapHeads((await t.data()) as Float32Array, B, H, l, d, false);
  const res: PathResult = {
    out: await back(out, c.lq, c.ev),
    dq: await back(q.grad!, c.lq, c.e),
    dk: await back(k.grad!, c.lk, c.e),
    dv: await back(v.grad!, c.lk, c.ev),
    rngOffset: rng.offset,
  };
  for (const t of [q, k, v, g, out, q.grad!, k.grad!, v.grad!]) t.dispose();
  return res;
}
