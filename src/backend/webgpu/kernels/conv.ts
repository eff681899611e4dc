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
/**
 * Radices of the mixed-radix FFT of length n: 4s first, then 2, 3, 5, 7 and any larger prime factors (a pass of
 * radix R costs n·R per row). Fewer than two factors (n ≤ 3, or prime) means the direct DFT kernel is as cheap.
 */
export function fftRadices(n: number): number[] {
  const out: number[] = [];
  if (!(Number.isInteger(n) && n >= 2)) return out;
  let rest = n;
  while (rest % 4 === 0) {
    out.push(4);
    rest /= 4;
  }
  for (let p = 2; p * p <= rest; p++) {
    while (rest % p === 0) {
      out.push(p);
      rest /= p;
    }
  }
  if (rest > 1) out.push(rest);
  return out;
}

interface FftPass {
  len: number;
  ns: number;
  radix: number;
  load: number;
  store: number;
  inverse: boolean;
  /** Outputs per row of this pass (len, or fewer for the last pass of an rfft). */
  per: number;
  /** AUX table (chirp or Bluestein kernel), or null (the twiddles are bound in its place). */
  aux: GpuStorageLike | null;
}

/** The Stockham passes of one FFT of length len (radices in order), with the first load and last store given. */
function stockham(len: number, radices: number[], inverse: boolean, load: number, store: number, lastPer: number, auxFirst: GpuStorageLike | null, auxLast: GpuStorageLike | null): FftPass[] {
  let ns = 1;
  return radices.map((radix, s) => {
    const last = s === radices.length - 1;
    const pass: FftPass = {
      len, ns, radix, inverse, load: s === 0 ? load : 0, store: last ? store : 0, per: last ? lastPer : len,
      aux: s === 0 && auxFirst ? auxFirst : last ? auxLast : null,
    };
    ns *= radix;
    return pass;
  });
}

/**
 * Record FFT passes (shaders/fft.wgsl, fft_stage) over `rows` rows: the first reads `x`, the last writes `out`,
 * passes between go through two pooled temporaries of `tempLen` complex values per row (freed once recorded:
 * later uses of their buffers are ordered after these passes).
 */
function runPasses(
  rt: WebGpuRuntime, op: string, x: GpuStorageLike, out: GpuStorageLike, rows: number, tempLen: number, passes: FftPass[],
  extra: { mIn?: number; kMax?: number; n?: number } = {},
): void {
  const temps = [rt.alloc(rows * tempLen * 2, 'f32', false, op)];
  if (passes.length > 2) temps.push(rt.alloc(rows * tempLen * 2, 'f32', false, op));
  let src = x;
  passes.forEach((ps, s) => {
    const last = s === passes.length - 1;
    const dst = last ? out : temps[s % temps.length]!;
    const tw = rt.constant(`twiddles:${ps.len}`, () => twiddles(ps.len));
    const p = new Params().setAll(0, [rows * ps.per, ps.len, ps.ns, ps.radix, ps.load, ps.store, extra.mIn ?? 0])
      .set(7, (extra.kMax ?? 0) | 0).set(8, ps.inverse ? 1 : 0).set(9, ps.per).set(10, extra.n ?? 0);
    rt.dispatch({ family: 'fft', entry: 'fft_stage', params: p, buffers: [src, tw, dst, ps.aux ?? tw], groups: groups(rows * ps.per, WG) });
    src = dst;
  });
  for (const t of temps) rt.free(t);
}

/**
 * Fixed cost of one pass (dispatch) in units of per-row complex multiply-adds: on lavapipe a pass costs about as
 * much as 50–100 thousand of them, which makes the direct DFT the fastest for short rows.
 */
const PASS_COST = 65536;

/**
 * How to transform `rows` rows of length n: 'direct' (the DFT kernels), 'stockham' (mixed radix over n's prime
 * factors) or 'bluestein' (a chirp convolution through power-of-two FFTs of length M ≥ 2n − 1): the cheapest by
 * the work estimate rows·(n/2 + 1)·n for the DFT, rows·n·ΣR for Stockham, rows·2·M·ΣR_M for Bluestein, plus
 * PASS_COST per pass.
 */
export function fftPlan(n: number, rows = 1): { kind: 'direct' | 'stockham' | 'bluestein'; radices: number[]; m?: number; mRadices?: number[] } {
  const radices = fftRadices(n);
  if (n < 4) return { kind: 'direct', radices };
  const direct = rows * (Math.floor(n / 2) + 1) * n + PASS_COST;
  const stock = radices.length >= 2 ? rows * n * radices.reduce((a, r) => a + r, 0) + PASS_COST * radices.length : Infinity;
  let m = 1;
  while (m < 2 * n - 1) m *= 2;
  const mRadices = fftRadices(m);
  const blue = rows * (2 * m * mRadices.reduce((a, r) => a + r, 0) + 4 * n) + PASS_COST * 2 * mRadices.length;
  if (blue < stock && blue < direct) return { kind: 'bluestein', radices, m, mRadices };
  if (stock <= direct) return { kind: 'stockham', radices };
  return { kind: 'direct', radices };
}

