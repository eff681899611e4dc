/**
 * What a run's weights were trained as, recorded inside its `model.safetensors` (metadata key
 * `sparsecast_trained_as`: model, seed, features, target, cfg, scaler) and compared with `config.json` on every
 * load. `config.json` is a text file next to the weights, and many of its edits keep every weight's shape — the
 * horizon, the label length, the heads of the same width, the activation, the scaler — so the model would load
 * and forecast as something it was never trained as. A file without the record (runs written before it, or
 * weights saved by PyTorch) loads unchecked, as before.
 */
import type { RunInfo } from './run-forecaster.ts';

export const TRAINED_AS_KEY = 'sparsecast_trained_as';

/** The fields of a run that its weights depend on (the model name as any string: the CLI's spec holds one). */
export type TrainedAs = Pick<RunInfo, 'seed' | 'features' | 'target' | 'cfg' | 'scaler'> & { model: string };

/** The record (dropout and every other cfg field included: they are part of what was trained). */
function record(info: TrainedAs): Record<string, unknown> {
  const { model, seed, features, target, cfg, scaler } = info;
  // Plain arrays: a Float64Array of means would serialise as an object and never match config.json's array.
  return { model, seed, features, target, cfg, scaler: { mean: Array.from(scaler.mean), std: Array.from(scaler.std), columns: [...scaler.columns] } };
}

/** The metadata entry a run writer adds to model.safetensors. */
export function trainedAsMetadata(info: TrainedAs): Record<string, string> {
  return { [TRAINED_AS_KEY]: JSON.stringify(record(info)) };
}

/**
 * `a.b.c` paths of the leaves where `now` differs from `trained` (arrays by index), at most `limit` of them. Only
 * the record's keys are compared: a field a later version adds to config.json (with its default) is not an edit.
 */
function differences(trained: unknown, now: unknown, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (Array.isArray(trained) && Array.isArray(now) && trained.length !== now.length) {
    out.push(`${path} has ${now.length} entries but the weights were trained with ${trained.length}`);
    return;
  }
  if (typeof trained === 'object' && trained !== null && typeof now === 'object' && now !== null) {
    for (const k of Object.keys(trained)) {
      differences((trained as Record<string, unknown>)[k], (now as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out, limit);
    }
    return;
  }
  if (JSON.stringify(trained) !== JSON.stringify(now)) {
    out.push(`${path} is ${JSON.stringify(now) ?? 'missing'} but the weights were trained with ${JSON.stringify(trained) ?? 'none'}`);
  }
}

/**
 * Throws when `config.json` (`info`, cfg completed with its defaults) says something else than the weights'
 * record — naming the fields; `where` names the config file.
 */
export function checkTrainedAs(info: RunInfo, metadata: Record<string, string>, where: string): void {
  const text = metadata[TRAINED_AS_KEY];
  if (text === undefined) return;
  let trained: unknown;
  try {
    trained = JSON.parse(text);
  } catch {
    throw new Error(`${where}: the weights' ${TRAINED_AS_KEY} record is not JSON`);
  }
  const diffs: string[] = [];
  differences(trained, JSON.parse(JSON.stringify(record(info))), '', diffs, 4);
  if (diffs.length) {
    throw new Error(`${where} does not describe the model its weights were trained as (was it edited?): ${diffs.join('; ')}. Restore it, or train again with the settings wanted`);
  }
}
