/**
 * Autoformer's Auto-Correlation (TSLib layers/AutoCorrelation.py) and AutoCorrelationLayer.
 *
 * AutoCorrelation(queries [B, L, H, E], keys [B, S, H, E], values [B, S, H, D]) → [B, L, H, D]:
 * - keys and values are zero-padded (S < L) or truncated (S ≥ L) to L steps;
 * - period-based dependencies: corr = irfft(rfft(q)·conj(rfft(k))) along time for every head and channel
 *   ([B, H, E, n], n = 2·⌊L/2⌋ as torch's irfft without a length gives);
 * - top_k = ⌊factor·ln L⌋ delays from the mean of corr over heads and channels;
 * - time-delay aggregation: softmax over the chosen mean correlations, then the values rolled by each delay
 *   and summed with those weights. Training mode (time_delay_agg_training): the delays are the top-k of the
 *   batch-mean correlation, shared by the whole batch, each weight per batch row; the values are rolled
 *   with torch.roll semantics (shift −delay). Inference mode (time_delay_agg_inference): delays and weights
 *   per batch row, the patterns gathered from the values repeated twice along time.
 * The gradient reaches queries and keys through the softmax weights and values through the aggregation.
 *
 * Only the mean of corr over heads and channels is ever used (TSLib's output_attention is off), and irfft
 * is linear, so the mean is taken in the frequency domain and one irfft per batch row gives
 * mean_value [B, n] directly: the same numbers up to rounding, H·E times fewer inverse transforms forward
 * and backward.
 * The causal flag and the mask are accepted and unused, as in TSLib; the dropout module is registered and
 * never applied, as in TSLib.
 *
 * Training mode reads the k chosen delays back to the host (TSLib's `int(index[i])` does the same), so it
 * runs on backends that read synchronously (js, wasm).
 */
import { Module } from './module.ts';
import { Dropout } from './dropout.ts';
import { HeadProjections } from './head-projections.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { engine } from '../tensor/engine.ts';
import { add, div, mul } from '../ops/binary.ts';
import { arange, tensor, zerosLike } from '../ops/creation.ts';
import { softmax } from '../ops/nn.ts';
import { broadcastTo, concat, pad, permute, roll, sliceAxis } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';
import { gather, indexSelect, topk } from '../ops/indexing.ts';
import { mean, sum } from '../ops/reduce.ts';
import { complex, irfft, rfft } from '../ops/spectral.ts';

/**
 * mean over heads and channels of q_fft · conj(k_fft): [B, H, E, m, 2] × 2 → [B, m, 2]. Written as
 * elementwise products and one reduction each for the real part Σ(qr·kr + qi·ki) and the imaginary part
 * Σ(qi·kr − qr·ki) (k's pairs swapped by a roll of the size-2 axis, signs (−1, +1)), which keeps the
 * backward to elementwise kernels.
 */
export function meanCrossSpectrum(qf: Tensor, kf: Tensor): Tensor {
  const [, h, e] = qf.shape as [number, number, number, number, number];
  const n = h * e;
  const signs = tensor(new Float32Array([-1, 1]), [2], { backend: qf.backend.name });
  const re = div(sum(mul(qf, kf), [1, 2, 4]), n); // [B, m]
  const im = div(sum(mul(qf, mul(roll(kf, 1, 4), signs)), [1, 2, 4]), n);
  return complex(re, im);
}

/**
 * How many lags a window of `length` steps has to correlate: irfft's default output length 2·(m − 1) for the
 * m = ⌊length/2⌋ + 1 bins of its rfft, as torch.fft.irfft in TSLib. A window needs at least 2 steps (1 step
 * gives 0 lags, which irfft refuses).
 */
export function autoCorrelationLags(length: number): number {
  return 2 * Math.floor(length / 2);
}

/** How many delays Auto-Correlation aggregates over a window of `length` steps: TSLib's int(factor · ln L). */
export function autoCorrelationDelays(factor: number, length: number): number {
  return Math.floor(factor * Math.log(length));
}

export class AutoCorrelation extends Module implements InnerCorrelation {
  readonly dropout: Dropout;

  constructor(rng: Rng, readonly maskFlag = true, readonly factor = 1, attentionDropout = 0.1, readonly scale: number | null = null) {
    super();
    this.dropout = this.module('dropout', new Dropout(rng, attentionDropout));
  }

  private topK(length: number): number {
    return autoCorrelationDelays(this.factor, length);
  }

