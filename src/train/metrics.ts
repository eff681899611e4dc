/** Time-Series-Library's metrics (utils/metrics.py) over flat prediction/target arrays, accumulated in f64. */
export interface Metrics {
  mse: number;
  mae: number;
  rmse: number;
  mape: number;
  mspe: number;
}

export class MetricAccumulator {
  private n = 0;
  private se = 0;
  private ae = 0;
  private ape = 0;
  private spe = 0;

  add(pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    for (let i = 0; i < pred.length; i++) {
      const d = pred[i]! - truth[i]!;
      this.se += d * d;
      this.ae += Math.abs(d);
      // MAPE/MSPE divide by the truth as TSLib does (inf where it is 0 — reported as is).
      const r = d / truth[i]!;
      this.ape += Math.abs(r);
      this.spe += r * r;
    }
    this.n += pred.length;
  }

  result(): Metrics {
    const n = this.n || NaN;
    const mse = this.se / n;
    return { mse, mae: this.ae / n, rmse: Math.sqrt(mse), mape: this.ape / n, mspe: this.spe / n };
  }
}

/**
 * TSLib's scoring of one pass over a split, batch by batch: `loss` is the mean of the per-batch MSEs (what
 * TSLib's vali() returns and early stopping watches), `metrics` are over every window of the pass. Shared by the
 * Trainer and a loaded run (src/run/run-forecaster.ts), so both score a split with the same arithmetic.
 */
export class SplitScore {
  private readonly acc = new MetricAccumulator();
  private sum = 0;
  private n = 0;

  /** `inverse`: score de-normalised values (TSLib's --inverse), the channels' scales in the batches' layout. */
  constructor(private readonly inverse?: ChannelScale) {}

  /** One batch: predictions and targets, the same layout (channels innermost). */
  add(p: Float32Array, y: Float32Array): void {
    if (this.inverse) {
      p = denormalize(p, this.inverse);
      y = denormalize(y, this.inverse);
    }
    this.acc.add(p, y);
    let se = 0;
    for (let i = 0; i < p.length; i++) se += (p[i]! - y[i]!) ** 2;
    this.sum += se / p.length;
    this.n++;
  }

  result(): { loss: number; metrics: Metrics } {
    return { loss: this.sum / this.n, metrics: this.acc.result() };
  }
}

/**
 * The mean and standard deviation of each channel the metrics see, innermost in their layout: all of the data's
 * channels (features M), its one channel (S), or the target alone (MS, the last). TSLib's `--inverse` maps
 * predictions and targets back through the scaler before its test metrics.
 */
export interface ChannelScale {
  mean: ArrayLike<number>;
  std: ArrayLike<number>;
}

/**
 * x · std + mean per channel (channels innermost), each step rounded to float32 as TSLib's inverse_transform
 * computes it on its float32 arrays (`X *= scale_; X += mean_` in place).
 */
export function denormalize(x: ArrayLike<number>, s: ChannelScale): Float32Array {
  const c = s.mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.fround(x[i]! * s.std[i % c]!) + s.mean[i % c]!;
  return out;
}

/** The scale of the channels scored for a data set with `features`: its scaler, or its last channel for MS. */
export function scoredChannelScale(scaler: ChannelScale, features: string): ChannelScale {
  if (features !== 'MS') return scaler;
  const last = scaler.mean.length - 1;
  return { mean: [scaler.mean[last]!], std: [scaler.std[last]!] };
}
