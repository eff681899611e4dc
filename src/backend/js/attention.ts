/**
 * Fused attention, the readable reference (contract in kernels.ts): one query row at a time, its visible keys
 * only, so no [lq, lk] score matrix exists. Arithmetic mirrors the unfused js path (matmul, softmax, dropout,
 * matmul) so the two agree to the last bit or nearly: dot products in f64 rounded to f32, scaled in f32,
 * exponentials and row sums in f64, weights rounded to f32, dropout in f32, value products in f64.
 * The backward pass recomputes each row's scores and weights from logSumExp and accumulates in f64.
 * Rows are addressed through rowOffset, so the interleaved-heads layout (AttentionShape.heads) reads in place.
 */
import type { AttentionAttrs, AttentionShape, Kernels, Storage } from '../kernels.ts';
import { checkAttention, dropoutConstants, headsOf, keyRange, rowOffset } from '../attention-band.ts';
import { uniformStream } from '../../tensor/random.ts';
import { input, type JsHeap } from './store.ts';

const f = Math.fround;

/** Per-row dropout factors Z_j (keepScale or 0) for keys [lo, hi) of row i of batch b; null without dropout. */
function dropoutRow(
  attrs: AttentionAttrs, shape: AttentionShape, b: number, i: number, lo: number, hi: number, buf: Float32Array,
): Float32Array | null {
  const d = attrs.dropout;
  if (!d) return null;
  const { keepP, keepScale } = dropoutConstants(d.p);
  const u = buf.subarray(0, hi - lo);
  uniformStream(d.seed, d.counter + (b * shape.lq + i) * shape.lk + lo, u);
  for (let t = 0; t < u.length; t++) u[t] = u[t]! < keepP ? keepScale : 0;
  return u;
}

/** s_j = f32(f32(q_i·k_j) · scale) for j in [lo, hi), into s[0 .. hi − lo); key rows kStride apart. */
function scores(
  q: ArrayLike<number>, k: ArrayLike<number>, qBase: number, kBase: number, kStride: number, e: number, scale: number,
  lo: number, hi: number, s: Float64Array,
): void {
  for (let j = lo; j < hi; j++) {
    let acc = 0;
    const kb = kBase + j * kStride;
    for (let t = 0; t < e; t++) acc += q[qBase + t]! * k[kb + t]!;
    s[j - lo] = f(f(acc) * scale);
  }
}

