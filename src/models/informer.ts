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
import { Rng } from '../tensor/random.ts';
import { sliceAxis } from '../ops/movement.ts';
import type { ForecastConfig } from './config.ts';

export class Informer extends Module {
  readonly encEmbedding: DataEmbedding;
  readonly decEmbedding: DataEmbedding;
  readonly encoder: DistilEncoder;
  readonly decoder: Decoder;
  /**
   * ProbSparse's key samples in eval mode: every eval forward draws them from a copy of the model's stream that
   * starts where the first eval forward found it, so forecasting one window twice gives one answer (drawn on,
   * the model's stream gave a new table, and a new forecast, each time) and eval passes leave the stream — the
   * training draws — alone. Training forwards draw on as TSLib's torch.randint does. A loaded model's first eval
   * forward finds its stream elsewhere than the trainer's did, so `eval` may score a run slightly differently
   * from train's final test.
   */
  private evalOffset: number | null = null;
  private evalStream: Rng | null = null;

  constructor(private readonly rng: Rng, readonly cfg: ForecastConfig) {
    super();
    const c = cfg;
    const sampler = () => (this.training ? rng : this.evalStream ?? rng);
    const probLayer = (mask: boolean) =>
      new ProbAttentionLayer(rng, new ProbAttention(rng, mask, c.factor, c.dropout, null, sampler), c.dModel, c.nHeads);
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
    if (!this.training) {
      this.evalOffset ??= this.rng.offset;
      this.evalStream = new Rng(this.rng.seed, this.evalOffset);
    }
    const enc = this.encoder.forward(this.encEmbedding.forward(xEnc, xMarkEnc));
    const dec = this.decoder.forward(this.decEmbedding.forward(xDec, xMarkDec), enc);
    return sliceAxis(dec, 1, dec.shape[1]! - this.cfg.predLen, this.cfg.predLen);
  }
}
