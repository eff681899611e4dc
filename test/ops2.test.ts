// Forward values of the movement, indexing, conv, pool, batch-norm, spectral, sparse and attention ops
// against naive references written here (PyTorch semantics), plus the errors bad inputs must raise.
// Runs on js and wasm.
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, keep, tidy } from '../src/tensor/engine.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { tensor } from '../src/ops/creation.ts';
import { backward } from '../src/autograd/backward.ts';
import { sum } from '../src/ops/reduce.ts';
import { reshape } from '../src/ops/reshape.ts';
import { mul } from '../src/ops/binary.ts';
import {
  broadcastTo, concat, cumsum, pad, permute, repeat, repeatInterleave, roll, slice, split, squeeze, stack, tile,
  transpose, unsqueeze,
} from '../src/ops/movement.ts';
import { gather, indexSelect, oneHot, scatterAdd, topk } from '../src/ops/indexing.ts';
import { conv1d } from '../src/ops/conv.ts';
import { avgPool1d, maxPool1d, maxPool1dWithIndices } from '../src/ops/pool.ts';
import { batchNorm1d, type BatchNormRunning } from '../src/ops/batchnorm.ts';
import {
  complexConj, complexEinsumBHI_HIO, complexMatmul, complexMul, complexMulConj, irfft, rfft,
} from '../src/ops/spectral.ts';
import { Csr, csrToDense, csrTranspose, denseCsrT, denseToCsr, maskedTopK, sddmm, spmm } from '../src/ops/sparse.ts';
import { causalMask, maskedFill, scaledDotProductAttention } from '../src/ops/attention.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

const read = (t: Tensor): number[] => Array.from(t.dataSync());

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}

function randn(n: number, seed: number): number[] {
  return Array.from(new Rng(seed).normal(n));
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function unravel(i: number, shape: number[]): number[] {
  const st = strides(shape);
  return shape.map((_, d) => Math.floor(i / st[d]!) % shape[d]!);
}

function ravel(ix: number[], shape: number[]): number {
  const st = strides(shape);
  return ix.reduce((acc, v, d) => acc + v * st[d]!, 0);
}

/** Naive pad along every axis with PyTorch semantics (circular wraps any number of times). */
function padRef(x: number[], shape: number[], pads: Array<[number, number]>, mode: string): number[] {
  const out = shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const n = out.reduce((a, b) => a * b, 1);
  const r: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = unravel(i, out);
    let zero = false;
    const src = o.map((v, d) => {
      const s = v - pads[d]![0];
      const len = shape[d]!;
      if (s >= 0 && s < len) return s;
      if (mode === 'zero') zero = true;
      if (mode === 'circular') return ((s % len) + len) % len;
      return s < 0 ? 0 : len - 1;
    });
    r.push(zero ? 0 : x[ravel(src, shape)]!);
  }
  return r;
}

/** torch.nn.Conv1d forward (groups 1) on host arrays. */
function convRef(
  x: number[], xs: number[], w: number[], ws: number[], b: number[] | null,
  stride: number, dilation: number, padding: number, mode: string,
): { y: number[]; shape: number[] } {
  const [N, Cin, L] = xs as [number, number, number];
  const [Cout, , K] = ws as [number, number, number];
  const Lp = L + 2 * padding;
  const xp = (n: number, c: number, t: number): number => {
    let s = t - padding;
    if (s < 0 || s >= L) {
      if (mode === 'zeros') return 0;
      s = mode === 'circular' ? ((s % L) + L) % L : s < 0 ? 0 : L - 1;
    }
    return x[(n * Cin + c) * L + s]!;
  };
  const Lout = Math.floor((Lp - dilation * (K - 1) - 1) / stride) + 1;
  const y: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < Cout; o++) {
      for (let t = 0; t < Lout; t++) {
        let acc = b ? b[o]! : 0;
        for (let c = 0; c < Cin; c++) for (let k = 0; k < K; k++) acc += w[(o * Cin + c) * K + k]! * xp(n, c, t * stride + k * dilation);
        y.push(acc);
      }
    }
  }
  return { y, shape: [N, Cout, Lout] };
}

function dftRef(x: number[], n: number): number[] {
  const m = Math.floor(n / 2) + 1;
  const out: number[] = [];
  for (let k = 0; k < m; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      re += x[t]! * Math.cos(a);
      im += x[t]! * Math.sin(a);
    }
    out.push(re, im);
  }
  return out;
}