export function attentionKernels(heap: JsHeap): Pick<Kernels, 'attention' | 'attentionBackward'> {
  return {
    attention(qS: Storage, kS: Storage, vS: Storage, shape: AttentionShape, attrs: AttentionAttrs) {
      const op = 'attention';
      checkAttention(op, shape, attrs);
      const { batch, lq, lk, e, ev } = shape;
      const q = input(op, qS, batch * lq * e, 'f32', 'q');
      const k = input(op, kS, batch * lk * e, 'f32', 'k');
      const v = input(op, vS, batch * lk * ev, 'f32', 'v');
      const out = new Float32Array(batch * lq * ev);
      const rowMax = new Float32Array(batch * lq);
      const logSumExp = new Float32Array(batch * lq);
      const s = new Float64Array(lk);
      const zBuf = new Float32Array(lk);
      const acc = new Float64Array(ev);
      const H = headsOf(shape);
      for (let b = 0; b < batch; b++) {
        const kBase = rowOffset(shape, b, 0, lk, e);
        const vBase = rowOffset(shape, b, 0, lk, ev);
        for (let i = 0; i < lq; i++) {
          const row = b * lq + i;
          const ob = rowOffset(shape, b, i, lq, ev);
          const [lo, hi] = keyRange(i, lk, attrs);
          if (hi <= lo) {
            out.fill(NaN, ob, ob + ev);
            rowMax[row] = -Infinity;
            logSumExp[row] = -Infinity;
            continue;
          }
          scores(q, k, rowOffset(shape, b, i, lq, e), kBase, H * e, e, f(attrs.scale), lo, hi, s);
          let m = -Infinity;
          for (let t = 0; t < hi - lo; t++) m = Math.max(m, s[t]!);
          let sum = 0;
          for (let t = 0; t < hi - lo; t++) {
            s[t] = Math.exp(s[t]! - m);
            sum += s[t]!;
          }
          rowMax[row] = m;
          logSumExp[row] = m + Math.log(sum);
          const z = dropoutRow(attrs, shape, b, i, lo, hi, zBuf);
          acc.fill(0);
          for (let j = lo; j < hi; j++) {
            let p = f(s[j - lo]! / sum);
            if (z) p = f(p * z[j - lo]!);
            const vb = vBase + j * H * ev;
            for (let c = 0; c < ev; c++) acc[c] = acc[c]! + p * v[vb + c]!;
          }
          for (let c = 0; c < ev; c++) out[ob + c] = acc[c]!;
        }
      }
      return { out: heap.adopt(out), rowMax: heap.adopt(rowMax), logSumExp: heap.adopt(logSumExp) };
    },

    attentionBackward(
      dOutS: Storage, qS: Storage, kS: Storage, vS: Storage, outS: Storage, lseS: Storage,
      shape: AttentionShape, attrs: AttentionAttrs,
    ) {
      const op = 'attentionBackward';
      checkAttention(op, shape, attrs);
      const { batch, lq, lk, e, ev } = shape;
      const dOut = input(op, dOutS, batch * lq * ev, 'f32', 'dOut');
      const q = input(op, qS, batch * lq * e, 'f32', 'q');
      const k = input(op, kS, batch * lk * e, 'f32', 'k');
      const v = input(op, vS, batch * lk * ev, 'f32', 'v');
      const out = input(op, outS, batch * lq * ev, 'f32', 'out');
      const lse = input(op, lseS, batch * lq, 'f32', 'logSumExp');
      const dq = new Float32Array(batch * lq * e);
      const dk = new Float32Array(batch * lk * e);
      const dv = new Float32Array(batch * lk * ev);
      const s = new Float64Array(lk);
      const zBuf = new Float32Array(lk);
      const dqAcc = new Float64Array(e);
      const dkAcc = new Float64Array(lk * e);
      const dvAcc = new Float64Array(lk * ev);
      const scale = f(attrs.scale);
      const H = headsOf(shape);
      for (let b = 0; b < batch; b++) {
        dkAcc.fill(0);
        dvAcc.fill(0);
        const kBase = rowOffset(shape, b, 0, lk, e);
        const vBase = rowOffset(shape, b, 0, lk, ev);
        for (let i = 0; i < lq; i++) {
          const row = b * lq + i;
          const [lo, hi] = keyRange(i, lk, attrs);
          if (hi <= lo) continue; // dq row stays 0
          const ob = rowOffset(shape, b, i, lq, ev);
          const qb = rowOffset(shape, b, i, lq, e);
          let dSum = 0;
          for (let c = 0; c < ev; c++) dSum += dOut[ob + c]! * out[ob + c]!;
          scores(q, k, qb, kBase, H * e, e, scale, lo, hi, s);
          const z = dropoutRow(attrs, shape, b, i, lo, hi, zBuf);
          dqAcc.fill(0);
          for (let j = lo; j < hi; j++) {
            const p = Math.exp(s[j - lo]! - lse[row]!);
            const zj = z ? z[j - lo]! : 1;
            const vb = vBase + j * H * ev;
            let dp = 0;
            for (let c = 0; c < ev; c++) dp += dOut[ob + c]! * v[vb + c]!;
            const ds = p * (zj * dp - dSum);
            const pz = p * zj;
            const kb = kBase + j * H * e;
            for (let t = 0; t < e; t++) {
              dqAcc[t] = dqAcc[t]! + ds * k[kb + t]!;
              dkAcc[j * e + t] = dkAcc[j * e + t]! + ds * q[qb + t]!;
            }
            for (let c = 0; c < ev; c++) dvAcc[j * ev + c] = dvAcc[j * ev + c]! + pz * dOut[ob + c]!;
          }
          for (let t = 0; t < e; t++) dq[qb + t] = scale * dqAcc[t]!;
        }
        for (let j = 0; j < lk; j++) {
          const kb = kBase + j * H * e;
          const vb = vBase + j * H * ev;
          for (let t = 0; t < e; t++) dk[kb + t] = scale * dkAcc[j * e + t]!;
          for (let c = 0; c < ev; c++) dv[vb + c] = dvAcc[j * ev + c]!;
        }
      }
      return { dq: heap.adopt(dq), dk: heap.adopt(dk), dv: heap.adopt(dv) };
    },
  };
}
