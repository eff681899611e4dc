/**
 * The vanilla Transformer forecaster as Time-Series-Library defines it (models/Transformer.py): DataEmbedding
 * for encoder and decoder, post-norm encoder/decoder stacks with final LayerNorms, causal decoder
 * self-attention, and a Linear projection to c_out. The decoder input is the last label_len observed steps
 * followed by pred_len zeros; the forecast is the last pred_len outputs.
 */
import { Module } from '../nn/module.ts';
import { DataEmbedding } from '../nn/embedding.ts';
import { AttentionLayer, FullAttention } from '../nn/attention.ts';
import { Decoder, DecoderLayer, Encoder, EncoderLayer } from '../nn/transformer-layers.ts';
import { LayerNorm } from '../nn/layer-norm.ts';
import { Linear } from '../nn/linear.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { sliceAxis } from '../ops/movement.ts';
import type { ForecastConfig } from './config.ts';

export class Transformer extends Module {
  readonly encEmbedding: DataEmbedding;
  readonly decEmbedding: DataEmbedding;
  readonly encoder: Encoder;
  readonly decoder: Decoder;

  constructor(rng: Rng, readonly cfg: ForecastConfig) {
    super();
    const c = cfg;
    this.encEmbedding = this.module('enc_embedding', new DataEmbedding(rng, c.encIn, c.dModel, c.freq, c.dropout));
    this.encoder = this.module('encoder', new Encoder(
      Array.from({ length: c.eLayers }, () => new EncoderLayer(
        rng,
        new AttentionLayer(rng, new FullAttention(rng, false, c.dropout), c.dModel, c.nHeads),
        c.dModel, c.dFf, c.dropout, c.activation,
      )),
      new LayerNorm(c.dModel),
    ));
    this.decEmbedding = this.module('dec_embedding', new DataEmbedding(rng, c.decIn, c.dModel, c.freq, c.dropout));
    this.decoder = this.module('decoder', new Decoder(
      Array.from({ length: c.dLayers }, () => new DecoderLayer(
        rng,
        new AttentionLayer(rng, new FullAttention(rng, true, c.dropout), c.dModel, c.nHeads),
        new AttentionLayer(rng, new FullAttention(rng, false, c.dropout), c.dModel, c.nHeads),
        c.dModel, c.dFf, c.dropout, c.activation,
      )),
      new LayerNorm(c.dModel),
      new Linear(rng, c.dModel, c.cOut),
    ));
  }

  /** x_enc [B, seq, C], x_mark_enc [B, seq, F], x_dec [B, label+pred, C], x_mark_dec → [B, pred, c_out]. */
  forward(xEnc: Tensor, xMarkEnc: Tensor | null, xDec: Tensor, xMarkDec: Tensor | null): Tensor {
    const enc = this.encoder.forward(this.encEmbedding.forward(xEnc, xMarkEnc));
    const dec = this.decoder.forward(this.decEmbedding.forward(xDec, xMarkDec), enc);
    return sliceAxis(dec, 1, dec.shape[1]! - this.cfg.predLen, this.cfg.predLen);
  }
}
