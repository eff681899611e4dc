/** WebGPU glue for conv1d (+ both backward kernels), avg/max pooling (+ backward) and rfft / irfft. */
import type { Conv1dArgs, Kernels, Storage } from '../../kernels.ts';
import { sizeOf } from '../../../tensor/shape.ts';
import { Params, type WebGpuRuntime } from '../runtime.ts';
import { groups } from './util.ts';

const WG = 64;

function convOut(l: number, k: number, stride: number, dilation: number, padL: number, padR: number): number {
  const span = l + padL + padR - dilation * (k - 1) - 1;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

function poolOut(l: number, k: number, stride: number, pad: number): number {
  const span = l + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

/** cos / sin of 2πr/n for r < n, interleaved, from an exact reduction to the first octant in f64. */
function twiddles(n: number): Float32Array {
  const t = new Float32Array(2 * Math.max(n, 1));
  for (let r = 0; r < n; r++) {
    // Angle 2πr/n = (π/2)(q + f) with integer quadrant q and f = p/n in [0, 1).
    const q = Math.floor((4 * r) / n);
    const p = 4 * r - q * n;
    const th = (Math.PI / 2) * (p / n);
    let c = p === 0 ? 1 : Math.cos(th);
    let s = p === 0 ? 0 : Math.sin(th);
    if (2 * p > n) {
      const th2 = (Math.PI / 2) * ((n - p) / n);
      c = Math.sin(th2);
      s = Math.cos(th2);
    }
    const rot = [[c, s], [-s, c], [-c, -s], [s, -c]][q]!;
    t[2 * r] = rot[0]!;
    t[2 * r + 1] = rot[1]!;
  }
  return t;
}

export function convKernels(
  rt: WebGpuRuntime,
): Pick<Kernels, 'conv1d' | 'conv1dBackwardInput' | 'conv1dBackwardWeight' | 'avgPool1d' | 'avgPool1dBackward' | 'maxPool1d' | 'maxPool1dBackward' | 'rfft' | 'irfft'> {
  const convParams = (size: number, xShape: number[], wShape: number[], a: Omit<Conv1dArgs, 'x' | 'w'>) => {
    const [N, cin, L] = xShape as [number, number, number];
    const [cout, , K] = wShape as [number, number, number];
    const lout = convOut(L, K, a.stride, a.dilation, a.padLeft, a.padRight);
    const p = new Params().set(0, size).set(1, N).set(2, cin).set(3, L).set(4, cout).set(5, K).set(6, lout)
      .set(7, a.stride).set(8, a.dilation).set(9, a.padLeft);
    return { p, N, cin, L, cout, K, lout };
  };

  const poolGeom = (shape: number[], k: number, stride: number, pad: number) => {
    const l = shape[shape.length - 1]!;
    const rows = sizeOf(shape.slice(0, -1));
    return { rows, l, lout: poolOut(l, k, stride, pad) };
  };

  return {
    conv1d(args: Conv1dArgs): Storage {
      const g = convParams(0, args.xShape, args.wShape, args);
      const size = g.N * g.cout * g.lout;
      const out = rt.alloc(size, 'f32', false, 'conv1d');
      g.p.set(0, size);
      rt.dispatch({
        family: 'conv', entry: 'conv1d', params: g.p,
        buffers: [rt.check(args.x, 'conv1d'), rt.check(args.w, 'conv1d'), out], groups: groups(size, WG),
      });
      return out;
    },

    conv1dBackwardInput(dy: Storage, _dyShape: number[], args: Omit<Conv1dArgs, 'x'>): Storage {
      const g = convParams(0, args.xShape, args.wShape, args);
      const size = g.N * g.cin * g.L;
      const out = rt.alloc(size, 'f32', false, 'conv1dBackwardInput');
      g.p.set(0, size);
      rt.dispatch({
        family: 'conv', entry: 'conv1d_dx', params: g.p,
        buffers: [rt.check(dy, 'conv1dBackwardInput'), rt.check(args.w, 'conv1dBackwardInput'), out], groups: groups(size, WG),
      });
      return out;
    },

    conv1dBackwardWeight(dy: Storage, _dyShape: number[], args: Omit<Conv1dArgs, 'w'>): Storage {
      const g = convParams(0, args.xShape, args.wShape, args);
      const size = g.cout * g.cin * g.K;
      const out = rt.alloc(size, 'f32', false, 'conv1dBackwardWeight');
      g.p.set(0, size);
      rt.dispatch({
        family: 'conv', entry: 'conv1d_dw', params: g.p,
        buffers: [rt.check(dy, 'conv1dBackwardWeight'), rt.check(args.x, 'conv1dBackwardWeight'), out], groups: groups(size, WG),
      });
      return out;
    },

    avgPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number): Storage {
      const { rows, l, lout } = poolGeom(shape, k, stride, pad);
      const size = rows * lout;
      const out = rt.alloc(size, 'f32', false, 'avgPool1d');
      rt.dispatch({
        family: 'pool', entry: 'avg_pool', params: new Params().setAll(0, [size, l, lout, k, stride, pad]),
        buffers: [rt.check(x, 'avgPool1d'), out], groups: groups(size, WG),
      });
      return out;
    },

    avgPool1dBackward(dy: Storage, _dyShape: number[], xShape: number[], k: number, stride: number, pad: number): Storage {
      const { rows, l, lout } = poolGeom(xShape, k, stride, pad);
      const size = rows * l;
      const out = rt.alloc(size, 'f32', false, 'avgPool1dBackward');
      rt.dispatch({
        family: 'pool', entry: 'avg_pool_back', params: new Params().setAll(0, [size, l, lout, k, stride, pad]),
        buffers: [rt.check(dy, 'avgPool1dBackward'), out], groups: groups(size, WG),
      });
      return out;
    },

    maxPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number) {
      const { rows, l, lout } = poolGeom(shape, k, stride, pad);
      const size = rows * lout;
      const values = rt.alloc(size, 'f32', false, 'maxPool1d');
      const indices = rt.alloc(size, 'i32', false, 'maxPool1d');
      rt.dispatch({
        family: 'pool', entry: 'max_pool', params: new Params().setAll(0, [size, l, lout, k, stride, pad]),
        buffers: [rt.check(x, 'maxPool1d'), values, indices], groups: groups(size, WG),
      });
      return { values, indices };
    },

    maxPool1dBackward(dy: Storage, indices: Storage, dyShape: number[], xShape: number[]): Storage {
      const l = xShape[xShape.length - 1]!;
      const rows = sizeOf(xShape.slice(0, -1));
      const lout = dyShape.length === 0 ? 1 : dyShape[dyShape.length - 1]!;
      const size = rows * l;
      const out = rt.alloc(size, 'f32', false, 'maxPool1dBackward');
      rt.dispatch({
        family: 'pool', entry: 'max_pool_back', params: new Params().setAll(0, [size, l, lout]),
        buffers: [rt.check(dy, 'maxPool1dBackward'), rt.check(indices, 'maxPool1dBackward'), out], groups: groups(size, WG),
      });
      return out;
    },

    rfft(x: Storage, shape: number[]): Storage {
      if (shape.length < 1) throw new Error('rfft: input needs rank ≥ 1, got []');
      const n = shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const m = Math.floor(n / 2) + 1;
      const size = rows * m;
      const out = rt.alloc(size * 2, 'f32', false, 'rfft');
      rt.dispatch({
        family: 'fft', entry: 'rfft', params: new Params().setAll(0, [size, n, m]),
        buffers: [rt.check(x, 'rfft'), rt.constant(`twiddles:${n}`, () => twiddles(n)), out], groups: groups(size, WG),
      });
      return out;
    },

    irfft(x: Storage, shape: number[], n: number): Storage {
      if (shape.length < 2 || shape[shape.length - 1] !== 2) {
        throw new Error(`irfft: input shape [${shape.join(', ')}] must end in [m, 2] (re, im)`);
      }
      const mIn = shape[shape.length - 2]!;
      const rows = sizeOf(shape.slice(0, -2));
      const kMax = Math.min(mIn - 1, Math.floor(n / 2));
      const size = rows * n;
      const out = rt.alloc(size, 'f32', false, 'irfft');
      rt.dispatch({
        family: 'fft', entry: 'irfft', params: new Params().setAll(0, [size, n, mIn]).set(3, kMax | 0),
        buffers: [rt.check(x, 'irfft'), rt.constant(`twiddles:${n}`, () => twiddles(n)), out], groups: groups(size, WG),
      });
      return out;
    },
  };
}
