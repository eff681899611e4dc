// Parameter and FLOP accounting for the small-preset Transformer on 7 channels, against counts derived by
// hand from TSLib's architecture (seq 96, label 48, pred 96, d_model 64, 4 heads, d_ff 256, timeF 'h' = 4).
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { Transformer } from '../src/models/transformer.ts';
import { defaultConfig } from '../src/models/config.ts';
import { measureFlops, summarizeFlops } from '../src/tensor/flops.ts';
import * as op from '../src/ops/index.ts';

engine.registerBackend(createJsBackend());
engine.useBackend('js');

describe('accounting: small Transformer', () => {
  const model = new Transformer(new Rng(1), defaultConfig(7));

  it('parameter count', () => {
    const attention = 4 * (64 * 64 + 64);
    const ffn = 256 * 64 + 256 + (64 * 256 + 64);
    const norm = 2 * 64;
    const embedding = 64 * 7 * 3 + 4 * 64; // token conv (no bias) + timeF linear (no bias)
    const encoderLayer = attention + ffn + 2 * norm;
    const decoderLayer = 2 * attention + ffn + 3 * norm;
    const expected = 2 * embedding + 2 * encoderLayer + norm + decoderLayer + norm + (64 * 7 + 7);
    expect(expected).toBe(170631);
    expect(model.parameters().reduce((a, p) => a + p.size, 0)).toBe(expected);
    // The positional table is a buffer, not a parameter.
    expect(model.namedBuffers().map(([k]) => k)).toEqual(['enc_embedding.position_embedding.pe', 'dec_embedding.position_embedding.pe']);
  });

  it('FLOPs of one forward pass, weights vs attention products', () => {
    const enc = 96;
    const dec = 144;
    const d = 64;
    const ff = 256;
    const proj = (rows: number) => 2 * rows * d * d;
    const embed = (rows: number) => 2 * rows * d * 7 * 3 + 2 * rows * 4 * d;
    const ffnF = (rows: number) => 2 * (2 * rows * d * ff);
    const weightFlops =
      embed(enc) + 2 * (4 * proj(enc) + ffnF(enc)) + // encoder
      embed(dec) + 4 * proj(dec) + // decoder self-attention projections
      2 * proj(dec) + 2 * proj(enc) + // cross-attention: q, out on the decoder; k, v on the encoder output
      ffnF(dec) + 2 * dec * d * 7; // decoder FFN and projection
    const attentionFlops = 2 * (2 * 2 * enc * enc * d) + 2 * 2 * dec * dec * d + 2 * 2 * dec * enc * d;
    const x = op.zeros([1, 96, 7]);
    const xm = op.zeros([1, 96, 4]);
    const y = op.zeros([1, 144, 7]);
    const ym = op.zeros([1, 144, 4]);
    const { records } = measureFlops(() => tidy(() => model.forward(x, xm, y, ym)));
    const half = summarizeFlops(records, () => 0.5);
    const full = summarizeFlops(records);
    expect(full.dense).toBe(weightFlops + attentionFlops);
    expect(half.sparse).toBe(weightFlops / 2 + attentionFlops);
    for (const t of [x, xm, y, ym]) t.dispose();
  });
});
