/**
 * WebGPU glue for the fused attention (shaders/attention.wgsl): params, the pipeline specialization (head sizes,
 * so per-invocation rows are fixed-size arrays, and a staging block that keeps workgroup memory ≤ 6 KiB per
 * array), and the two-dispatch backward pass with its D_i scratch buffer.
 */
import type { AttentionAttrs, AttentionShape, Kernels, Storage } from '../../kernels.ts';
import { checkAttention, dropoutConstants, headsOf, windowOf } from '../../attention-band.ts';
import { seedKey } from '../../../tensor/random.ts';
import { Params, type WebGpuRuntime } from '../runtime.ts';

/** Rows per workgroup (one invocation each): small enough for software adapters. */
const TQ = 32;
/** f32 elements per staged array in workgroup memory. */
const STAGE = 1536;

function spec(shape: AttentionShape) {
  const width = Math.max(shape.e, shape.ev, 1);
  const kb = Math.max(1, Math.min(32, Math.floor(STAGE / width)));
  return { EC: Math.max(1, shape.e), EVC: Math.max(1, shape.ev), TQ, KB: kb };
}

function params(op: string, shape: AttentionShape, attrs: AttentionAttrs, tiles: number): Params {
  const { batch, lq, lk, e, ev } = shape;
  if (batch * lq * lk >= 2 ** 32) {
    throw new Error(`${op}: webgpu indexes the [batch, lq, lk] weights with 32 bits; batch·lq·lk = ${batch * lq * lk} is too large`);
  }
  const p = new Params().setAll(0, [batch, lq, lk, e, ev]).setF(5, attrs.scale)
    .set(6, attrs.causal ? 1 : 0).set(7, windowOf(attrs)).set(15, tiles).set(16, headsOf(shape));
  const d = attrs.dropout;
  if (d) {
    const [k0, k1] = seedKey(d.seed);
    const { keepP, keepScale } = dropoutConstants(d.p);
    p.set(8, 1).set(9, k0).set(10, k1).set(11, d.counter % 2 ** 32).set(12, Math.floor(d.counter / 2 ** 32))
      .setF(13, keepP).setF(14, keepScale);
  }
  return p;
}

export function attentionKernels(rt: WebGpuRuntime): Pick<Kernels, 'attention' | 'attentionBackward'> {
  return {
    attention(q: Storage, k: Storage, v: Storage, shape: AttentionShape, attrs: AttentionAttrs) {
      const op = 'attention';
      checkAttention(op, shape, attrs);
      const { batch, lq, ev } = shape;
      const bufs = [q, k, v].map((s) => rt.check(s, op));
      const out = rt.alloc(batch * lq * ev, 'f32', false, op);
      const rowMax = rt.alloc(batch * lq, 'f32', false, op);
      const logSumExp = rt.alloc(batch * lq, 'f32', false, op);
      const tiles = Math.ceil(lq / TQ);
      rt.dispatch({
        family: 'attention', entry: 'forward', spec: spec(shape), params: params(op, shape, attrs, tiles),
        buffers: [...bufs, out, rowMax, logSumExp], groups: batch * tiles,
      });
      return { out, rowMax, logSumExp };
    },

    attentionBackward(
      dOut: Storage, q: Storage, k: Storage, v: Storage, out: Storage, logSumExp: Storage,
      shape: AttentionShape, attrs: AttentionAttrs,
    ) {
      const op = 'attentionBackward';
      checkAttention(op, shape, attrs);
      const { batch, lq, lk, e, ev } = shape;
      const [gdo, gq, gk, gv, go, gl] = [dOut, q, k, v, out, logSumExp].map((s) => rt.check(s, op)) as [
        ReturnType<typeof rt.check>, ReturnType<typeof rt.check>, ReturnType<typeof rt.check>,
        ReturnType<typeof rt.check>, ReturnType<typeof rt.check>, ReturnType<typeof rt.check>,
      ];
      const dq = rt.alloc(batch * lq * e, 'f32', false, op);
      const dk = rt.alloc(batch * lk * e, 'f32', false, op);
      const dv = rt.alloc(batch * lk * ev, 'f32', false, op);
      // D_i = dO_i·O_i, written by the dQ pass and read by the dK/dV pass.
      const d = rt.alloc(batch * lq, 'f32', false, op);
      const qTiles = Math.ceil(lq / TQ);
      const kTiles = Math.ceil(lk / TQ);
      const sp = spec(shape);
      rt.dispatch({
        family: 'attention', entry: 'backward_dq', spec: sp, params: params(op, shape, attrs, qTiles),
        buffers: [gdo, gq, gk, gv, go, gl, dq, d], groups: batch * qTiles,
      });
      rt.dispatch({
        family: 'attention', entry: 'backward_dkv', spec: sp, params: params(op, shape, attrs, kTiles),
        buffers: [gdo, gq, gk, gv, gl, d, dk, dv], groups: batch * kTiles,
      });
      // Freed now, reused only by work recorded later (which the queue runs after these dispatches).
      rt.free(d);
      return { dq, dk, dv };
    },
  };
}
