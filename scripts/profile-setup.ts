/**
 * The run both profiling scripts measure (profile-step.ts: a training step; profile-infer.ts: inference): the
 * wasm backend, ETTh1 with TSLib's windows (96 / 48 / 96), a model of the given preset from seed 2020, and a
 * Trainer around it — one place, so the two profiles always look at the same model and data.
 *
 * With `sparse`, every weight of rank ≥ 2 gets a static mask of that density and structure (the initial layouts
 * of src/sparse/structure.ts, as `bench sparsity --train` builds them) and the masked layers run through sparse
 * execution in the given mode (a forced format, or 'auto': per-layer trials, no whole-model guard), so the
 * profile shows where a sparse model's forward goes.
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/cli/backends.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsvBytes } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS } from '../src/models/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { Masking } from '../src/sparse/masking.ts';
import { enableSparseExecution, type ExecMode, type SparseExecution } from '../src/sparse/sparse-exec.ts';
import { structuredInitMask, UNSTRUCTURED, type StructureKind } from '../src/sparse/structure.ts';

export interface ProfiledSparsity {
  density: number;
  structure: StructureKind;
  mode: ExecMode;
}

export async function profiledRun(
  name: string, preset: 'small' | 'full', sparse?: ProfiledSparsity,
): Promise<{ ds: ForecastDataset; tr: Trainer; exec?: SparseExecution }> {
  await initBackend('wasm');
  const table = parseCsvBytes(readFileSync('data/ETTh1.csv'), { file: 'data/ETTh1.csv' });
  const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1' });
  const rng = new Rng(2020);
  const model = createModel(name, rng, defaultConfig(7, PRESETS[preset]));
  const tr = new Trainer(model, ds, rng, { epochs: 1, patience: 3, batchSize: 32, learningRate: 1e-4, lradj: 'type1', seed: 1 });
  if (!sparse) return { ds, tr };
  const shapes = new Map(model.namedParameters().map(([n, p]) => [n, p.shape]));
  const names = [...shapes].filter(([, sh]) => sh.length >= 2).map(([n]) => n);
  // structuredInitMask has no unstructured layout: a seeded random mask of the same density (fan_in's rule
  // with one row is a uniform draw over the whole weight).
  const structure = { ...UNSTRUCTURED, kind: sparse.structure };
  const masking = new Masking(model, new Map(names.map((n) => [n, sparse.density])), (n, size, d) => sparse.structure === 'unstructured'
    ? structuredInitMask({ ...structure, kind: 'fan_in' }, rng, [1, size], d)
    : structuredInitMask(structure, rng, shapes.get(n)!, d));
  masking.apply();
  const exec = enableSparseExecution(model, masking, { mode: sparse.mode });
  return { ds, tr, exec };
}
