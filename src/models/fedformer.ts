/**
 * FEDformer (Fourier version) as Time-Series-Library defines it (models/FEDformer.py, version 'fourier'):
 * Autoformer's decomposition encoder/decoder with FourierBlock in place of self-attention and
 * FourierCrossAttention in place of cross-attention, each wrapped in an AutoCorrelationLayer.
 *
 * - Decoder init: seasonal = the input's seasonal part (x − moving average) over the last label_len steps
 *   followed by pred_len zeros; trend = its moving average over the last label_len steps followed by the
 *   input mean repeated pred_len times. The given x_dec is ignored, as in TSLib.
 * - Layers: Autoformer's encoder/decoder (src/nn/autoformer-layers.ts, series-decomp.ts), as TSLib reuses
 *   Autoformer_EncDec.
 * - Embeddings: TSLib's current FEDformer uses DataEmbedding (value + positional + temporal); the original
 *   FEDformer code used DataEmbedding_wo_pos. `opts.positionalEmbedding` (default true = TSLib) picks one;
 *   the state dict is the same either way (the `pe` buffer exists in both).
 * - Sharing: TSLib builds ONE FourierBlock for the encoder and hands it to every encoder layer (likewise
 *   for the decoder), so with e_layers > 1 `encoder.attn_layers.{0,1,…}.attention.inner_correlation.weights1`
 *   are the same tensor. As in PyTorch, the state dict lists every key (all pointing at the shared tensor)
 *   while `namedParameters()` / `parameters()` list it once (under its first key), so the optimizer steps
 *   it once.
 * - Output: trend + seasonal, last pred_len steps → [B, pred_len, c_out].
 */
import { Module } from '../nn/module.ts';
import { DataEmbedding } from '../nn/embedding.ts';
import { Linear } from '../nn/linear.ts';
import { SeriesDecomp } from '../nn/series-decomp.ts';
import {
  AutoformerDecoder, AutoformerDecoderLayer, AutoformerEncoder, AutoformerEncoderLayer, MyLayernorm,
} from '../nn/autoformer-layers.ts';
import type { AutoCorrelationLayer as AutoformerCorrelationLayer } from '../nn/autocorrelation.ts';
import { FourierBlock, FourierCrossAttention, type ModeSelect } from '../nn/fourier-blocks.ts';
import { AutoCorrelationLayer } from '../nn/autocorrelation.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add } from '../ops/binary.ts';
import { mean } from '../ops/reduce.ts';
import { concat, pad, repeat, sliceAxis } from '../ops/movement.ts';
import type { ForecastConfig } from './config.ts';

/**
 * Autoformer's layers type their attention slot as Autoformer's AutoCorrelationLayer; they only call its
 * forward(queries, keys, values, mask) → [B, L, d_model], which the Fourier AutoCorrelationLayer provides
 * with the same state-dict names.
 */
function asSlot(layer: AutoCorrelationLayer): AutoformerCorrelationLayer {
  return layer as unknown as AutoformerCorrelationLayer;
}

export interface FEDformerOptions {
  /** DataEmbedding (true, TSLib's FEDformer) or DataEmbedding_wo_pos (false). */
  positionalEmbedding?: boolean;
  /** Explicit frequency indices (e.g. copied from a PyTorch model) instead of drawing them. */
  encoderIndex?: readonly number[];
  decoderIndex?: readonly number[];
  crossIndexQ?: readonly number[];
  crossIndexKv?: readonly number[];
}

export class FEDformer extends Module {
  readonly decomp: SeriesDecomp;
  readonly encEmbedding: DataEmbedding;
  readonly decEmbedding: DataEmbedding;
  readonly encoder: AutoformerEncoder;
  readonly decoder: AutoformerDecoder;
  readonly encoderSelfAtt: FourierBlock;
  readonly decoderSelfAtt: FourierBlock;
  readonly decoderCrossAtt: FourierCrossAttention;