/** Chirp table [cos, sin](π j² / n), j < n, exact angle reduction (j² mod 2n in integers). */
function chirp(n: number): Float32Array {
  const tw = twiddles(2 * n);
  const out = new Float32Array(2 * n);
  for (let j = 0; j < n; j++) {
    const r = Number((BigInt(j) * BigInt(j)) % BigInt(2 * n));
    out[2 * j] = tw[2 * r]!;
    out[2 * j + 1] = tw[2 * r + 1]!;
  }
  return out;
}

/** In-place iterative radix-2 complex FFT in f64 (length a power of two), forward sign. */
function hostFft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len *= 2) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/**
 * Bluestein's kernel for length n padded to M: B = FFT_M(b) / M with b_t = conj(c_t) (forward) or c_t (inverse),
 * c_t = exp(−iπ t²/n), placed circularly (b_{M−t} = b_t). Computed in f64, stored as f32 pairs.
 */
function bluesteinKernel(n: number, m: number, inverse: boolean): Float32Array {
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  for (let t = 0; t < n; t++) {
    const th = (Math.PI * Number((BigInt(t) * BigInt(t)) % BigInt(2 * n))) / n;
    const br = Math.cos(th);
    const bi = inverse ? -Math.sin(th) : Math.sin(th); // c_t = (cos, −sin); conj(c_t) = (cos, sin)
    re[t] = br;
    im[t] = bi;
    if (t > 0) {
      re[m - t] = br;
      im[m - t] = bi;
    }
  }
  hostFft(re, im);
  const out = new Float32Array(2 * m);
  for (let i = 0; i < m; i++) {
    out[2 * i] = re[i]! / m;
    out[2 * i + 1] = im[i]! / m;
  }
  return out;
}

/** rfft (inverse = false: real [rows, n] → [rows, n/2+1, 2]) or irfft (spectrum → real [rows, n]) by Bluestein. */
function bluestein(
  rt: WebGpuRuntime, op: string, x: GpuStorageLike, out: GpuStorageLike, rows: number, n: number, m: number,
  mRadices: number[], inverse: boolean, extra: { mIn?: number; kMax?: number },
): void {
  const ch = rt.constant(`chirp:${n}`, () => chirp(n));
  const kernel = rt.constant(`bluestein:${n}:${m}:${inverse ? 'inv' : 'fwd'}`, () => bluesteinKernel(n, m, inverse));
  const outPer = inverse ? n : Math.floor(n / 2) + 1;
  const passes = [
    ...stockham(m, mRadices, false, inverse ? 4 : 3, 3, m, ch, kernel),
    ...stockham(m, mRadices, true, 0, inverse ? 5 : 4, outPer, null, ch),
  ];
  runPasses(rt, op, x, out, rows, m, passes, { ...extra, n });
}

type GpuStorageLike = ReturnType<WebGpuRuntime['check']>;


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
      const plan = fftPlan(n, rows);
      if (plan.kind === 'stockham' && rows > 0) {
        runPasses(rt, 'rfft', rt.check(x, 'rfft'), out, rows, n, stockham(n, plan.radices, false, 1, 1, m, null, null));
        return out;
      }
      if (plan.kind === 'bluestein' && rows > 0) {
        bluestein(rt, 'rfft', rt.check(x, 'rfft'), out, rows, n, plan.m!, plan.mRadices!, false, {});
        return out;
      }
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
      const plan = fftPlan(n, rows);
      if (plan.kind === 'stockham' && rows > 0) {
        runPasses(rt, 'irfft', rt.check(x, 'irfft'), out, rows, n, stockham(n, plan.radices, true, 2, 2, n, null, null), { mIn, kMax });
        return out;
      }
      if (plan.kind === 'bluestein' && rows > 0) {
        bluestein(rt, 'irfft', rt.check(x, 'irfft'), out, rows, n, plan.m!, plan.mRadices!, true, { mIn, kMax });
        return out;
      }
      rt.dispatch({
        family: 'fft', entry: 'irfft', params: new Params().setAll(0, [size, n, mIn]).set(3, kMax | 0),
        buffers: [rt.check(x, 'irfft'), rt.constant(`twiddles:${n}`, () => twiddles(n)), out], groups: groups(size, WG),
      });
      return out;
    },
  };
}
