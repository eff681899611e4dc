/**
 * An LSTM forecaster for comparison with the Transformers: an encoder LSTM over the input window (values
 * and time features) and a linear head from its last hidden state to all pred_len × c_out outputs.
 */
import { Module } from '../nn/module.ts';
import { Linear } from '../nn/linear.ts';
import { Lstm } from '../nn/lstm.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { concat } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';
import type { ForecastConfig } from './config.ts';
import { TIME_FEATURES } from '../nn/embedding.ts';
import { freqCode } from '../data/time-features.ts';

export class LstmForecaster extends Module {
  readonly lstm: Lstm;
  readonly projection: Linear;

  constructor(rng: Rng, readonly cfg: ForecastConfig) {
    super();
    const marks = TIME_FEATURES[freqCode(cfg.freq)] ?? 1;
    this.lstm = this.module('lstm', new Lstm(rng, cfg.encIn + marks, cfg.dModel));
    this.projection = this.module('projection', new Linear(rng, cfg.dModel, cfg.predLen * cfg.cOut));
  }

  forward(xEnc: Tensor, xMarkEnc: Tensor | null): Tensor {
    const input = xMarkEnc ? concat([xEnc, xMarkEnc], 2) : xEnc;
    const h = this.lstm.forward(input);
    return reshape(this.projection.forward(h), [xEnc.shape[0]!, this.cfg.predLen, this.cfg.cOut]);
  }
}
