/**
 * Informer as Time-Series-Library defines it (models/Informer.py, long-term forecasting): DataEmbedding for
 * encoder and decoder; an encoder of ProbSparse-attention layers (ProbAttention(False)) interleaved with
 * e_layers − 1 distilling ConvLayers when `distil` is set, then a LayerNorm; a decoder of layers with causal
 * ProbSparse self-attention (ProbAttention(True)) and ProbSparse cross-attention (ProbAttention(False), as
 * in current TSLib), then a LayerNorm and a Linear projection to c_out. The forecast is the last pred_len
 * decoder outputs. Registration order (enc_embedding, dec_embedding, encoder, decoder) and every parameter
 * name follow TSLib's state dict.
 */
import { Module } from '../nn/module.ts';
import { DataEmbedding } from '../nn/embedding.ts';
import { ProbAttention, ProbAttentionLayer } from '../nn/prob-attention.ts';
import { ConvLayer, DistilEncoder } from '../nn/distil-conv.ts';
import { Decoder, DecoderLayer, EncoderLayer } from '../nn/transformer-layers.ts';
import { LayerNorm } from '../nn/layer-norm.ts';
import { Linear } from '../nn/linear.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { sliceAxis } from '../ops/movement.ts';
import type { ForecastConfig } from './config.ts';

export class Informer extends Module {
  readonly encEmbedding: DataEmbedding;
  readonly decEmbedding: DataEmbedding;
  readonly encoder: DistilEncoder;
  readonly decoder: Decoder;

  constructor(rng: Rng, readonly cfg: ForecastConfig) {
    super();
    const c = cfg;
    const probLayer = (mask: boolean) =>
      new ProbAttentionLayer(rng, new ProbAttention(rng, mask, c.factor, c.dropout), c.dModel, c.nHeads);
    this.encEmbedding = this.module('enc_embedding', new DataEmbedding(rng, c.encIn, c.dModel, c.freq, c.dropout));
    this.decEmbedding = this.module('dec_embedding', new DataEmbedding(rng, c.decIn, c.dModel, c.freq, c.dropout));
    this.encoder = this.module('encoder', new DistilEncoder(
      Array.from({ length: c.eLayers }, () => new EncoderLayer(rng, probLayer(false), c.dModel, c.dFf, c.dropout, c.activation)),
      c.distil ? Array.from({ length: c.eLayers - 1 }, () => new ConvLayer(rng, c.dModel)) : null,
      new LayerNorm(c.dModel),
    ));
    this.decoder = this.module('decoder', new Decoder(
      Array.from({ length: c.dLayers }, () => new DecoderLayer(
        rng, probLayer(true), probLayer(false), c.dModel, c.dFf, c.dropout, c.activation,
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
