/**
 * `sparsecast import --weights state.safetensors --model NAME --data FILE [model flags] --out DIR`: a
 * Time-Series-Library state dict (PyTorch `model.state_dict()` saved with safetensors) becomes a run folder —
 * config.json as `sparsecast train` writes it, model.safetensors with its checksum and the masks the weights'
 * exact zeros make — that eval, predict, export and report read like a trained run's.
 *
 * The model flags are train's (the same names and defaults), since the state dict alone does not say the
 * model's configuration; the scaler is fitted on FILE's training split exactly as train fits it (TSLib fits its
 * StandardScaler there too). The checks of the weights are the library's (src/run/tslib-import.ts).
 * Prints one JSON line: {out, model, weights, params, nnz, sparsity, masked_sparsity, masked_layers, layers, …}.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs } from './flags.ts';
import { IMPORT } from './commands.ts';
import { runData, specFromArgs } from './train-command.ts';
import { initBackend } from './backends.ts';
import { acquireRunLock, LOCK_NAME } from './run-lock.ts';
import { readRunFile } from '../io/checksum.ts';
import { tslibWeights } from '../run/tslib-import.ts';
import { RunForecaster, type RunInfo } from '../run/run-forecaster.ts';
import { runFiles } from '../run/saved-run.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';
import type { ModelName } from '../models/index.ts';

/** The state dict, with a hint for the half-precision dtypes our reader does not decode. */
function readStateDict(path: string) {
  try {
    // A file with sparsecast's metadata (a run's own model.safetensors) must pass its checksum; PyTorch's has none.
    return readRunFile(readFileSync(path), path, { foreign: 'accept' });
  } catch (e) {
    const m = /unsupported dtype "(F16|BF16|[A-Z0-9_]+)"/.exec((e as Error).message);
    if (m) throw new Error(`${(e as Error).message}; sparsecast import reads F32 (and F64) weights: save them with {k: v.float().contiguous() …}`);
    throw e;
  }
}

export async function importCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(IMPORT, argv);
  const weightsPath = args.flags.get('weights')!;
  const out = args.flags.get('out')!;
  const spec = specFromArgs(args);
  const created = !existsSync(out);
  const lock = acquireRunLock(out, `sparsecast ${process.argv.slice(2).join(' ')}`);
  try {
    // An import never overwrites: a folder with anything in it holds another run (or a half-written one).
    const present = readdirSync(out).filter((f) => f !== LOCK_NAME);
    if (present.length) throw new Error(`sparsecast import: --out ${out} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}); import into a new or empty folder`);
    const file = readStateDict(weightsPath);
    // The data set (its training split's scaler and its channel count) and the full config, as train builds them.
    await initBackend(spec.backend, { threads: spec.threads });
    const { ds, cfg } = runData(spec);
    const info: RunInfo = {
      model: spec.model as ModelName, cfg, seed: spec.seed, features: spec.features, target: spec.target, kind: spec.kind,
      scaler: { mean: Array.from(ds.scaler.mean), std: Array.from(ds.scaler.std), columns: ds.columns },
    };
    const zeros = args.switches.has('keep_zeros') ? 'keep' : 'mask';
    const imported = tslibWeights(file, info, { file: weightsPath, zeros });
    const forecaster = RunForecaster.fromWeights(info, imported.weights, imported.masks, { sparseExecution: false });
    try {
      // Masked weights are a sparse model; 'pals' (the reference these zeros come from) makes eval load and
      // report its masks as a PALS run's. A dense state dict is a dense run.
      spec.sparse = { ...spec.sparse, method: imported.masks.size ? 'pals' : 'dense' };
      const record = { weights: weightsPath, zeros, masked_layers: imported.masks.size, converted_f64: imported.converted.length };
      const files = await runFiles(forecaster, { ...spec, imported: record });
      writeFileAtomic(join(out, 'model.safetensors'), files.weights);
      writeFileAtomic(join(out, 'config.json'), new TextEncoder().encode(files.config));
      const acc = forecaster.accounting();
      const layers = Object.fromEntries(Object.entries(imported.densities).filter(([, d]) => d < 1).map(([k, d]) => [k, +d.toFixed(6)]));
      console.log(JSON.stringify({
        out, model: spec.model, weights: weightsPath, params: acc.params, nnz: acc.nnz, sparsity: +acc.sparsity.toFixed(6),
        masked_sparsity: +acc.maskedSparsity.toFixed(6), masked_layers: imported.masks.size, layers, zeros,
        converted_f64: imported.converted.length, method: spec.sparse.method,
      }));
    } finally {
      forecaster.dispose();
    }
  } finally {
    lock.release();
    // A refused import leaves no folder it made only to hold its lock (rmdir removes an empty folder only).
    if (created) {
      try {
        rmdirSync(out);
      } catch {
        // not empty: the import wrote its files
      }
    }
  }
}
