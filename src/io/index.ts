/**
 * `io`: files. safetensors (read / write), the `.sc` model file of `sparsecast/infer` (`exportModel` from a
 * trained forecaster, `readModelFile` / `writeModelFile`), and run folders (`loadRun` / `saveRun` in Node;
 * `runFromBytes` anywhere: the same forecaster from the two files' contents), and Time-Series-Library state
 * dicts (`tslibWeights`: PyTorch weights checked key by key against a model, their zeros as masks).
 */
export { readSafetensors, writeSafetensors, type SafetensorsFile, type SafeTensor, type SafeArray, type SafeDType } from './safetensors.ts';
export {
  readModelFile, writeModelFile, DEFAULT_CSR_THRESHOLD, MODEL_NAMES, MODEL_FORMAT, MODEL_FORMAT_VERSION,
  type ModelConfig, type ModelFile, type CsrWeight, type WeightInput, type ModelConfigInput, type ExportedModelName,
} from './model-file.ts';
export { exportModel, type ExportSource, type ExportOptions, type ExportSummary } from '../run/export-model.ts';
export {
  RunForecaster, type RunInfo, type RunForecasterOptions, type Accounting, type EvaluateOptions, type DatasetFor,
} from '../run/run-forecaster.ts';
export type { ForecastWindow } from '../infer/window.ts';
export { runFromBytes, runFiles, parseRunConfig, runWeights, type SavedRunConfig } from '../run/saved-run.ts';
export { loadRun, saveRun, readRunWeights, readRunConfig } from '../run/load-run.ts';
export { tslibWeights, type TslibWeights, type TslibImportOptions } from '../run/tslib-import.ts';
