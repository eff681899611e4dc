/**
 * Autoformer as Time-Series-Library defines it (models/Autoformer.py, long-term forecasting).
 *
 * The encoder input is embedded without positions (DataEmbedding_wo_pos) and run through Auto-Correlation
 * encoder layers with series decomposition and a my_Layernorm. The decoder is initialised from the
 * decomposition of x_enc: seasonal = last label_len seasonal steps then pred_len zeros, trend = last
 * label_len trend steps then pred_len copies of x_enc's mean over time. x_dec itself is not read (TSLib
 * uses only its channel count). The decoder accumulates the trend, and the forecast is trend + seasonal over
 * the last pred_len steps. Registration order (decomp, enc_embedding, encoder, dec_embedding, decoder) and
 * parameter names follow TSLib's state dict; `position_embedding.pe` is a buffer there as here, unused.
 */
import { Module } from '../nn/module.ts';
import { DataEmbedding } from '../nn/embedding.ts';
import { AutoCorrelation, AutoCorrelationLayer } from '../nn/autocorrelation.ts';
import { SeriesDecomp } from '../nn/series-decomp.ts';
import { AutoformerDecoder, AutoformerDecoderLayer, AutoformerEncoder, AutoformerEncoderLayer, MyLayernorm } from '../nn/autoformer-layers.ts';
import { Linear } from '../nn/linear.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add } from '../ops/binary.ts';
import { zeros } from '../ops/creation.ts';
import { concat, repeat, sliceAxis } from '../ops/movement.ts';
import { mean } from '../ops/reduce.ts';
import type { ForecastConfig } from './config.ts';

export class Autoformer extends Module {
  readonly decomp: SeriesDecomp;
  readonly encEmbedding: DataEmbedding;
  readonly encoder: AutoformerEncoder;
  readonly decEmbedding: DataEmbedding;
  readonly decoder: AutoformerDecoder;

  constructor(rng: Rng, readonly cfg: ForecastConfig) {
    super();
    const c = cfg;
    const corrLayer = (mask: boolean) =>
      new AutoCorrelationLayer(rng, new AutoCorrelation(rng, mask, c.factor, c.dropout), c.dModel, c.nHeads);
    this.decomp = this.module('decomp', new SeriesDecomp(c.movingAvg));
    this.encEmbedding = this.module('enc_embedding', new DataEmbedding(rng, c.encIn, c.dModel, c.freq, c.dropout, { position: false }));
    this.encoder = this.module('encoder', new AutoformerEncoder(
      Array.from({ length: c.eLayers }, () => new AutoformerEncoderLayer(rng, corrLayer(false), c.dModel, c.dFf, c.movingAvg, c.dropout, c.activation)),
      new MyLayernorm(c.dModel),
    ));
    this.decEmbedding = this.module('dec_embedding', new DataEmbedding(rng, c.decIn, c.dModel, c.freq, c.dropout, { position: false }));
    this.decoder = this.module('decoder', new AutoformerDecoder(
      Array.from({ length: c.dLayers }, () => new AutoformerDecoderLayer(
        rng, corrLayer(true), corrLayer(false), c.dModel, c.cOut, c.dFf, c.movingAvg, c.dropout, c.activation,
      )),
      new MyLayernorm(c.dModel),
      new Linear(rng, c.dModel, c.cOut),
    ));
  }

  /** x_enc [B, seq, C], x_mark_enc [B, seq, F], x_dec [B, label+pred, C], x_mark_dec → [B, pred, c_out]. */
  forward(xEnc: Tensor, xMarkEnc: Tensor | null, xDec: Tensor, xMarkDec: Tensor | null): Tensor {
    const { labelLen, predLen } = this.cfg;
    const b = xEnc.shape[0]!;
    const meanInit = repeat(mean(xEnc, 1, true), [1, predLen, 1]);
    const zeroInit = zeros([b, predLen, xDec.shape[2]!], { backend: xEnc.backend.name });
    const [seasonal, trend] = this.decomp.forward(xEnc);
    const last = (t: Tensor) => sliceAxis(t, 1, t.shape[1]! - labelLen, labelLen);
    const trendInit = concat([last(trend), meanInit], 1);
    const seasonalInit = concat([last(seasonal), zeroInit], 1);
    const enc = this.encoder.forward(this.encEmbedding.forward(xEnc, xMarkEnc));
    const [seasonalPart, trendPart] = this.decoder.forward(this.decEmbedding.forward(seasonalInit, xMarkDec), enc, trendInit);
    const out = add(trendPart, seasonalPart);
    return sliceAxis(out, 1, out.shape[1]! - predLen, predLen);
  }
}
