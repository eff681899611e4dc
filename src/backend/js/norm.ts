/** Normalisation kernels: layer norm forward/backward and batch-norm statistics. Two-pass, f64. */
import type { Kernels, Storage } from '../kernels.ts';
import { sizeOf } from '../../tensor/shape.ts';
import { input, type JsHeap } from './store.ts';

export function normKernels(heap: JsHeap): Pick<Kernels, 'layerNorm' | 'layerNormBackward' | 'batchNormStats'> {
  return {
    layerNorm(x: Storage, shape: number[], gamma: Storage, beta: Storage, eps: number) {
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const src = input('layerNorm', x, rows * d, undefined, 'x');
      const g = input('layerNorm', gamma, d, undefined, 'gamma');
      const b = input('layerNorm', beta, d, undefined, 'beta');
      const y = new Float32Array(rows * d);
      const mean = new Float32Array(rows);
      const rstd = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        const base = r * d;
        let sum = 0;
        for (let j = 0; j < d; j++) sum += src[base + j]!;
        const mu = sum / d;
        // Two passes (mean, then squared deviations) avoid the cancellation of E[x²] − E[x]².
        let sq = 0;
        for (let j = 0; j < d; j++) {
          const c = src[base + j]! - mu;
          sq += c * c;
        }
        const rs = 1 / Math.sqrt(sq / d + eps);
        for (let j = 0; j < d; j++) y[base + j] = (src[base + j]! - mu) * rs * g[j]! + b[j]!;
        mean[r] = mu;
        rstd[r] = rs;
      }
      return { y: heap.adopt(y), mean: heap.adopt(mean), rstd: heap.adopt(rstd) };
    },

    layerNormBackward(dy: Storage, x: Storage, shape: number[], gamma: Storage, mean: Storage, rstd: Storage) {
      const d = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const rows = sizeOf(shape.slice(0, -1));
      const op = 'layerNormBackward';
      const gy = input(op, dy, rows * d, undefined, 'dy');
      const src = input(op, x, rows * d, undefined, 'x');
      const g = input(op, gamma, d, undefined, 'gamma');
      const mu = input(op, mean, rows, undefined, 'mean');
      const rs = input(op, rstd, rows, undefined, 'rstd');
      const dx = new Float32Array(rows * d);
      // dgamma/dbeta sum over rows in increasing row order.
      const dgamma = new Float64Array(d);
      const dbeta = new Float64Array(d);
      const xhat = new Float64Array(d);
      for (let r = 0; r < rows; r++) {
        const base = r * d;
        const m = mu[r]!;
        const s = rs[r]!;
        // With x̂ = (x − μ)·rstd and g = dy·γ:  dx = rstd · (g − mean(g) − x̂ · mean(g·x̂)).
        let sumG = 0;
        let sumGX = 0;
        for (let j = 0; j < d; j++) {
          const xh = (src[base + j]! - m) * s;
          xhat[j] = xh;
          const gj = gy[base + j]! * g[j]!;
          sumG += gj;
          sumGX += gj * xh;
          dgamma[j]! += gy[base + j]! * xh;
          dbeta[j]! += gy[base + j]!;
        }
        const meanG = sumG / d;
        const meanGX = sumGX / d;
        for (let j = 0; j < d; j++) {
          dx[base + j] = s * (gy[base + j]! * g[j]! - meanG - xhat[j]! * meanGX);
        }
      }
      return {
        dx: heap.adopt(dx),
        dgamma: heap.adopt(Float32Array.from(dgamma)),
        dbeta: heap.adopt(Float32Array.from(dbeta)),
      };
    },

    batchNormStats(x: Storage, shape: [number, number, number]) {
      const [outer, c, inner] = shape;
      const src = input('batchNormStats', x, outer * c * inner);
      const mean = new Float32Array(c);
      const variance = new Float32Array(c);
      const count = outer * inner;
      for (let ch = 0; ch < c; ch++) {
        // Elements of channel ch in increasing flat index: outer-major, inner-minor.
        let sum = 0;
        for (let o = 0; o < outer; o++) {
          const base = (o * c + ch) * inner;
          for (let i = 0; i < inner; i++) sum += src[base + i]!;
        }
        const mu = sum / count; // NaN for an empty batch
        let sq = 0;
        for (let o = 0; o < outer; o++) {
          const base = (o * c + ch) * inner;
          for (let i = 0; i < inner; i++) {
            const dev = src[base + i]! - mu;
            sq += dev * dev;
          }
        }
        mean[ch] = mu;
        variance[ch] = sq / count;
      }
      return { mean: heap.adopt(mean), variance: heap.adopt(variance) };
    },
  };
}
