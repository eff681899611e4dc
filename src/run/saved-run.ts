/**
 * A saved run, from its two files' contents (no file system: the browser and the Node loader share this):
 * `config.json` — the run spec `sparsecast train` writes (model, seed, features, target, data kind, `cfg`, and
 * `scaler: { mean, std, columns }`), extra fields allowed — and `model.safetensors` — every state-dict tensor
 * under its Time-Series-Library key (F32) plus `mask.<weight>` (U8) for each masked weight.
 */
import type { SafeArray, SafetensorsFile } from '../io/safetensors.ts';
import { readRunFile, writeRunFile } from '../io/checksum.ts';
import { assertRunTensorValues } from '../io/value-checks.ts';
import { defaultConfig } from '../models/config.ts';
import { hasHeads } from '../models/heads.ts';
import { MODEL_NAMES } from '../io/model-file.ts';
import type { ModelName } from '../models/index.ts';
import { RunForecaster, hostStateDict, type RunForecasterOptions, type RunInfo } from './run-forecaster.ts';
import { checkTrainedAs, trainedAsMetadata } from './trained-as.ts';

/** `config.json` of a run folder: the run info and whatever else the writer recorded (epochs, learning rate, …). */
export type SavedRunConfig = RunInfo & Record<string, unknown>;

/** Check a parsed `config.json` and complete `cfg` with the defaults for its channel count. */
export function parseRunConfig(json: unknown, file = 'config.json'): SavedRunConfig {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  const run = json as Partial<SavedRunConfig>;
  if (!MODEL_NAMES.includes(run.model as ModelName)) fail(`unknown model ${JSON.stringify(run.model)} (${MODEL_NAMES.join(', ')})`);
  const s = run.scaler;
  if (!s || !Array.isArray(s.columns) || !Array.isArray(s.mean) || !Array.isArray(s.std)) {
    fail('no scaler { mean, std, columns }: the trained statistics and column names are needed to read data for the model');
  }
  if (s!.mean.length !== s!.columns.length || s!.std.length !== s!.columns.length) fail(`scaler has ${s!.columns.length} columns but ${s!.mean.length} means and ${s!.std.length} deviations`);
  // Forecasts divide by the deviations: an edited zero, negative or non-finite one gave NaN or mirrored forecasts.
  s!.mean.forEach((m, i) => Number.isFinite(m) || fail(`scaler.mean[${i}] = ${JSON.stringify(m)} is not a finite number`));
  s!.std.forEach((d, i) => (typeof d === 'number' && d > 0 && Number.isFinite(d)) || fail(`scaler.std[${i}] = ${JSON.stringify(d)} must be a positive number`));
  if (typeof run.cfg !== 'object' || run.cfg === null) fail('no cfg (model hyper-parameters)');
  if (!Number.isInteger(run.seed)) fail(`seed must be an integer, got ${JSON.stringify(run.seed)}`);
  if (run.features !== 'M' && run.features !== 'S' && run.features !== 'MS') fail(`features must be M, S or MS, got ${JSON.stringify(run.features)}`);
  if (typeof run.target !== 'string') fail('no target column name');
  const cfg = { ...defaultConfig(s!.columns.length), ...run.cfg };
  // What the model file's reader (src/io/model-file.ts) refuses too: windows it cannot cut, heads that do not split d_model.
  for (const k of ['seqLen', 'predLen'] as const) if (!(Number.isSafeInteger(cfg[k]) && cfg[k] >= 1)) fail(`cfg.${k} must be a positive integer, got ${JSON.stringify(cfg[k])}`);
  if (!(Number.isSafeInteger(cfg.labelLen) && cfg.labelLen >= 0 && cfg.labelLen <= cfg.seqLen)) fail(`cfg.labelLen must be an integer in [0, seqLen ${cfg.seqLen}], got ${JSON.stringify(cfg.labelLen)}`);
  if (hasHeads(run.model!) && !(Number.isSafeInteger(cfg.nHeads) && cfg.nHeads >= 1 && cfg.dModel % cfg.nHeads === 0)) fail(`cfg.dModel ${cfg.dModel} is not divisible by cfg.nHeads ${cfg.nHeads}`);
  return { ...(run as SavedRunConfig), cfg };
}

/** Weights and masks of a `model.safetensors`, checked for dtypes. */
export function runWeights(file: SafetensorsFile, path = 'model.safetensors'): { weights: Map<string, Float32Array>; masks: Map<string, Uint8Array> } {
  const weights = new Map<string, Float32Array>();
  const masks = new Map<string, Uint8Array>();
  for (const [k, t] of file.tensors) {
    if (k.startsWith('mask.')) {
      if (t.dtype !== 'U8') throw new Error(`${path}: mask '${k}' is ${t.dtype}; masks are U8`);
      masks.set(k.slice(5), t.data as Uint8Array);
    } else {
      if (t.dtype !== 'F32') throw new Error(`${path}: tensor '${k}' is ${t.dtype}; model weights must be F32`);
      weights.set(k, t.data as Float32Array);
    }
  }
  return { weights, masks };
}

/**
 * A run's forecaster from the contents of its `config.json` (text or parsed) and `model.safetensors` — in a
 * browser, what `fetch` returned; in Node, `loadRun(dir)` reads them.
 */
export function runFromBytes(config: string | object, weights: Uint8Array, opts: RunForecasterOptions = {}): RunForecaster {
  const info = parseRunConfig(typeof config === 'string' ? JSON.parse(config) : config);
  // Verified like a file on disk: checksum (a foreign, checksum-less file is accepted), finite values, 0/1 masks.
  const file = readRunFile(weights, 'model.safetensors', { foreign: 'accept' });
  assertRunTensorValues('model.safetensors', file.tensors);
  checkTrainedAs(info, file.metadata, 'config.json');
  const w = runWeights(file);
  return RunForecaster.fromWeights(info, w.weights, w.masks, opts);
}

/**
 * The two files of a run folder for a trained forecaster: `config.json` (its run info and recorded settings —
 * `fit` records those of `sparsecast train` — with `extra` fields over them, such as the data file `sparsecast
 * eval` scores by default) and `model.safetensors` (every state-dict tensor, and the masks of masked weights
 * that are not all ones).
 */
export async function runFiles(f: RunForecaster, extra: Record<string, unknown> = {}): Promise<{ config: string; weights: Uint8Array }> {
  const tensors = new Map<string, { shape: number[]; data: SafeArray }>();
  const sd = f.model.stateDict();
  const host = await hostStateDict(f.model);
  for (const [k, t] of sd) tensors.set(k, { shape: [...t.shape], data: host.get(k)! });
  const shapes = new Map(f.model.namedParameters().map(([k, t]) => [k, t.shape] as const));
  for (const [k, m] of f.masks) {
    if (m.every((v) => v === 1)) continue;
    tensors.set(`mask.${k}`, { shape: [...shapes.get(k)!], data: m });
  }
  // `extra` may replace recorded settings (the data path, say) but not what the weights were trained as.
  const { model, cfg, seed, features, target, kind, scaler } = f.info;
  const config = { ...f.info, ...extra, model, cfg, seed, features, target, kind, scaler };
  return { config: `${JSON.stringify(config, null, 2)}\n`, weights: writeRunFile(tensors, { format: 'pt', ...trainedAsMetadata(f.info) }) };
}