  /**
   * values [B, H, D, L], meanValue (corr averaged over heads and channels) [B, n] → [B, H, D, L]; delays shared
   * across the batch. TSLib rolls by each delay read back as a Python int; here the roll is a gather with
   * index t + delay into [values, values], built on the device, so no host read is needed (WebGPU works) and
   * the result is the same data movement.
   */
  timeDelayAggTraining(values: Tensor, meanValue: Tensor): Tensor {
    const [b, h, d, length] = values.shape as [number, number, number, number];
    const k = this.topK(length);
    const index = engine.noGrad(() => engine.tidy(() => topk(mean(meanValue, 0), k).indices)); // [k]
    const weights = softmax(indexSelect(meanValue, 1, index)); // [B, k]
    const twice = concat([values, values], 3); // [B, H, D, 2L]
    const init = reshape(arange(length, { backend: values.backend.name }), [1, 1, 1, length]);
    let agg: Tensor | null = null;
    for (let i = 0; i < k; i++) {
      const idx = broadcastTo(add(init, reshape(sliceAxis(index, 0, i, 1), [1, 1, 1, 1])), [b, h, d, length]);
      const w = reshape(sliceAxis(weights, 1, i, 1), [b, 1, 1, 1]);
      const term = mul(gather(twice, 3, idx), w);
      agg = agg ? add(agg, term) : term;
    }
    index.dispose();
    return agg ?? zerosLike(values);
  }

  /** values [B, H, D, L], meanValue [B, n] → [B, H, D, L]; delays per batch row, gathered. */
  timeDelayAggInference(values: Tensor, meanValue: Tensor): Tensor {
    const [b, h, d, length] = values.shape as [number, number, number, number];
    const k = this.topK(length);
    const { values: top, indices: delay } = topk(meanValue, k); // [B, k]
    const weights = softmax(top);
    const twice = concat([values, values], 3); // [B, H, D, 2L]
    const init = reshape(arange(length, { backend: values.backend.name }), [1, 1, 1, length]);
    let agg: Tensor | null = null;
    for (let i = 0; i < k; i++) {
      const idx = broadcastTo(add(init, reshape(sliceAxis(delay, 1, i, 1), [b, 1, 1, 1])), [b, h, d, length]);
      const w = reshape(sliceAxis(weights, 1, i, 1), [b, 1, 1, 1]);
      const term = mul(gather(twice, 3, idx), w);
      agg = agg ? add(agg, term) : term;
    }
    return agg ?? zerosLike(values);
  }

  forward(queries: Tensor, keysIn: Tensor, valuesIn: Tensor, _mask: Tensor | null = null): Tensor {
    const l = queries.shape[1]!;
    const s = keysIn.shape[1]!;
    let keys = keysIn;
    let values = valuesIn;
    if (l > s) {
      keys = pad(keys, [[0, l - s], [0, 0], [0, 0]], 'zero');
      values = pad(values, [[0, l - s], [0, 0], [0, 0]], 'zero');
    } else if (l < s) {
      keys = sliceAxis(keys, 1, 0, l);
      values = sliceAxis(values, 1, 0, l);
    }
    const qf = rfft(permute(queries, [0, 2, 3, 1])); // [B, H, E, m, 2]
    const kf = rfft(permute(keys, [0, 2, 3, 1]));
    const meanValue = irfft(meanCrossSpectrum(qf, kf)); // [B, n]
    const v = permute(values, [0, 2, 3, 1]); // [B, H, D, L]
    const agg = this.training ? this.timeDelayAggTraining(v, meanValue) : this.timeDelayAggInference(v, meanValue);
    return permute(agg, [0, 3, 1, 2]); // [B, L, H, D]
  }
}

/**
 * The inner "correlation" slot of AutoCorrelationLayer: [B, L, H, E] ×3 → [B, L, H·E] as a view (AutoCorrelation: [B, L, H, D]; FEDformer's blocks: [B, H, E, L], which TSLib reads as [B, L, H·E] without a permute). `usesKeys` /
 * `usesValues` false lets the layer skip projections whose result the block ignores (TSLib computes them
 * and throws them away; the output is the same, and those projections get no gradient either way).
 */
export interface InnerCorrelation extends Module {
  readonly usesKeys?: boolean;
  readonly usesValues?: boolean;
  forward(q: Tensor, k: Tensor | null, v: Tensor | null, mask: Tensor | null): Tensor;
}

/**
 * TSLib's AutoCorrelationLayer (Autoformer's Auto-Correlation and FEDformer's Fourier blocks): Linear
 * projections to H heads, the inner correlation on [B, L, H, E] views, its output viewed as [B, L, H·E], and
 * the output projection.
 */
export class AutoCorrelationLayer extends HeadProjections {
  constructor(rng: Rng, readonly innerCorrelation: InnerCorrelation, dModel: number, nHeads: number, dKeys?: number, dValues?: number) {
    super(rng, 'inner_correlation', innerCorrelation, dModel, nHeads, dKeys, dValues);
  }

  /** queries [B, L, d], keys/values [B, S, d] → [B, L, d]. */
  forward(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor | null = null): Tensor {
    const [b, l] = queries.shape as [number, number, number];
    const s = keys.shape[1]!;
    const h = this.nHeads;
    const q = reshape(this.queryProjection.forward(queries), [b, l, h, -1]);
    const inner = this.innerCorrelation;
    const k = inner.usesKeys === false ? null : reshape(this.keyProjection.forward(keys), [b, s, h, -1]);
    const v = inner.usesValues === false ? null : reshape(this.valueProjection.forward(values), [b, s, h, -1]);
    const out = inner.forward(q, k, v, mask);
    return this.outProjection.forward(reshape(out, [b, l, -1]));
  }
}
