/**
 * `sparsecast export --checkpoint DIR --out model.sc [--csr_threshold 0.5]`: one self-contained model file
 * (layout in src/io/model-file.ts) from a training run's --out folder (config.json + model.safetensors):
 * weights, CSR for masked layers sparser than the threshold, scaler statistics, time-feature settings.
 * The written file is read back and bound to a freshly built model before the command reports success.
 * Prints one JSON line: {out, bytes, model, dense, csr, csr_expanded, nnz, params}.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag } from './args.ts';
import { parseCommandArgs } from './flags.ts';
import { EXPORT } from './commands.ts';
import { engine } from '../tensor/engine.ts';
import '../tensor/tensor.ts';
import { Rng } from '../tensor/random.ts';
import { createJsBackend } from '../backend/js/backend.ts';
import { createModel, defaultConfig, type ForecastConfig } from '../models/index.ts';
import { FEDformer } from '../models/fedformer.ts';
import { readModelWeights } from '../io/model-weights.ts';
import { assertBinaryMask, assertFinite } from '../io/value-checks.ts';
import {
  DEFAULT_CSR_THRESHOLD, MODEL_NAMES, TIME_FEATURE_COUNT, readModelFile, writeModelFile,
  type ExportedModelName, type ModelConfigInput, type WeightInput,
} from '../io/model-file.ts';
import { bindModelFile } from '../infer/core.ts';
import type { Tensor } from '../tensor/tensor.ts';

interface SavedRun {
  model: string;
  seed: number;
  features: 'M' | 'S' | 'MS';
  target: string;
  cfg: ForecastConfig;
  scaler: { mean: number[]; std: number[]; columns: string[] };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Build the export from a run folder; returns the file bytes and a summary. */
export function exportRun(dir: string, opts: { csrThreshold?: number } = {}): { bytes: Uint8Array; summary: Record<string, unknown> } {
  const cfgPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  if (!existsSync(cfgPath)) throw new Error(`sparsecast export: ${dir} has no config.json (is it a --out folder of sparsecast train?)`);
  if (!existsSync(weightsPath)) throw new Error(`sparsecast export: ${dir} has no model.safetensors (did the run finish?)`);
  const run = JSON.parse(readFileSync(cfgPath, 'utf8')) as SavedRun;
  if (!MODEL_NAMES.includes(run.model as ExportedModelName)) throw new Error(`sparsecast export: ${cfgPath}: unknown model '${run.model}'`);
  if (!run.scaler || !Array.isArray(run.scaler.mean)) throw new Error(`sparsecast export: ${cfgPath} has no scaler statistics`);
  // Checksum verified here; values checked per exported tensor below (a fresh CRC in the .sc must not launder them).
  const file = readModelWeights(weightsPath, { values: false });

  if (!engine.hasBackend('js')) engine.registerBackend(createJsBackend());
  engine.useBackend('js');
  const channels = run.scaler.columns.length;
  const cfg: ForecastConfig = { ...defaultConfig(channels), ...run.cfg };
  // The run's construction, draw for draw (FEDformer's frequency indices come from this generator).
  const model = createModel(run.model, new Rng(run.seed), cfg);
  try {
    const fresh = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    const weights: WeightInput[] = [];
    const host = (name: string, t: Tensor): Float32Array => {
      const v = file.tensors.get(name);
      if (!v) throw new Error(`sparsecast export: ${weightsPath} has no tensor '${name}'`);
      if (v.dtype !== 'F32' || v.data.length !== t.size) throw new Error(`sparsecast export: ${weightsPath}: '${name}' is ${v.dtype} [${v.shape.join(', ')}]; the model has F32 [${t.shape.join(', ')}]`);
      assertFinite(`sparsecast export: ${weightsPath}`, name, v.data as Float32Array);
      return v.data as Float32Array;
    };
    for (const [name, t] of model.namedParameters()) {
      if (seen.has(t)) continue;
      seen.add(t);
      const mask = file.tensors.get(`mask.${name}`);
      if (mask && (mask.dtype !== 'U8' || mask.data.length !== t.size)) throw new Error(`sparsecast export: ${weightsPath}: mask.${name} does not fit [${t.shape.join(', ')}]`);
      if (mask) assertBinaryMask(`sparsecast export: ${weightsPath}`, `mask.${name}`, mask.data as Uint8Array);
      weights.push({ name, shape: [...t.shape], data: host(name, t), mask: mask?.data as Uint8Array | undefined });
    }
    for (const [name, t] of model.namedBuffers()) {
      if (seen.has(t)) continue;
      seen.add(t);
      fresh.set(name, t);
      const v = host(name, t);
      // Buffers the constructor makes identically (the position tables) are rebuilt at load, not stored.
      if (sameBits(v, t.dataSync() as Float32Array)) continue;
      weights.push({ name, shape: [...t.shape], data: v });
    }
    const config: ModelConfigInput = {
      model: run.model as ExportedModelName,
      cfg: { ...cfg },
      features: run.features,
      target: run.target,
      scaler: { mean: run.scaler.mean, std: run.scaler.std, columns: run.scaler.columns },
      timeFeatures: { encoding: 'timeF', freq: cfg.freq, count: TIME_FEATURE_COUNT[cfg.freq] ?? 1 },
    };
    if (model instanceof FEDformer) {
      config.modelOptions = {
        encoderIndex: [...model.encoderSelfAtt.index], decoderIndex: [...model.decoderSelfAtt.index],
        crossIndexQ: [...model.decoderCrossAtt.indexQ], crossIndexKv: [...model.decoderCrossAtt.indexKv],
      };
    }
    const bytes = writeModelFile(config, weights, { csrThreshold: opts.csrThreshold ?? DEFAULT_CSR_THRESHOLD });
    // Read back and bind to a fresh model: what we write, we can load.
    const check = readModelFile(bytes);
    const bound = engine.noGrad(() => bindModelFile(check, engine.getBackend('js')));
    const kinds = [...bound.layers.values()];
    bound.model.dispose();
    for (const s of bound.sparse) s.dispose();
    let nnz = 0;
    for (const c of check.csr.values()) nnz += c.nnz;
    for (const d of check.dense.values()) nnz += d.data.length;
    return {
      bytes,
      summary: {
        bytes: bytes.length, model: run.model, dense: kinds.filter((k) => k === 'dense').length,
        csr: kinds.filter((k) => k === 'csr').length, csr_expanded: kinds.filter((k) => k === 'csr→dense').length,
        stored_values: nnz, params: weights.filter((w) => !fresh.has(w.name)).reduce((a, w) => a + w.data.length, 0),
        csr_threshold: check.config.csrThreshold,
      },
    };
  } finally {
    model.dispose();
  }
}

export async function exportCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(EXPORT, argv);
  const dir = args.flags.get('checkpoint')!;
  const out = args.flags.get('out')!;
  const csrThreshold = numberFlag(args, 'csr_threshold', DEFAULT_CSR_THRESHOLD);
  const { bytes, summary } = exportRun(dir, { csrThreshold });
  writeFileSync(out, bytes);
  console.log(JSON.stringify({ out, ...summary }));
}
