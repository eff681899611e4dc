/** The forecasting models by their Time-Series-Library names. */
import type { Rng } from '../tensor/random.ts';
import type { Forecaster } from '../train/trainer.ts';
import type { ForecastConfig } from './config.ts';
import { Transformer } from './transformer.ts';

export type ModelName = 'Transformer' | 'Informer' | 'Autoformer' | 'FEDformer' | 'NSTransformer';

const REGISTRY: Partial<Record<ModelName, (rng: Rng, cfg: ForecastConfig) => Forecaster>> = {
  Transformer: (rng, cfg) => new Transformer(rng, cfg),
};

export function modelNames(): string[] {
  return Object.keys(REGISTRY);
}

export function createModel(name: string, rng: Rng, cfg: ForecastConfig): Forecaster {
  const make = REGISTRY[name as ModelName];
  if (!make) throw new Error(`unknown model '${name}' (available: ${modelNames().join(', ')})`);
  return make(rng, cfg);
}

export { defaultConfig, PRESETS, type ForecastConfig } from './config.ts';
