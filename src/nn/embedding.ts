/**
 * Time-Series-Library's DataEmbedding: value (TokenEmbedding: circular Conv1d k=3, no bias), fixed
 * sinusoidal positions (buffer `pe`), and the `timeF` temporal embedding (Linear without bias from the
 * time features), summed, then dropout. Parameter names follow TSLib's layers/Embed.py.
 */
import { Module } from './module.ts';
import { TIME_FEATURE_COUNTS } from '../data/time-features.ts';
import { Dropout } from './dropout.ts';
import { Linear } from './linear.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { tensor } from '../ops/creation.ts';
import { conv1d } from '../ops/conv.ts';
import { permute, sliceAxis } from '../ops/movement.ts';
import { add } from '../ops/binary.ts';
import { normalInit } from './init.ts';

/** Number of `timeF` features per frequency code (TSLib's freq_map). */
export const TIME_FEATURES = TIME_FEATURE_COUNTS;

export class TokenEmbedding extends Module {
  readonly tokenConv: TokenConv;
  constructor(rng: Rng, cIn: number, dModel: number) {
    super();
    this.tokenConv = this.module('tokenConv', new TokenConv(rng, cIn, dModel));
  }

  /** x [B, L, C] → [B, L, d_model]. */
  forward(x: Tensor): Tensor {
    const xt = permute(x, [0, 2, 1]);
    const y = conv1d(xt, this.tokenConv.weight, null, { padding: 1, paddingMode: 'circular' });
    const out = permute(y, [0, 2, 1]);
    xt.dispose();
    y.dispose();
    return out;
  }
}

/** The conv's weight alone ([d_model, c_in, 3]); kaiming_normal_(fan_in, leaky_relu) as TSLib initialises it. */
class TokenConv extends Module {
  readonly weight: Tensor;
  constructor(rng: Rng, cIn: number, dModel: number) {
    super();
    const gain = Math.sqrt(2 / (1 + 0.01 ** 2));
    this.weight = this.param('weight', normalInit(rng, [dModel, cIn, 3], gain / Math.sqrt(cIn * 3)));
  }
}

/** Rows of the position table (TSLib's max_len): the longest encoder or decoder input a model can take. */
export const MAX_POSITIONS = 5000;

/** Sinusoidal table pe[pos, 2i] = sin(pos·10000^(−2i/d)), pe[pos, 2i+1] = cos(…); shape [1, maxLen, d]. */
export class PositionalEmbedding extends Module {
  readonly pe: Tensor;
  constructor(dModel: number, maxLen = MAX_POSITIONS) {
    super();
    const pe = new Float32Array(maxLen * dModel);
    for (let pos = 0; pos < maxLen; pos++) {
      for (let i = 0; i < dModel; i += 2) {
        const div = Math.exp(i * -(Math.log(10000) / dModel));
        pe[pos * dModel + i] = Math.sin(pos * div);
        if (i + 1 < dModel) pe[pos * dModel + i + 1] = Math.cos(pos * div);
      }
    }
    this.pe = this.buffer('pe', tensor(pe, [1, maxLen, dModel]));
  }

  /** The first L rows: [1, L, d]. */
  forward(length: number): Tensor {
    return sliceAxis(this.pe, 1, 0, length);
  }
}

export class TimeFeatureEmbedding extends Module {
  readonly embed: Linear;
  constructor(rng: Rng, dModel: number, freq = 'h') {
    super();
    const dInp = TIME_FEATURES[freq];
    if (dInp === undefined) throw new Error(`TimeFeatureEmbedding: unknown freq '${freq}' (known: ${Object.keys(TIME_FEATURES).join(', ')})`);
    this.embed = this.module('embed', new Linear(rng, dInp, dModel, false));
  }

  forward(xMark: Tensor): Tensor {
    return this.embed.forward(xMark);
  }
}

export class DataEmbedding extends Module {
  readonly valueEmbedding: TokenEmbedding;
  readonly positionEmbedding: PositionalEmbedding;
  readonly temporalEmbedding: TimeFeatureEmbedding;
  readonly dropout: Dropout;

  constructor(rng: Rng, cIn: number, dModel: number, freq: string, dropout: number, opts: { position?: boolean } = {}) {
    super();
    this.valueEmbedding = this.module('value_embedding', new TokenEmbedding(rng, cIn, dModel));
    this.positionEmbedding = this.module('position_embedding', new PositionalEmbedding(dModel));
    this.temporalEmbedding = this.module('temporal_embedding', new TimeFeatureEmbedding(rng, dModel, freq));
    this.dropout = this.module('dropout', new Dropout(rng, dropout));
    this.usePosition = opts.position ?? true;
  }

  private readonly usePosition: boolean;

  /** x [B, L, C], xMark [B, L, F] (or null) → [B, L, d_model]. */
  forward(x: Tensor, xMark: Tensor | null): Tensor {
    let h = this.valueEmbedding.forward(x);
    if (this.usePosition) h = add(h, this.positionEmbedding.forward(x.shape[1]!));
    if (xMark) h = add(h, this.temporalEmbedding.forward(xMark));
    return this.dropout.forward(h);
  }
}
