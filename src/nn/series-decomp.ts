/**
 * Autoformer's series decomposition (TSLib layers/Autoformer_EncDec.py): moving_avg pads the time axis of
 * x [B, L, C] with ⌊(k − 1) / 2⌋ copies of the first and of the last step and average-pools it with window
 * k; series_decomp returns (x − trend, trend). For an even k TSLib's output is one step short; so is this.
 * No parameters.
 */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { sub } from '../ops/binary.ts';
import { pad, permute } from '../ops/movement.ts';
import { avgPool1d } from '../ops/pool.ts';

export class MovingAvg extends Module {
  constructor(readonly kernelSize: number, readonly stride: number) {
    super();
  }

  /** x [B, L, C] → the moving average [B, L', C]. */
  forward(x: Tensor): Tensor {
    const p = Math.floor((this.kernelSize - 1) / 2);
    const padded = p > 0 ? pad(x, [[p, p], [0, 0]], 'replicate') : x;
    const pooled = avgPool1d(permute(padded, [0, 2, 1]), this.kernelSize, this.stride, 0);
    return permute(pooled, [0, 2, 1]);
  }
}

export class SeriesDecomp extends Module {
  readonly movingAvg: MovingAvg;

  constructor(kernelSize: number) {
    super();
    this.movingAvg = this.module('moving_avg', new MovingAvg(kernelSize, 1));
  }

  /** x [B, L, C] → [seasonal (x − trend), trend]. */
  forward(x: Tensor): [Tensor, Tensor] {
    const trend = this.movingAvg.forward(x);
    return [sub(x, trend), trend];
  }
}