describe.each(['js', 'wasm'])('ops2 forward on %s', (backend) => {
  const use = () => engine.useBackend(backend);

  it('permute and transpose match index arithmetic', () => {
    use();
    tidy(() => {
      const shape = [2, 3, 4];
      const v = randn(24, 1);
      const x = tensor(v, shape);
      const y = permute(x, [2, 0, 1]);
      expect(y.shape).toEqual([4, 2, 3]);
      const ref = Array.from({ length: 24 }, (_, i) => {
        const [a, b, c] = unravel(i, [4, 2, 3]) as [number, number, number];
        return v[ravel([b, c, a], shape)]!;
      });
      close(read(y), ref);
      close(read(transpose(transpose(x, 0, -1), 2, 0)), v);
    });
  });

  it('slice with -1 sizes, concat, split and stack', () => {
    use();
    tidy(() => {
      const x = tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
      const s = slice(x, [1, 1, 2], [-1, 2, -1]);
      expect(s.shape).toEqual([1, 2, 2]);
      expect(read(s)).toEqual([18, 19, 22, 23]);
      expect(read(slice(x, [0, -1]))).toEqual([8, 9, 10, 11, 20, 21, 22, 23]);
      const parts = split(x, [1, 3], 2);
      expect(parts.map((p) => p.shape)).toEqual([[2, 3, 1], [2, 3, 3]]);
      expect(read(concat(parts, 2))).toEqual(read(x));
      expect(split(x, 2, 1).map((p) => p.shape[1])).toEqual([2, 1]);
      const st = stack([tensor([1, 2]), tensor([3, 4])], 1);
      expect(st.shape).toEqual([2, 2]);
      expect(read(st)).toEqual([1, 3, 2, 4]);
    });
  });

  it('pad: zero, circular and replicate, including pads wider than the axis', () => {
    use();
    tidy(() => {
      const shape = [2, 3];
      const v = randn(6, 2);
      const x = tensor(v, shape);
      for (const mode of ['zero', 'circular', 'replicate'] as const) {
        for (const pads of [[[0, 0], [1, 2]], [[1, 1], [4, 7]], [[3, 0], [0, 5]]] as Array<Array<[number, number]>>) {
          close(read(pad(x, pads, mode)), padRef(v, shape, pads, mode));
        }
      }
      // Pads line up with the trailing axes.
      expect(pad(x, [[1, 1]], 'replicate').shape).toEqual([2, 5]);
    });
  });

  it('roll, cumsum (forward and reverse)', () => {
    use();
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(read(roll(x, 1, 1))).toEqual([3, 1, 2, 6, 4, 5]);
      expect(read(roll(x, -4, 1))).toEqual([2, 3, 1, 5, 6, 4]);
      expect(read(roll(x, 1, 0))).toEqual([4, 5, 6, 1, 2, 3]);
      expect(read(cumsum(x, 1))).toEqual([1, 3, 6, 4, 9, 15]);
      expect(read(cumsum(x, 0))).toEqual([1, 2, 3, 5, 7, 9]);
      expect(read(cumsum(x, 1, { reverse: true }))).toEqual([6, 5, 3, 15, 11, 6]);
    });
  });

  it('broadcastTo, repeat, tile, repeatInterleave, squeeze, unsqueeze', () => {
    use();
    tidy(() => {
      const x = tensor([1, 2, 3], [3, 1]);
      const b = broadcastTo(x, [2, 3, 2]);
      expect(b.shape).toEqual([2, 3, 2]);
      expect(read(b)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
      const y = tensor([1, 2, 3, 4], [2, 2]);
      expect(read(repeat(y, [2, 3]))).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
      expect(repeat(y, [2, 1, 1]).shape).toEqual([2, 2, 2]);
      expect(read(tile(y, [2]))).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
      expect(read(repeatInterleave(y, 2, 0))).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
      expect(read(broadcastTo(tensor([1, 0, 1], [3], { dtype: 'u8' }), [2, 3]))).toEqual([1, 0, 1, 1, 0, 1]);
      expect(read(broadcastTo(tensor([7, 8], [2], { dtype: 'i32' }), [2, 2]))).toEqual([7, 8, 7, 8]);
      expect(squeeze(tensor([1, 2], [1, 2, 1])).shape).toEqual([2]);
      expect(squeeze(tensor([1, 2], [1, 2, 1]), -1).shape).toEqual([1, 2]);
      expect(unsqueeze(y, -1).shape).toEqual([2, 2, 1]);
      expect(unsqueeze(y, 0).shape).toEqual([1, 2, 2]);
    });
  });

  it('indexSelect, gather, scatterAdd and oneHot', () => {
    use();
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(read(indexSelect(x, 1, [2, 0, 2]))).toEqual([3, 1, 3, 6, 4, 6]);
      expect(read(indexSelect(x, 0, tensor([1], [1], { dtype: 'i32' })))).toEqual([4, 5, 6]);
      const idx = tensor([2, 2, 0, 1, 0, 0], [2, 3], { dtype: 'i32' });
      expect(read(gather(x, 1, idx))).toEqual([3, 3, 1, 5, 4, 4]);
      const src = tensor([1, 10, 100, 1000, 1e4, 1e5], [2, 3]);
      expect(read(scatterAdd(src, idx, 1, [2, 4]))).toEqual([100, 0, 11, 0, 1e4 + 1e5, 1000, 0, 0]);
      const oh = oneHot(tensor([0, 2, 5], [3], { dtype: 'i32' }), 3);
      expect(oh.shape).toEqual([3, 3]);
      expect(read(oh)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0]);
    });
  });

  it('topk sorts, breaks ties by the lower index, and supports smallest', () => {
    use();
    tidy(() => {
      const x = tensor([3, 1, 3, 2, 3, 0, 5, 5, 1, 1], [2, 5]);
      const r = topk(x, 3);
      expect(read(r.values)).toEqual([3, 3, 3, 5, 5, 1]);
      expect(read(r.indices)).toEqual([0, 2, 4, 1, 2, 3]);
      const s = topk(x, 2, { largest: false });
      expect(read(s.values)).toEqual([1, 2, 0, 1]);
      expect(read(s.indices)).toEqual([1, 3, 0, 3]);
    });
  });

  it('conv1d matches PyTorch for zeros, circular and replicate padding, stride and dilation', () => {
    use();
    tidy(() => {
      const xs = [2, 3, 7];
      const ws = [4, 3, 3];
      const xv = randn(42, 3);
      const wv = randn(36, 4);
      const bv = randn(4, 5);
      const x = tensor(xv, xs);
      const w = tensor(wv, ws);
      const b = tensor(bv, [4]);
      for (const mode of ['zeros', 'circular', 'replicate'] as const) {
        for (const [stride, dilation, padding] of [[1, 1, 1], [1, 1, 2], [2, 1, 1], [1, 2, 2], [2, 2, 3], [1, 1, 0]] as const) {
          const ref = convRef(xv, xs, wv, ws, bv, stride, dilation, padding, mode);
          const y = conv1d(x, w, b, { stride, dilation, padding, paddingMode: mode });
          expect(y.shape).toEqual(ref.shape);
          close(read(y), ref.y, 1e-5);
        }
      }
      const ref = convRef(xv, xs, wv, ws, null, 1, 1, 1, 'circular');
      close(read(conv1d(x, w, null, { padding: 1, paddingMode: 'circular' })), ref.y);
    });
  });

  it('avgPool1d and maxPool1d (Informer: k 3, stride 2, padding 1)', () => {
    use();
    tidy(() => {
      const x = tensor([1, -2, 3, 0.5, 4, -1, 2], [1, 1, 7]);
      // avg counts padded zeros: windows over [0,1,-2,3,0.5,4,-1,2,0].
      close(read(avgPool1d(x, 3, 2, 1)), [(0 + 1 - 2) / 3, (-2 + 3 + 0.5) / 3, (0.5 + 4 - 1) / 3, (-1 + 2 + 0) / 3]);
      const m = maxPool1dWithIndices(x, 3, 2, 1);
      expect(read(m.values)).toEqual([1, 3, 4, 2]);
      expect(read(m.indices)).toEqual([0, 2, 4, 6]);
      expect(read(maxPool1d(tensor([-5, -3, -4, -1], [1, 4]), 2))).toEqual([-3, -1]);
      close(read(avgPool1d(x, 2)), [-0.5, 1.75, 1.5]);
    });
  });

  it('batchNorm1d: batch statistics, running-stat update (unbiased), eval mode', () => {
    use();
    const N = 3;
    const C = 2;
    const L = 4;
    const v = randn(N * C * L, 6).map((u, i) => u + (i % 2));
    const running: BatchNormRunning = { mean: keep(tensor([0.5, -0.5])), var: keep(tensor([2, 1])) };
    tidy(() => {
      const x = tensor(v, [N, C, L]);
      const gamma = tensor([1.5, -0.5]);
      const beta = tensor([0.1, 0.2]);
      const y = batchNorm1d(x, gamma, beta, running, { training: true, momentum: 0.1, eps: 1e-5 });
      const means: number[] = [];
      const vars: number[] = [];
      for (let c = 0; c < C; c++) {
        const vals: number[] = [];
        for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) vals.push(v[(n * C + c) * L + l]!);
        const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
        means.push(mu);
        vars.push(vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length);
      }
      const g = [1.5, -0.5];
      const be = [0.1, 0.2];
      const ref = v.map((u, i) => {
        const c = Math.floor(i / L) % C;
        return ((u - means[c]!) / Math.sqrt(vars[c]! + 1e-5)) * g[c]! + be[c]!;
      });
      close(read(y), ref, 1e-4);
      const cnt = N * L;
      close(read(running.mean), [0.9 * 0.5 + 0.1 * means[0]!, 0.9 * -0.5 + 0.1 * means[1]!], 1e-5);
      close(read(running.var), [0.9 * 2 + 0.1 * vars[0]! * cnt / (cnt - 1), 0.9 * 1 + 0.1 * vars[1]! * cnt / (cnt - 1)], 1e-5);
      const rm = read(running.mean);
      const rv = read(running.var);
      const ye = batchNorm1d(x, gamma, beta, running, { training: false });
      const refE = v.map((u, i) => {
        const c = Math.floor(i / L) % C;
        return ((u - rm[c]!) / Math.sqrt(rv[c]! + 1e-5)) * g[c]! + be[c]!;
      });
      close(read(ye), refE, 1e-4);
      // [N, C] input works too.
      expect(batchNorm1d(tensor(v.slice(0, 6), [3, 2]), null, null, null).shape).toEqual([3, 2]);
    });
    running.mean.dispose();
    running.var.dispose();
  });

  it('rfft of known signals (n = 96, 144, 7) and irfft round trip', () => {
    use();
    tidy(() => {
      for (const n of [96, 144, 7, 1, 2]) {
        // A cosine at bin 3 (when it exists) plus a random signal.
        const v = randn(n, n).map((u, t) => u + Math.cos((2 * Math.PI * 3 * t) / n));
        const x = tensor(v, [1, n]);
        const X = rfft(x);
        expect(X.shape).toEqual([1, Math.floor(n / 2) + 1, 2]);
        close(read(X), dftRef(v, n), 1e-4 * Math.sqrt(n));
        close(read(irfft(X, n)), v, 1e-5 * n);
      }
      // Pure tone: all energy in bin 5 (n/2 at its real part).
      const n = 96;
      const tone = tensor(Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * 5 * t) / n)), [n]);
      const T = read(rfft(tone));
      for (let k = 0; k <= n / 2; k++) {
        expect(Math.abs(T[2 * k]! - (k === 5 ? n / 2 : 0))).toBeLessThan(1e-3);
        expect(Math.abs(T[2 * k + 1]!)).toBeLessThan(1e-3);
      }
      // irfft ignores the imaginary parts of DC and Nyquist.
      const Y = tensor([1, 9, 2, 3, 4, 7], [3, 2]);
      const ref = [0, 1, 2, 3].map((t) => (1 + 2 * (2 * Math.cos((Math.PI * t) / 2) - 3 * Math.sin((Math.PI * t) / 2)) + 4 * (-1) ** t) / 4);
      close(read(irfft(Y, 4)), ref);
    });
  });

  it('complex products on (re, im) pairs', () => {
    use();
    tidy(() => {
      const a = tensor([1, 2, 3, -1], [2, 2]);
      const b = tensor([0.5, -1], [1, 2]);
      // (1+2i)(0.5−i) = 2.5 + 0i; (3−i)(0.5−i) = 0.5 − 3.5i
      close(read(complexMul(a, b)), [2.5, 0, 0.5, -3.5]);
      close(read(complexConj(a)), [1, -2, 3, 1]);
      // a·conj(b): (1+2i)(0.5+i) = −1.5 + 2i; (3−i)(0.5+i) = 2.5 + 2.5i
      close(read(complexMulConj(a, b)), [-1.5, 2, 2.5, 2.5]);
      // einsum bhi,hio->bho against a naive complex loop.
      const [B, H, I, O, M] = [2, 2, 3, 2, 3];
      const xv = randn(B * H * I * M * 2, 7);
      const wv = randn(H * I * O * M * 2, 8);
      const y = complexEinsumBHI_HIO(tensor(xv, [B, H, I, M, 2]), tensor(wv, [H, I, O, M, 2]));
      expect(y.shape).toEqual([B, H, O, M, 2]);
      const ref: number[] = [];
      for (let bb = 0; bb < B; bb++) for (let h = 0; h < H; h++) for (let o = 0; o < O; o++) for (let m = 0; m < M; m++) {
        let re = 0;
        let im = 0;
        for (let i = 0; i < I; i++) {
          const xi = (((bb * H + h) * I + i) * M + m) * 2;
          const wi = (((h * I + i) * O + o) * M + m) * 2;
          re += xv[xi]! * wv[wi]! - xv[xi + 1]! * wv[wi + 1]!;
          im += xv[xi]! * wv[wi + 1]! + xv[xi + 1]! * wv[wi]!;
        }
        ref.push(re, im);
      }
      close(read(y), ref, 1e-5);
      // 4-D form equals the 5-D form with one mode.
      const y4 = complexEinsumBHI_HIO(tensor(xv.slice(0, B * H * I * 2), [B, H, I, 2]), tensor(wv.slice(0, H * I * O * 2), [H, I, O, 2]));
      expect(y4.shape).toEqual([B, H, O, 2]);
      const cm = complexMatmul(tensor([1, 1, 0, 1], [1, 2, 2]), tensor([2, 0, 0, -1], [2, 1, 2]));
      // [1+i, i]·[2, −i]ᵀ = 2+2i + 1 = 3 + 2i
      close(read(cm), [3, 2]);
    });
  });

  it('sparse: CSR round trip, spmm, denseCsrT, sddmm, maskedTopK, transpose', () => {
    use();
    tidy(() => {
      const dense = [0, 2, 0, -1, 3, 0, 0, 0, 0, 0, 4, 5];
      const A = denseToCsr(tensor(dense, [3, 4]));
      expect(A.nnz).toBe(5);
      expect(read(A.rowPtr)).toEqual([0, 2, 3, 5]);
      expect(read(A.colIdx)).toEqual([1, 3, 0, 2, 3]);
      expect(read(csrToDense(A))).toEqual(dense);
      expect(read(A.rowIndices())).toEqual([0, 0, 1, 2, 2]);
      const bv = randn(8, 9);
      const b = tensor(bv, [4, 2]);
      const ref = [0, 1, 2].flatMap((i) => [0, 1].map((j) => [0, 1, 2, 3].reduce((acc, k) => acc + dense[i * 4 + k]! * bv[k * 2 + j]!, 0)));
      close(read(spmm(A, b)), ref);
      const xv = randn(8, 10);
      const x = tensor(xv, [2, 4]);
      const refT = [0, 1].flatMap((i) => [0, 1, 2].map((r) => [0, 1, 2, 3].reduce((acc, k) => acc + xv[i * 4 + k]! * dense[r * 4 + k]!, 0)));
      close(read(denseCsrT(x, A)), refT);
      // sddmm: (X·Bᵀ-like) product sampled at A's pattern: op(A) = x2 [3, 2], op(B) = bᵀ [2, 4].
      const x2v = randn(6, 11);
      const s = sddmm(tensor(x2v, [3, 2]), b, A, { transB: true });
      const pos = [[0, 1], [0, 3], [1, 0], [2, 2], [2, 3]];
      close(read(s), pos.map(([i, j]) => x2v[i! * 2]! * bv[j! * 2]! + x2v[i! * 2 + 1]! * bv[j! * 2 + 1]!));
      const mask = tensor([1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1], [3, 4], { dtype: 'u8' });
      const Am = denseToCsr(tensor(dense, [3, 4]), mask);
      expect(Am.nnz).toBe(8);
      expect(read(Am.colIdx)).toEqual([0, 1, 3, 0, 1, 2, 2, 3]);
      expect(read(csrToDense(Am))).toEqual(dense);
      const cand = tensor([1, 1, 1, 1, 0, 1], [2, 3], { dtype: 'u8' });
      expect(read(maskedTopK(tensor([0.5, -3, 1, 2, 9, -2], [2, 3]), cand, 3))).toEqual([0, 1, 0, 1, 0, 1]);
      // Ties by lower index.
      expect(read(maskedTopK(tensor([1, -1, 1, 1], [4]), tensor([1, 1, 1, 1], [4], { dtype: 'u8' }), 2))).toEqual([1, 1, 0, 0]);
      const At = csrTranspose(A);
      expect(At.shape).toEqual([4, 3]);
      expect(read(csrToDense(At))).toEqual([0, 3, 0, 2, 0, 0, 0, 0, 4, -1, 0, 5]);
      const F = Csr.fromArrays([0, 1, 1, 3], [2, 0, 1], [1, 2, 3], [3, 3]);
      expect(read(csrToDense(F))).toEqual([0, 0, 1, 0, 0, 0, 2, 3, 0]);
      for (const c of [A, Am, At, F]) c.dispose();
    });
  });

  it('maskedFill, causalMask and scaled dot-product attention', () => {
    use();
    tidy(() => {
      const m = causalMask(3);
      expect(read(m)).toEqual([0, 1, 1, 0, 0, 1, 0, 0, 0]);
      expect(read(causalMask(2, { keyLength: 3 }))).toEqual([0, 1, 1, 0, 0, 1]);
      expect(read(maskedFill(tensor([1, 2, 3, 4], [2, 2]), tensor([0, 1], [2], { dtype: 'u8' }), -7))).toEqual([1, -7, 3, -7]);
      const [B, L, E] = [2, 3, 4];
      const qv = randn(B * L * E, 12);
      const kv = randn(B * L * E, 13);
      const vv = randn(B * L * E, 14);
      const { output, attn } = scaledDotProductAttention(tensor(qv, [B, L, E]), tensor(kv, [B, L, E]), tensor(vv, [B, L, E]), { mask: m });
      const refO: number[] = [];
      const refA: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < L; i++) {
          const sc = Array.from({ length: L }, (_, j) => {
            if (j > i) return -Infinity;
            let acc = 0;
            for (let e = 0; e < E; e++) acc += qv[(b * L + i) * E + e]! * kv[(b * L + j) * E + e]!;
            return acc / Math.sqrt(E);
          });
          const mx = Math.max(...sc);
          const ex = sc.map((s) => Math.exp(s - mx));
          const z = ex.reduce((p, q) => p + q, 0);
          const a = ex.map((u) => u / z);
          refA.push(...a);
          for (let e = 0; e < E; e++) refO.push(a.reduce((acc, aj, j) => acc + aj * vv[(b * L + j) * E + e]!, 0));
        }
      }
      close(read(attn), refA, 1e-5);
      close(read(output), refO, 1e-5);
    });
  });

  it('leaves the live-tensor count unchanged after forward + backward through the new ops', () => {
    use();
    const x = keep(tensor(randn(2 * 3 * 8, 20), [2, 3, 8]));
    const w = keep(tensor(randn(4 * 3 * 3, 21), [4, 3, 3]));
    x.requiresGrad = true;
    w.requiresGrad = true;
    const step = () =>
      tidy(() => {
        const y = conv1d(x, w, null, { padding: 1, paddingMode: 'circular' });
        const p = avgPool1d(pad(y, [[1, 1]], 'replicate'), 3, 1);
        const f = irfft(complexMul(rfft(p), rfft(p)), 8);
        const t = topk(maxPool1d(f, 3, 2, 1), 2).values;
        const loss = sum(mul(t, t));
        backward(loss);
      });
    step();
    x.grad!.dispose();
    w.grad!.dispose();
    x.grad = null;
    w.grad = null;
    const before = engine.memory();
    step();
    x.grad!.dispose();
    w.grad!.dispose();
    x.grad = null;
    w.grad = null;
    expect(engine.memory().tensors).toBe(before.tensors);
    expect(engine.memory().bytes).toBe(before.bytes);
    x.dispose();
    w.dispose();
  });

  it('batch norm (running stats), sparse, indexing and attention steps do not leak', () => {
    use();
    const x = keep(tensor(randn(2 * 3 * 4, 30), [2, 3, 4]));
    const gamma = keep(tensor([1, 0.5, 2]));
    const W = keep(tensor([0, 1, 0, 2, 0, 0, 3, 0, 0, 4, 0, 5], [3, 4]));
    for (const t of [x, gamma, W]) t.requiresGrad = true;
    const running: BatchNormRunning = { mean: keep(tensor([0, 0, 0])), var: keep(tensor([1, 1, 1])) };
    const mask = keep(causalMask(4));
    const step = () =>
      tidy(() => {
        const h = batchNorm1d(x, gamma, null, running, { training: true });
        const A = denseToCsr(W, tensor([0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1], [3, 4], { dtype: 'u8' }));
        const flat = permute(h, [0, 2, 1]); // [2, 4, 3]
        const y = denseCsrT(reshape(flat, [8, 3]), csrTranspose(A));
        const sel = gather(indexSelect(y, 0, [0, 2, 4, 6]), 1, tensor([3, 2, 1, 0, 0, 1, 2, 3, 1, 1, 1, 1, 2, 2, 2, 2], [4, 4], { dtype: 'i32' }));
        const att = scaledDotProductAttention(sel, sel, sel, { mask, dropout: 0.1, rng: new Rng(3), training: true });
        const sc = scatterAdd(att.output, tensor([0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1], [4, 4], { dtype: 'i32' }), 1, [4, 4]);
        backward(sum(mul(sc, sc)));
      });
    const clear = () => {
      for (const t of [x, gamma, W]) {
        t.grad?.dispose();
        t.grad = null;
      }
    };
    step();
    clear();
    const before = engine.memory();
    step();
    clear();
    expect(engine.memory().tensors).toBe(before.tensors);
    expect(engine.memory().bytes).toBe(before.bytes);
    for (const t of [x, gamma, W, running.mean, running.var, mask]) t.dispose();
  });
});

