/**
 * DLinear (Zeng et al., AAAI 2023) as Time-Series-Library defines it with individual = False: series
 * decomposition by moving average, then one Linear(seq_len → pred_len) on the seasonal part and one on the
 * trend, shared by all channels, summed. Both weights start at 1/seq_len everywhere (TSLib's init); biases
 * keep PyTorch's default. Decoder inputs are ignored.
 */
import { Module } from '../nn/module.ts';
import { Linear } from '../nn/linear.ts';
import { SeriesDecomp } from '../nn/series-decomp.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add } from '../ops/binary.ts';
import { permute } from '../ops/movement.ts';
import { full } from '../ops/creation.ts';
import { assignInPlace } from '../tensor/assign.ts';
import type { ForecastConfig } from './config.ts';

export class DLinear extends Module {
  readonly decomposition: SeriesDecomp;
  readonly linearSeasonal: Linear;
  readonly linearTrend: Linear;

  constructor(rng: Rng, readonly cfg: ForecastConfig) {
    super();
    this.decomposition = this.module('decompsition', new SeriesDecomp(cfg.movingAvg));
    this.linearSeasonal = this.module('Linear_Seasonal', new Linear(rng, cfg.seqLen, cfg.predLen));
    this.linearTrend = this.module('Linear_Trend', new Linear(rng, cfg.seqLen, cfg.predLen));
    for (const l of [this.linearSeasonal, this.linearTrend]) assignInPlace(l.weight, full([cfg.predLen, cfg.seqLen], 1 / cfg.seqLen));
  }

  forward(xEnc: Tensor): Tensor {
    const [seasonal, trend] = this.decomposition.forward(xEnc);
    const s = this.linearSeasonal.forward(permute(seasonal, [0, 2, 1]));
    const t = this.linearTrend.forward(permute(trend, [0, 2, 1]));
    return permute(add(s, t), [0, 2, 1]);
  }
}
