/**
 * The naive repeat-last baseline: every forecast step equals the last observed value of its channel. Scored
 * on exactly the windows the model's test pass uses (TSLib's test loader: in order, drop_last), on
 * normalised values (de-normalised with `inverse`, as the model's test then is), over the channels the model
 * is scored on.
 */
import type { ForecastDataset } from '../data/forecast-dataset.ts';
import { MetricAccumulator, denormalize, scoredChannelScale, type Metrics } from './metrics.ts';

export function naiveRepeatLast(ds: ForecastDataset, batchSize: number, inverse = false): Metrics {
  const { seqLen, labelLen, predLen } = ds.opts;
  const C = ds.channels;
  const from = ds.opts.features === 'MS' ? C - 1 : 0;
  const acc = new MetricAccumulator();
  const yLen = labelLen + predLen;
  const scale = inverse ? scoredChannelScale(ds.scaler, ds.opts.features) : undefined;
  for (const ids of ds.batches('test', batchSize, null)) {
    const b = ds.batch('test', ids);
    const pred: number[] = [];
    const truth: number[] = [];
    for (let i = 0; i < b.size; i++) {
      for (let t = 0; t < predLen; t++) {
        for (let c = from; c < C; c++) {
          pred.push(b.x[(i * seqLen + seqLen - 1) * C + c]!);
          truth.push(b.y[(i * yLen + labelLen + t) * C + c]!);
        }
      }
    }
    if (scale) acc.add(denormalize(pred, scale), denormalize(truth, scale));
    else acc.add(pred, truth);
  }
  return acc.result();
}
