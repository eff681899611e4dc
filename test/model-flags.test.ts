// MODEL_FLAGS (src/cli/model-flags.ts) says which forecasters read each model flag; `train` warns when a model
// does not. Checked here against the models themselves: each model is built twice from one seed, with a flag's
// value changed, and run forward once in training mode (dropout drawing). A model the map lists must give
// another forecast; any other must give the same bits — the "trains the same without it" the warning promises.
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createModel, defaultConfig, modelNames, type ForecastConfig } from '../src/models/index.ts';
import { TIME_FEATURE_COUNTS } from '../src/data/time-features.ts';
import { MODEL_FLAGS } from '../src/cli/model-flags.ts';
import * as op from '../src/ops/index.ts';

engine.registerBackend(createJsBackend());
engine.useBackend('js');

/** Small enough to build 2 × 7 × 15 times; e_layers 2 so --distil has a layer to distil, few modes to select. */
const BASE = defaultConfig(3, {
  seqLen: 24, labelLen: 12, predLen: 8, dModel: 16, nHeads: 2, eLayers: 2, dLayers: 1, dFf: 32, movingAvg: 5,
  modes: 4, pHiddenDims: [8, 8], pHiddenLayers: 2,
});

/** Each flag of MODEL_FLAGS as a config change. */
const CHANGED: Record<string, Partial<ForecastConfig>> = {
  d_model: { dModel: 32 }, n_heads: { nHeads: 4 }, e_layers: { eLayers: 3 }, d_layers: { dLayers: 2 }, d_ff: { dFf: 48 },
  dropout: { dropout: 0.5 }, activation: { activation: 'relu' }, factor: { factor: 3 }, moving_avg: { movingAvg: 7 },
  distil: { distil: false }, modes: { modes: 2 }, mode_select: { modeSelect: 'low' }, p_hidden_dims: { pHiddenDims: [12, 12] },
  p_hidden_layers: { pHiddenLayers: 1 },
};

function forecast(model: string, cfg: ForecastConfig): Float32Array {
  const m = createModel(model, new Rng(7), cfg);
  try {
    return tidy(() => {
      const rng = new Rng(3);
      const marks = TIME_FEATURE_COUNTS[cfg.freq]!;
      const dec = cfg.labelLen + cfg.predLen;
      const x = op.tensor(rng.normal(2 * cfg.seqLen * 3), [2, cfg.seqLen, 3]);
      const xMark = op.tensor(rng.uniform(2 * cfg.seqLen * marks), [2, cfg.seqLen, marks]);
      const xDec = op.tensor(rng.normal(2 * dec * 3), [2, dec, 3]);
      const xMarkDec = op.tensor(rng.uniform(2 * dec * marks), [2, dec, marks]);
      return m.forward(x, xMark, xDec, xMarkDec).dataSync() as Float32Array;
    });
  } finally {
    m.dispose();
  }
}

describe('MODEL_FLAGS matches what each model reads', () => {
  it('every flag of the map has a change to try', () => {
    expect(Object.keys(CHANGED).sort()).toEqual(Object.keys(MODEL_FLAGS).sort());
  });

  it.each(modelNames())('%s', (model) => {
    const base = forecast(model, BASE);
    const reads = Object.keys(MODEL_FLAGS).filter((flag) => {
      const other = forecast(model, { ...BASE, ...CHANGED[flag] });
      return other.length !== base.length || other.some((v, i) => !Object.is(v, base[i]));
    });
    expect(reads).toEqual(Object.keys(MODEL_FLAGS).filter((flag) => MODEL_FLAGS[flag]!.includes(model)));
  });
});
