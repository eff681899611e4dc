/** WebGPU glue for reduce, argmax, softmax, logSoftmax, layerNorm(+backward), batchNormStats. */
import type { Kernels, ReduceOp, Storage } from '../../kernels.ts';
import { REDUCE_OPS } from '../../kernels.ts';
import { sizeOf, stridesOf } from '../../../tensor/shape.ts';
import { Params, type WebGpuRuntime } from '../runtime.ts';
import { MAX_RANK, groups, wgslType } from './util.ts';

const WG = 64;
/** Reduced counts up to this use one invocation per output element. */
const SMALL_REDUCE = 32;

/**
 * Split the axes into kept and reduced groups, merging runs of adjacent axes of the same kind (they are
 * contiguous in row-major order) and dropping size-1 axes.
 */
function plan(shape: readonly number[], axes: readonly number[]) {
  const strides = stridesOf(shape);
  const red = new Set(axes);
  const kept = { shape: [] as number[], strides: [] as number[] };
  const rd = { shape: [] as number[], strides: [] as number[] };
  let prev: 'k' | 'r' | '' = '';
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d]!;
    const kind = red.has(d) ? 'r' : 'k';
    const g = kind === 'r' ? rd : kept;
    if (dim === 1) continue;
    if (prev === kind && g.shape.length > 0) {
      const l = g.shape.length - 1;
      g.shape[l] = g.shape[l]! * dim;
      g.strides[l] = strides[d]!;
    } else {
      g.shape.push(dim);
      g.strides.push(strides[d]!);
    }
    prev = kind;
  }
  return { kept, rd };
}