describe('ops2 errors', () => {
  it("wasm conv1d kernels name the op and the mismatched shapes (the kernel contract, below the ops' checks)", () => {
    const k = engine.getBackend('wasm').kernels;
    tidy(() => {
      engine.useBackend('wasm');
      const x = tensor(new Float32Array(2 * 3 * 8), [2, 3, 8]);
      const w = tensor(new Float32Array(4 * 3 * 3), [4, 3, 3]);
      const w2 = tensor(new Float32Array(4 * 2 * 3), [4, 2, 3]);
      const geo = { stride: 1, dilation: 1, padLeft: 0, padRight: 0 };
      expect(() => k.conv1d({ x: x.storage!, xShape: [2, 3, 8], w: w2.storage!, wShape: [4, 2, 3], ...geo })).toThrow(/conv1d: x has 3 channels but w expects 2/);
      expect(() => k.conv1d({ x: x.storage!, xShape: [2, 3], w: w.storage!, wShape: [4, 3, 3], ...geo })).toThrow(/conv1d: x must have rank 3, got \[2, 3\]/);
      const dy = tensor(new Float32Array(2 * 4 * 5), [2, 4, 5]);
      expect(() => k.conv1dBackwardInput(dy.storage!, [2, 4, 5], { xShape: [2, 3, 8], w: w.storage!, wShape: [4, 3, 3], ...geo }))
        .toThrow(/conv1dBackwardInput: dy shape \[2, 4, 5\] does not match the forward output \[2, 4, 6\]/);
      expect(() => k.conv1dBackwardWeight(dy.storage!, [2, 4, 5], { x: x.storage!, xShape: [2, 3, 8], wShape: [4, 3, 3], ...geo }))
        .toThrow(/conv1dBackwardWeight: dy shape \[2, 4, 5\] does not match the forward output \[2, 4, 6\]/);
      expect(() => k.conv1dBackwardWeight(dy.storage!, [2, 4, 6], { x: x.storage!, xShape: [2, 3, 8], wShape: [4, 3], ...geo }))
        .toThrow(/conv1dBackwardWeight: wShape must have rank 3, got \[4, 3\]/);
    });
  });

  it('name the op and the shapes', () => {
    engine.useBackend('js');
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(() => permute(x, [0, 0])).toThrow(/permute: .*not a permutation.*\[2, 3\]/);
      expect(() => transpose(x, 0, 2)).toThrow(/transpose: axis 2 is out of range/);
      expect(() => slice(x, [0, 2], [1, 2])).toThrow(/slice: axis 1 of shape \[2, 3\]/);
      expect(() => concat([x, tensor([1, 2], [1, 2])], 0)).toThrow(/concat: shapes \[2, 3\], \[1, 2\]/);
      expect(() => split(x, [1, 1], 1)).toThrow(/split: sizes \[1, 1\] add up to 2/);
      expect(() => pad(x, [[-1, 0]])).toThrow(/pad: pads for axis 1/);
      expect(() => roll(x, 1, 5)).toThrow(/roll: axis 5 is out of range/);
      expect(() => cumsum(x, -3)).toThrow(/cumsum: axis -3/);
      expect(() => broadcastTo(x, [3, 3])).toThrow(/broadcastTo: cannot broadcast \[2, 3\] f32 to \[3, 3\]/);
      expect(() => squeeze(x, 0)).toThrow(/squeeze: axis 0 of shape \[2, 3\] has size 2/);
      expect(() => indexSelect(x, 1, [0, 3])).toThrow(/indexSelect: index 3 at position 1 .* out of range for axis 1 of \[2, 3\] f32/);
      expect(() => indexSelect(x, 2, [0])).toThrow(/indexSelect: axis 2 is out of range/);
      expect(() => gather(x, 0, tensor([0, 2, 0], [1, 3], { dtype: 'i32' }))).toThrow(/gather: index 2 .* axis 0 of \[2, 3\]/);
      expect(() => gather(x, 0, tensor([0, 1], [1, 2], { dtype: 'i32' }))).toThrow(/gather: indices \[1, 2\]/);
      expect(() => scatterAdd(x, tensor([0, 0, 0, 1, 1, 4], [2, 3], { dtype: 'i32' }), 1, [2, 4])).toThrow(/scatterAdd: index 4/);
      expect(() => topk(x, 4)).toThrow(/topk: k = 4 .* \[2, 3\]/);
      expect(() => conv1d(tensor(randn(8, 1), [1, 2, 4]), tensor(randn(9, 2), [1, 3, 3]))).toThrow(/conv1d: input \[1, 2, 4\] has 2 channels but weight \[1, 3, 3\]/);
      expect(() => conv1d(tensor(randn(8, 1), [1, 2, 4]), tensor(randn(12, 2), [1, 2, 6]))).toThrow(/conv1d: .*shorter than the dilated kernel/);
      expect(() => avgPool1d(tensor(randn(4, 1), [1, 1, 4]), 2, 1, 2)).toThrow(/avgPool1d: padding 2/);
      expect(() => batchNorm1d(x, tensor([1, 1]), null, null)).toThrow(/batchNorm1d: gamma has shape \[2\]; expected \[3\]/);
      expect(() => irfft(tensor(randn(8, 1), [4, 2]), 4)).toThrow(/irfft: input \[4, 2\] has 4 bins but n = 4 needs 3/);
      expect(() => complexMul(x, x)).toThrow(/complexMul: left operand \[2, 3\]/);
      expect(() => maskedFill(x, tensor([1, 0], [2, 1, 1], { dtype: 'u8' }), 0)).toThrow(/maskedFill: mask \[2, 1, 1\]/);
      expect(() => scaledDotProductAttention(tensor(randn(6, 1), [2, 3]), tensor(randn(4, 1), [2, 2]), tensor(randn(4, 1), [2, 2]))).toThrow(/scaledDotProductAttention: query \[2, 3\] and key \[2, 2\]/);
    });
  });

  it('CSR construction validates shapes and indices', () => {
    engine.useBackend('js');
    tidy(() => {
      expect(() => Csr.fromArrays([0, 1, 2], [0, 3], [1, 2], [2, 3])).toThrow(/Csr.fromArrays: column index 3 at entry 1 is out of range \[0, 3\) \(CSR matrix of shape \[2, 3\]/);
      expect(() => Csr.fromArrays([0, 2, 1], [0, 1], [1, 2], [2, 3])).toThrow(/rowPtr decreases at row 1/);
      expect(() => Csr.fromArrays([0, 2, 2], [1, 1], [1, 2], [2, 3])).toThrow(/not strictly increasing at entry 1/);
      expect(() => Csr.fromArrays([0, 1], [0], [1], [2, 3])).toThrow(/rowPtr has 2 entries; a CSR matrix of shape \[2, 3\] needs 3/);
      const bad = () =>
        new Csr(
          tensor([0, 1, 2], [3], { dtype: 'i32' }),
          tensor([0, -1], [2], { dtype: 'i32' }),
          tensor([1, 2], [2]),
          [2, 3],
        );
      expect(bad).toThrow(/Csr: column index -1 at entry 1/);
      const A = Csr.fromArrays([0, 1, 2], [0, 2], [1, 2], [2, 3]);
      expect(() => spmm(A, tensor(randn(8, 1), [4, 2]))).toThrow(/spmm: CSR \[2, 3\] × dense \[4, 2\]/);
      expect(() => denseCsrT(tensor(randn(8, 1), [2, 4]), A)).toThrow(/denseCsrT: dense \[2, 4\]/);
      expect(() => sddmm(tensor(randn(4, 1), [2, 2]), tensor(randn(4, 1), [2, 2]), A)).toThrow(/sddmm: .*pattern \[2, 3\]/);
      expect(() => maskedTopK(tensor([1, 2], [2]), tensor([1, 0], [2], { dtype: 'u8' }), 2)).toThrow(/maskedTopK: k = 2 exceeds the 1 candidates/);
      A.dispose();
    });
  });
});
