/**
 * wasm glue for the fused attention (assembly/attention.ts): size checks, the power-of-two scale test that
 * lets the kernel scale Q instead of the scores (same bits, lk/e times fewer multiplies), the Philox key and
 * dropout constants, and one workspace per call.
 */
import type { AttentionAttrs, AttentionShape, Storage } from '../../kernels.ts';
import { checkAttention, dropoutConstants, headsOf, windowOf } from '../../attention-band.ts';
import { seedKey } from '../../../tensor/random.ts';
import type { KernelFamily } from './index.ts';
import { inPtr, wasmFn } from './util.ts';

/** Scaling by a power of two commutes with f32 rounding (barring overflow and subnormals, excluded here). */
function isPowerOfTwo(x: number): boolean {
  if (!(x > 0) || !Number.isFinite(x)) return false;
  const l = Math.log2(x);
  return Number.isInteger(l) && l > -60 && l < 60;
}

/** The kernels' scalar arguments: scale, prescale, causal, window, heads (the layout). */
function bandArgs(shape: AttentionShape, attrs: AttentionAttrs): number[] {
  const scale = Math.fround(attrs.scale);
  return [scale, isPowerOfTwo(scale) ? 1 : 0, attrs.causal ? 1 : 0, windowOf(attrs), headsOf(shape)];
}

/** The dropout arguments: k0, k1, counter, keepP, keepScale. */
function dropArgs(attrs: AttentionAttrs): number[] {
  const d = attrs.dropout;
  if (!d) return [0, 0, 0, 1, 1];
  const [k0, k1] = seedKey(d.seed);
  const { keepP, keepScale } = dropoutConstants(d.p);
  return [k0 | 0, k1 | 0, d.counter, keepP, keepScale];
}

/** Bytes of the keep-bit record: a byte per weight, rows of lk, and 16 of slack the kernel's vector reads may touch. */
function keepBytes(shape: AttentionShape): number {
  return shape.batch * shape.lq * shape.lk + 16;
}

export const attentionFamily: KernelFamily = (rt) => {
  const fwd = wasmFn(rt, 'attentionForward');
  const ws = wasmFn(rt, 'attentionWorkspaceBytes');
  // The inference module has neither dropout nor backward kernels; they are looked up on first use.
  let fwdDrop: ((...a: number[]) => number) | null = null;
  let bwd: ((...a: number[]) => number) | null = null;
  const f32 = (op: string, s: Storage, size: number, what: string): number => inPtr(rt, op, s, size, what, 'f32');
  return {
    attention(q: Storage, k: Storage, v: Storage, shape: AttentionShape, attrs: AttentionAttrs) {
      const op = 'attention';
      checkAttention(op, shape, attrs);
      const { batch, lq, lk, e, ev } = shape;
      const pq = f32(op, q, batch * lq * e, 'q');
      const pk = f32(op, k, batch * lk * e, 'k');
      const pv = f32(op, v, batch * lk * ev, 'v');
      const out = rt.alloc(batch * lq * ev, 'f32', false);
      const rowMax = rt.alloc(batch * lq, 'f32', false);
      const logSumExp = rt.alloc(batch * lq, 'f32', false);
      // With dropout the keep bits are kept for the backward pass (a byte per weight, 1/4 of the weights'
      // size): drawing them costs more than storing and reading them back.
      const keep = attrs.dropout ? rt.alloc(keepBytes(shape), 'u8', false) : undefined;
      if (batch * lq > 0) {
        const args = [pq, pk, pv, out.ptr, rowMax.ptr, logSumExp.ptr, batch, lq, lk, e, ev, ...bandArgs(shape, attrs)];
        if (attrs.dropout) {
          fwdDrop ??= wasmFn(rt, 'attentionForwardDropout');
          const fn = fwdDrop;
          rt.withTemp((tmp) => fn(...args, ...dropArgs(attrs), keep!.ptr, tmp.bytes(ws(lk, e, ev))));
        } else {
          rt.withTemp((tmp) => fwd(...args, tmp.bytes(ws(lk, e, ev))));
        }
      }
      return keep ? { out, rowMax, logSumExp, keep } : { out, rowMax, logSumExp };
    },

    attentionBackward(
      dOut: Storage, q: Storage, k: Storage, v: Storage, out: Storage, logSumExp: Storage,
      shape: AttentionShape, attrs: AttentionAttrs, keep?: Storage,
    ) {
      const op = 'attentionBackward';
      checkAttention(op, shape, attrs);
      const { batch, lq, lk, e, ev } = shape;
      const pdo = f32(op, dOut, batch * lq * ev, 'dOut');
      const pq = f32(op, q, batch * lq * e, 'q');
      const pk = f32(op, k, batch * lk * e, 'k');
      const pv = f32(op, v, batch * lk * ev, 'v');
      const po = f32(op, out, batch * lq * ev, 'out');
      const pl = f32(op, logSumExp, batch * lq, 'logSumExp');
      const pKeep = keep && attrs.dropout ? inPtr(rt, op, keep, keepBytes(shape), 'keep', 'u8') : 0;
      const dq = rt.alloc(batch * lq * e, 'f32', false);
      // dk and dv accumulate over query tiles: zero-filled.
      const dk = rt.alloc(batch * lk * e, 'f32', true);
      const dv = rt.alloc(batch * lk * ev, 'f32', true);
      if (batch * lq > 0) {
        bwd ??= wasmFn(rt, 'attentionBackwardKernel');
        const fn = bwd;
        rt.withTemp((tmp) => fn(
          pdo, pq, pk, pv, po, pl, dq.ptr, dk.ptr, dv.ptr, batch, lq, lk, e, ev, ...bandArgs(shape, attrs),
          attrs.dropout ? 1 : 0, ...dropArgs(attrs), pKeep, tmp.bytes(ws(lk, e, ev)),
        ));
      }
      return { dq, dk, dv };
    },
  };
};
