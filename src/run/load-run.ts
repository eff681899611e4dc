/**
 * Run folders on disk (Node): `loadRun(dir)` reads `config.json` and `model.safetensors` into a
 * `RunForecaster`; `saveRun(dir, forecaster)` writes them (atomically, so a crash never leaves half a file).
 * Every read of `model.safetensors` goes through `readRunWeights`, the one place to verify the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SafetensorsFile } from '../io/safetensors.ts';
import { readModelWeights } from '../io/model-weights.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';
import type { RunForecaster, RunForecasterOptions } from './run-forecaster.ts';
import { RunForecaster as Forecaster } from './run-forecaster.ts';
import { parseRunConfig, runFiles, runWeights, type SavedRunConfig } from './saved-run.ts';
import { checkTrainedAs } from './trained-as.ts';
import { makeDir } from '../io/make-dir.ts';

/** Read and check a run's `model.safetensors`: checksum, finite weights, 0/1 masks (src/io/model-weights.ts). */
export function readRunWeights(path: string): SafetensorsFile {
  return readModelWeights(path);
}

/** A run folder's `config.json`, checked, with `cfg` completed. */
export function readRunConfig(dir: string): SavedRunConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${dir} has no config.json (is it a --out folder of sparsecast train, or a saveRun folder?)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseRunConfig(json, path);
}

/**
 * The forecaster of a run folder (`sparsecast train --out DIR`, or `saveRun`): the model rebuilt from the
 * run's config and seed on the current backend, its weights and masks loaded. No data file is read.
 */
export function loadRun(dir: string, opts: RunForecasterOptions = {}): RunForecaster {
  const info = readRunConfig(dir);
  const path = join(dir, 'model.safetensors');
  const file = readRunWeights(path);
  checkTrainedAs(info, file.metadata, join(dir, 'config.json'));
  const { weights, masks } = runWeights(file, path);
  return Forecaster.fromWeights(info, weights, masks, opts);
}

/**
 * Write a forecaster as a run folder that `loadRun`, `sparsecast eval / predict / export` accept. `extra`
 * goes into config.json as well (e.g. `{ data: 'data/ETTh1.csv', batchSize: 32 }` for `sparsecast eval`).
 */
export async function saveRun(dir: string, f: RunForecaster, extra: Record<string, unknown> = {}): Promise<void> {
  const { config, weights } = await runFiles(f, extra);
  makeDir(dir);
  writeFileAtomic(join(dir, 'model.safetensors'), weights);
  writeFileAtomic(join(dir, 'config.json'), new TextEncoder().encode(config));
}
