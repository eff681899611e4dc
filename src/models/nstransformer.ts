/**
 * Non-stationary Transformer as Time-Series-Library defines it (models/Nonstationary_Transformer.py):
 *
 * - Series stationarization: μ = mean over the input window, σ = sqrt(var(x − μ, biased) + 1e-5), both
 *   per series and detached (no gradient flows through them); the encoder sees (x − μ)/σ.
 * - De-stationary factors from the raw input: τ = exp(min(tau_learner(x, σ), 80)) [B, 1] and
 *   Δ = delta_learner(x, μ) [B, seq_len], two Projectors (series_conv + ReLU MLP with p_hidden_dims).
 * - Decoder input: the last label_len normalised steps followed by pred_len zeros (x_dec itself is ignored,
 *   as in TSLib).
 * - Vanilla Transformer encoder/decoder whose attentions are DSAttention (encoder self and decoder cross
 *   get τ and Δ; decoder self gets τ, causal).
 * - De-normalisation: out·σ + μ, last pred_len steps → [B, pred_len, c_out].
 *
 * Registration (= state-dict) order as TSLib: enc_embedding, encoder, dec_embedding, decoder, tau_learner,
 * delta_learner.
 */
import { Module } from '../nn/module.ts';
import { DataEmbedding } from '../nn/embedding.ts';
import { LayerNorm } from '../nn/layer-norm.ts';
import { Linear } from '../nn/linear.ts';
import { DSAttention, DSAttentionLayer, NSDecoder, NSDecoderLayer, NSEncoder, NSEncoderLayer } from '../nn/ds-attention.ts';
import { Projector } from '../nn/projector.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { engine } from '../tensor/engine.ts';
import { add, div, minimum, mul, sub } from '../ops/binary.ts';
import { exp, sqrt } from '../ops/unary.ts';
import { mean, variance } from '../ops/reduce.ts';
import { pad, sliceAxis } from '../ops/movement.ts';
import type { ForecastConfig } from './config.ts';

export class NSTransformer extends Module {
  readonly encEmbedding: DataEmbedding;
  readonly encoder: NSEncoder;
  readonly decEmbedding: DataEmbedding;
  readonly decoder: NSDecoder;
  readonly tauLearner: Projector;
  readonly deltaLearner: Projector;

  constructor(rng: Rng, readonly cfg: ForecastConfig) {
    super();
    const c = cfg;
    const hidden = c.pHiddenDims ?? [128, 128];
    const hiddenLayers = c.pHiddenLayers ?? 2;
    this.encEmbedding = this.module('enc_embedding', new DataEmbedding(rng, c.encIn, c.dModel, c.freq, c.dropout));
    this.encoder = this.module('encoder', new NSEncoder(
      Array.from({ length: c.eLayers }, () => new NSEncoderLayer(
        rng,
        new DSAttentionLayer(rng, new DSAttention(rng, false, c.dropout), c.dModel, c.nHeads),
        c.dModel, c.dFf, c.dropout, c.activation,
      )),
      new LayerNorm(c.dModel),
    ));
    this.decEmbedding = this.module('dec_embedding', new DataEmbedding(rng, c.decIn, c.dModel, c.freq, c.dropout));
    this.decoder = this.module('decoder', new NSDecoder(
      Array.from({ length: c.dLayers }, () => new NSDecoderLayer(
        rng,
        new DSAttentionLayer(rng, new DSAttention(rng, true, c.dropout), c.dModel, c.nHeads),
        new DSAttentionLayer(rng, new DSAttention(rng, false, c.dropout), c.dModel, c.nHeads),
        c.dModel, c.dFf, c.dropout, c.activation,
      )),
      new LayerNorm(c.dModel),
      new Linear(rng, c.dModel, c.cOut),
    ));
    this.tauLearner = this.module('tau_learner', new Projector(rng, c.encIn, c.seqLen, hidden, hiddenLayers, 1));
    this.deltaLearner = this.module('delta_learner', new Projector(rng, c.encIn, c.seqLen, hidden, hiddenLayers, c.seqLen));
  }

  /** x_enc [B, seq, C], x_mark_enc [B, seq, F], x_dec (ignored), x_mark_dec [B, label+pred, F] → [B, pred, c_out]. */
  forward(xEnc: Tensor, xMarkEnc: Tensor | null, _xDec: Tensor, xMarkDec: Tensor | null): Tensor {
    const { labelLen, predLen, seqLen } = this.cfg;
    const L = xEnc.shape[1]!;
    if (L !== seqLen) throw new Error(`NSTransformer: x_enc has ${L} steps; the model was built for seq_len ${seqLen}`);
    // Detached statistics (TSLib: .detach()); the raw series feeds the projectors without gradient.
    const [xRaw, meanEnc, stdEnc] = engine.noGrad(() => {
      const m = mean(xEnc, 1, true);
      const s = sqrt(add(variance(sub(xEnc, m), 1, true, false), 1e-5));
      return [mul(xEnc, 1), m, s] as const;
    });
    const xNorm = div(sub(xEnc, meanEnc), stdEnc);
    const tau = exp(minimum(this.tauLearner.forward(xRaw, stdEnc), 80)); // [B, 1]
    const delta = this.deltaLearner.forward(xRaw, meanEnc); // [B, seq]
    const xDecNew = pad(sliceAxis(xNorm, 1, L - labelLen, labelLen), [[0, predLen], [0, 0]], 'zero');
    const enc = this.encoder.forward(this.encEmbedding.forward(xNorm, xMarkEnc), null, tau, delta);
    const dec = this.decoder.forward(this.decEmbedding.forward(xDecNew, xMarkDec), enc, null, null, tau, delta);
    const out = add(mul(dec, stdEnc), meanEnc);
    return sliceAxis(out, 1, out.shape[1]! - predLen, predLen);
  }
}
