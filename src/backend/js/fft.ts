/**
 * rfft / irfft along the last axis, for any length n, as a direct DFT: O(n·m) per row, which is slow
 * but has no length restrictions and the best accuracy an oracle can want.
 *
 * Accuracy: every twiddle is e^{−2πi·r/n} with r = (j·k) mod n, found by stepping r += k (mod n) in
 * integers, so the angle never grows with j·k. `turn(r, n)` reduces the angle to [0, π/4] with exact
 * integer arithmetic and symmetries before calling cos/sin, so quarter turns give exact 0 and ±1.
 * Sums run in f64 in increasing j (rfft) or k (irfft) and are rounded to f32 once.
 */
import type { Kernels, Storage } from '../kernels.ts';
import { sizeOf } from '../../tensor/shape.ts';
import { input, type JsHeap } from './store.ts';

/** cos and sin of 2π·r/n for an integer 0 ≤ r < n, written into c[r], s[r]. */
export function twiddleTables(n: number): { c: Float64Array; s: Float64Array } {
  const c = new Float64Array(n);
  const s = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    // 2π·r/n = (π/2)·(4r/n): quadrant q and the remainder p/n of a quarter turn, in integers.
    const four = 4 * r;
    const q = Math.floor(four / n);
    const p = four - q * n; // 0 ≤ p < n
    // Reflect the upper half of the quarter onto [0, π/4]: cos(π/2·p/n) = sin(π/2·(n−p)/n).
    const flip = 2 * p > n;
    const theta = (Math.PI / 2) * ((flip ? n - p : p) / n);
    let cq = flip ? Math.sin(theta) : Math.cos(theta);
    let sq = flip ? Math.cos(theta) : Math.sin(theta);
    if (p === 0) {
      cq = 1;
      sq = 0;
    }
    // Rotate by q quarter turns.
    switch (q) {
      case 0:
        c[r] = cq;
        s[r] = sq;
        break;
      case 1:
        c[r] = -sq;
        s[r] = cq;
        break;
      case 2:
        c[r] = -cq;
        s[r] = -sq;
        break;
      default:
        c[r] = sq;
        s[r] = -cq;
        break;
    }
  }
  return { c, s };
}

export function fftKernels(heap: JsHeap): Pick<Kernels, 'rfft' | 'irfft'> {
  return {
    rfft(x: Storage, shape: number[]): Storage {
      if (shape.length < 1) throw new Error('rfft: input needs rank ≥ 1, got []');
      const n = shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const src = input('rfft', x, rows * n);
      const m = Math.floor(n / 2) + 1;
      const out = new Float32Array(rows * m * 2);
      const { c, s } = twiddleTables(n);
      for (let row = 0; row < rows; row++) {
        const base = row * n;
        for (let k = 0; k < m; k++) {
          // X_k = Σ_j x_j · e^{−2πi·jk/n}
          let re = 0;
          let im = 0;
          let r = 0; // (j·k) mod n
          for (let j = 0; j < n; j++) {
            const v = src[base + j]!;
            re += v * c[r]!;
            im -= v * s[r]!;
            r += k;
            if (r >= n) r -= n;
          }
          out[(row * m + k) * 2] = re;
          out[(row * m + k) * 2 + 1] = im;
        }
      }
      return heap.adopt(out);
    },

    irfft(x: Storage, shape: number[], n: number): Storage {
      if (shape.length < 2 || shape[shape.length - 1] !== 2) {
        throw new Error(`irfft: input shape [${shape.join(', ')}] must end in [m, 2] (re, im)`);
      }
      if (!(Number.isInteger(n) && n >= 0)) throw new Error(`irfft: output length ${n} must be an integer ≥ 0`);
      const mIn = shape[shape.length - 2]!;
      const rows = sizeOf(shape.slice(0, -2));
      const src = input('irfft', x, rows * mIn * 2);
      const half = Math.floor(n / 2);
      // Bins past floor(n/2) are not used; bins the input lacks count as zero (numpy's zero-padding rule).
      const kMax = Math.min(mIn - 1, half);
      const out = new Float32Array(rows * n);
      const { c, s } = twiddleTables(n);
      for (let row = 0; row < rows; row++) {
        const base = row * mIn * 2;
        for (let j = 0; j < n; j++) {
          // x_j = (1/n)·[Re X_0 + Σ_k w_k·(Re X_k·cos − Im X_k·sin)(2π·jk/n)], w_k = 2 for bins that stand
          // for a conjugate pair and 1 for DC and the Nyquist bin of even n, whose imaginary parts are
          // ignored (a real signal has none there).
          let acc = kMax >= 0 ? src[base]! : 0;
          let r = 0; // (j·k) mod n
          for (let k = 1; k <= kMax; k++) {
            r += j;
            if (r >= n) r -= n;
            const re = src[base + 2 * k]!;
            if (2 * k === n) {
              acc += re * c[r]!;
            } else {
              const im = src[base + 2 * k + 1]!;
              acc += 2 * (re * c[r]! - im * s[r]!);
            }
          }
          out[row * n + j] = acc / n;
        }
      }
      return heap.adopt(out);
    },
  };
}
