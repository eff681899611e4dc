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

  /** One batch: predictions and targets, the same layout. */
  add(p: Float32Array, y: Float32Array): void {
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
