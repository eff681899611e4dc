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