export function reduceKernels(
  rt: WebGpuRuntime,
): Pick<Kernels, 'reduce' | 'argmax' | 'softmax' | 'logSoftmax' | 'layerNorm' | 'layerNormBackward' | 'batchNormStats'> {
  const softmaxLike = (x: Storage, shape: number[], log: boolean, op: string): Storage => {
    const xs = rt.check(x, op);
    const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
    const out = rt.alloc(xs.size, 'f32', false, op);
    if (d === 0 || xs.size === 0) return out;
    const rows = xs.size / d;
    rt.dispatch({
      family: 'softmax', entry: 'softmax', spec: { LOG: log ? 1 : 0 },
      params: new Params().set(0, rows).set(1, d), buffers: [xs, out], groups: rows,
    });
    return out;
  };

  return {
    reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage {
      const code = REDUCE_OPS.indexOf(op);
      if (code < 0) throw new Error(`reduce: unknown op '${String(op)}'`);
      const xs = rt.check(x, 'reduce');
      for (const a of axes) {
        if (!Number.isInteger(a) || a < 0 || a >= shape.length) {
          throw new Error(`reduce: axis ${a} is out of range for rank ${shape.length}`);
        }
      }
      const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const nOut = sizeOf(outShape);
      const nRed = sizeOf(axes.map((a) => shape[a]!));
      const out = rt.alloc(nOut, 'f32', false, 'reduce');
      const { kept, rd } = plan(shape, axes);
      if (kept.shape.length > MAX_RANK || rd.shape.length > MAX_RANK) {
        throw new Error(`reduce: webgpu supports at most ${MAX_RANK} alternating kept/reduced axis groups`);
      }
      const p = new Params()
        .set(0, nOut).set(1, nRed).set(2, kept.shape.length).set(3, rd.shape.length)
        .setAll(8, kept.shape).setAll(16, kept.strides).setAll(24, rd.shape).setAll(32, rd.strides);
      // Small reductions: one invocation per output; large ones: one workgroup per output.
      const small = nRed <= SMALL_REDUCE;
      rt.dispatch({
        family: 'reduce', entry: small ? 'reduce_small' : 'reduce', spec: { OP: code, TX: wgslType(xs.dtype) },
        params: p, buffers: [xs, out], groups: small ? groups(nOut, WG) : nOut,
      });
      return out;
    },

    argmax(x: Storage, shape: number[], axis: number): Storage {
      const xs = rt.check(x, 'argmax');
      const n = shape[axis]!;
      const outer = sizeOf(shape.slice(0, axis));
      const inner = sizeOf(shape.slice(axis + 1));
      const nOut = outer * inner;
      if (n === 0 && nOut > 0) {
        throw new Error(`argmax: axis ${axis} of shape [${shape.join(', ')}] is empty; there is no maximum`);
      }
      const out = rt.alloc(nOut, 'i32', false, 'argmax');
      rt.dispatch({
        family: 'reduce', entry: 'argmax', spec: { TX: wgslType(xs.dtype) },
        params: new Params().set(0, nOut).set(1, n).set(2, inner), buffers: [xs, out], groups: groups(nOut, WG),
      });
      return out;
    },

    softmax(x: Storage, shape: number[]): Storage {
      return softmaxLike(x, shape, false, 'softmax');
    },

    logSoftmax(x: Storage, shape: number[]): Storage {
      return softmaxLike(x, shape, true, 'logSoftmax');
    },

    layerNorm(x: Storage, shape: number[], gamma: Storage, beta: Storage, eps: number) {
      const op = 'layerNorm';
      const xs = rt.check(x, op);
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const y = rt.alloc(rows * d, 'f32', false, op);
      const mean = rt.alloc(rows, 'f32', false, op);
      const rstd = rt.alloc(rows, 'f32', false, op);
      rt.dispatch({
        family: 'layernorm', entry: 'forward', params: new Params().set(0, rows).set(1, d).setF(2, eps),
        buffers: [xs, rt.check(gamma, op), rt.check(beta, op), y, mean, rstd], groups: rows * d > 0 ? rows : 0,
      });
      if (d === 0 && rows > 0) {
        // Statistics of empty rows are 0/0 = NaN, as in the reference.
        for (const s of [mean, rstd]) {
          rt.dispatch({
            family: 'elementwise', entry: 'fill', params: new Params().set(0, rows).set(1, 0x7fc00000),
            buffers: [s], groups: Math.ceil(rows / 64),
          });
        }
      }
      return { y, mean, rstd };
    },

    layerNormBackward(dy: Storage, x: Storage, shape: number[], gamma: Storage, mean: Storage, rstd: Storage) {
      const op = 'layerNormBackward';
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const [dys, xs, gs, ms, rs] = [dy, x, gamma, mean, rstd].map((s) => rt.check(s, op)) as [
        ReturnType<typeof rt.check>, ReturnType<typeof rt.check>, ReturnType<typeof rt.check>,
        ReturnType<typeof rt.check>, ReturnType<typeof rt.check>,
      ];
      const dx = rt.alloc(rows * d, 'f32', false, op);
      const dgamma = rt.alloc(d, 'f32', false, op);
      const dbeta = rt.alloc(d, 'f32', false, op);
      const p = new Params().set(0, rows).set(1, d);
      rt.dispatch({
        family: 'layernorm', entry: 'backward_dx', params: p, buffers: [dys, xs, gs, ms, rs, dx],
        groups: d > 0 ? rows : 0,
      });
      rt.dispatch({
        family: 'layernorm', entry: 'backward_dgamma', params: p, buffers: [dys, xs, ms, rs, dgamma, dbeta],
        groups: groups(d, WG),
      });
      return { dx, dgamma, dbeta };
    },

    batchNormStats(x: Storage, shape: [number, number, number]) {
      const [outer, c, inner] = shape;
      const xs = rt.check(x, 'batchNormStats');
      const mean = rt.alloc(c, 'f32', false, 'batchNormStats');
      const variance = rt.alloc(c, 'f32', false, 'batchNormStats');
      rt.dispatch({
        family: 'batchnorm', entry: 'batchnorm_stats', params: new Params().set(0, outer).set(1, c).set(2, inner),
        buffers: [xs, mean, variance], groups: c,
      });
      return { mean, variance };
    },
  };
}