  constructor(rng: Rng, readonly cfg: ForecastConfig, opts: FEDformerOptions = {}) {
    super();
    const c = cfg;
    const modes = c.modes ?? 32;
    const modeSelect: ModeSelect = c.modeSelect ?? 'random';
    const position = opts.positionalEmbedding ?? true;
    this.decomp = this.module('decomp', new SeriesDecomp(c.movingAvg));
    this.encEmbedding = this.module('enc_embedding', new DataEmbedding(rng, c.encIn, c.dModel, c.freq, c.dropout, { position }));
    this.decEmbedding = this.module('dec_embedding', new DataEmbedding(rng, c.decIn, c.dModel, c.freq, c.dropout, { position }));
    const decLen = Math.floor(c.seqLen / 2) + c.predLen;
    this.encoderSelfAtt = new FourierBlock(rng, c.dModel, c.dModel, c.nHeads, c.seqLen, { modes, modeSelect, index: opts.encoderIndex });
    this.decoderSelfAtt = new FourierBlock(rng, c.dModel, c.dModel, c.nHeads, decLen, { modes, modeSelect, index: opts.decoderIndex });
    this.decoderCrossAtt = new FourierCrossAttention(rng, c.dModel, c.dModel, decLen, c.seqLen, {
      modes, modeSelect, numHeads: c.nHeads, index: opts.crossIndexQ, indexKv: opts.crossIndexKv,
    });
    this.encoder = this.module('encoder', new AutoformerEncoder(
      Array.from({ length: c.eLayers }, () => new AutoformerEncoderLayer(
        rng, asSlot(new AutoCorrelationLayer(rng, this.encoderSelfAtt, c.dModel, c.nHeads)),
        c.dModel, c.dFf, c.movingAvg, c.dropout, c.activation,
      )),
      new MyLayernorm(c.dModel),
    ));
    this.decoder = this.module('decoder', new AutoformerDecoder(
      Array.from({ length: c.dLayers }, () => new AutoformerDecoderLayer(
        rng,
        asSlot(new AutoCorrelationLayer(rng, this.decoderSelfAtt, c.dModel, c.nHeads)),
        asSlot(new AutoCorrelationLayer(rng, this.decoderCrossAtt, c.dModel, c.nHeads)),
        c.dModel, c.cOut, c.dFf, c.movingAvg, c.dropout, c.activation,
      )),
      new MyLayernorm(c.dModel),
      new Linear(rng, c.dModel, c.cOut),
    ));
  }

  /** Parameters once each (shared Fourier blocks under their first key), as torch's named_parameters. */
  override namedParameters(prefix = ''): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [k, p] of super.namedParameters(prefix)) {
      if (seen.has(p)) continue;
      seen.add(p);
      p.name = k;
      out.push([k, p]);
    }
    return out;
  }

  /** x_enc [B, seq, C], x_mark_enc [B, seq, F], x_dec (ignored), x_mark_dec [B, label+pred, F] → [B, pred, c_out]. */
  forward(xEnc: Tensor, xMarkEnc: Tensor | null, _xDec: Tensor, xMarkDec: Tensor | null): Tensor {
    const { labelLen, predLen, seqLen } = this.cfg;
    const L = xEnc.shape[1]!;
    if (L !== seqLen) throw new Error(`FEDformer: x_enc has ${L} steps; the model was built for seq_len ${seqLen}`);
    const meanRep = repeat(mean(xEnc, 1, true), [1, predLen, 1]);
    const [seasonal, trend] = this.decomp.forward(xEnc);
    const trendInit = concat([sliceAxis(trend, 1, L - labelLen, labelLen), meanRep], 1);
    const seasonalInit = pad(sliceAxis(seasonal, 1, L - labelLen, labelLen), [[0, predLen], [0, 0]], 'zero');
    const enc = this.encoder.forward(this.encEmbedding.forward(xEnc, xMarkEnc));
    const [seasonalPart, trendPart] = this.decoder.forward(this.decEmbedding.forward(seasonalInit, xMarkDec), enc, trendInit);
    const out = add(trendPart, seasonalPart);
    return sliceAxis(out, 1, out.shape[1]! - predLen, predLen);
  }
}
