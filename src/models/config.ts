/** Model hyper-parameters with Time-Series-Library's names and the two presets of the CLI. */
export interface ForecastConfig {
  seqLen: number;
  labelLen: number;
  predLen: number;
  encIn: number;
  decIn: number;
  cOut: number;
  dModel: number;
  nHeads: number;
  eLayers: number;
  dLayers: number;
  dFf: number;
  dropout: number;
  factor: number;
  activation: 'gelu' | 'relu';
  freq: string;
  movingAvg: number;
  distil: boolean;
  /** FEDformer: number of Fourier modes kept (TSLib default 32). */
  modes?: number;
  /** FEDformer: 'random' (seeded) or 'low' frequency selection (TSLib default 'random'). */
  modeSelect?: 'random' | 'low';
  /** NSTransformer: hidden sizes of the τ/Δ projector MLPs (TSLib default [128, 128]). */
  pHiddenDims?: number[];
  /** NSTransformer: number of hidden layers of the projector MLPs (TSLib default 2). */
  pHiddenLayers?: number;
}

export const PRESETS = {
  small: { dModel: 64, nHeads: 4, eLayers: 2, dLayers: 1, dFf: 256, dropout: 0.05 },
  full: { dModel: 512, nHeads: 8, eLayers: 2, dLayers: 1, dFf: 2048, dropout: 0.05 },
} as const;

export function defaultConfig(channels: number, over: Partial<ForecastConfig> = {}): ForecastConfig {
  return {
    seqLen: 96, labelLen: 48, predLen: 96,
    encIn: channels, decIn: channels, cOut: channels,
    ...PRESETS.small,
    factor: 1, activation: 'gelu', freq: 'h', movingAvg: 25, distil: true,
    modes: 32, modeSelect: 'random', pHiddenDims: [128, 128], pHiddenLayers: 2,
    ...over,
  };
}
