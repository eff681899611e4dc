/**
 * `models`: the seven forecasters by their Time-Series-Library names, their hyper-parameters (`defaultConfig`,
 * the CLI's `PRESETS`) and `createModel(name, seedOrRng, config)`.
 */
import type { Rng } from '../tensor/random.ts';
import type { Forecaster } from './forecaster.ts';
import type { ForecastConfig } from './config.ts';
import { Transformer } from './transformer.ts';
import { DLinear } from './dlinear.ts';
import { LstmForecaster } from './lstm.ts';
import { FEDformer } from './fedformer.ts';
import { NSTransformer } from './nstransformer.ts';
import { Informer } from './informer.ts';
import { Autoformer } from './autoformer.ts';

export type ModelName = 'Transformer' | 'Informer' | 'Autoformer' | 'FEDformer' | 'NSTransformer' | 'DLinear' | 'LSTM';

const REGISTRY: Partial<Record<ModelName, (rng: Rng, cfg: ForecastConfig) => Forecaster>> = {
  Transformer: (rng, cfg) => new Transformer(rng, cfg),
  DLinear: (rng, cfg) => new DLinear(rng, cfg),
  LSTM: (rng, cfg) => new LstmForecaster(rng, cfg),
  FEDformer: (rng, cfg) => new FEDformer(rng, cfg),
  NSTransformer: (rng, cfg) => new NSTransformer(rng, cfg),
  Informer: (rng, cfg) => new Informer(rng, cfg),
  Autoformer: (rng, cfg) => new Autoformer(rng, cfg),
};

/** The model names `createModel` knows. */
export function modelNames(): string[] {
  return Object.keys(REGISTRY);
}

/**
 * Build a model with freshly initialised weights. Initialisation (and FEDformer's frequency draw) come from
 * `rng` (`new Rng(seed)`), so a seed gives the same model everywhere.
 */
export function createModel(name: string, rng: Rng, cfg: ForecastConfig): Forecaster {
  const make = REGISTRY[name as ModelName];
  if (!make) throw new Error(`unknown model '${name}' (available: ${modelNames().join(', ')})`);
  return make(rng, cfg);
}

export { defaultConfig, PRESETS, type ForecastConfig } from './config.ts';
export type { Forecaster } from './forecaster.ts';
export { Transformer, Informer, Autoformer, FEDformer, NSTransformer, DLinear, LstmForecaster };
export type { FEDformerOptions } from './fedformer.ts';
