/**
 * `npm run bench -- infer [--preset small|full] [--runs N] [--densities 0.5,0.1] [--structure unstructured,block]`: online forecasting — one window,
 * batch 1 — of the Transformer (ETTh1, seq 96 / label 48 / pred 96, 7 channels) through `sparsecast/infer`, the
 * entry a user deploys: the built bundle dist/infer.js when it exists (`npm run build`), else its source. In the
 * same run: the PyTorch peer's eval forward of one window under no_grad on one thread
 * (bench/peers/torch_transformer_step.py --infer; "unavailable" without torch), and the library's
 * RunForecaster.forecast of the same model (the training engine's forward, for comparison).
 *
 * The dense model has random weights from seed 2020 (speed does not depend on their values). `--densities` adds
 * the same model with static masks at each density (and each `--structure`) on every masked weight — unstructured,
 * or `block`: whole 4×4 blocks (the `block` encoding, which the entry runs through denseBsrT) — exported as
 * `sparsecast export` writes it (sparse kernels for the layers below the threshold), timed against the dense
 * file in the same rounds.
 *
 * One JSON line per (impl, density): {"bench":"infer","impl","preset","batch":1,"density","structure","ms","cpu_ms","runs",
 * "layers" (how the entry runs each stored weight, counted),"cpu"} — medians of `runs` (default 51) after a
 * warm-up; files' sizes in "file_bytes".
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsvBytes } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS } from '../src/models/index.ts';
import { RunForecaster, type RunInfo } from '../src/run/run-forecaster.ts';
import { exportModel } from '../src/run/export-model.ts';
import { cpuClock } from '../src/backend/timing.ts';
import type { Forecaster as InferForecaster, ForecastWindow } from '../src/infer/index.ts';
import { emit } from './stats.ts';
import { torchPeer } from './train.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Median wall and CPU ms of `runs` calls after `warmup`, the calls of several functions interleaved. */
function interleavedMedians(fns: (() => unknown)[], runs: number, warmup = 5): { ms: number; cpuMs: number }[] {
  for (let i = 0; i < warmup; i++) for (const f of fns) f();
  const wall = fns.map(() => [] as number[]);
  const cpu = fns.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    // The order rotates each round, so drift and other processes hit every function alike.
    for (let j = 0; j < fns.length; j++) {
      const i = (j + r) % fns.length;
      const t0 = performance.now();
      const c0 = cpuClock();
      fns[i]!();
      cpu[i]!.push(cpuClock() - c0);
      wall[i]!.push(performance.now() - t0);
    }
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return fns.map((_, i) => ({ ms: +med(wall[i]!).toFixed(3), cpuMs: +med(cpu[i]!).toFixed(3) }));
}

/**
 * Static masks at `density` on every masked weight (rank ≥ 2), from the seeded generator: that share of the
 * entries (unstructured), or of the 4×4 blocks the weight tiles into from its top-left corner (block; edge tiles
 * partial).
 */
function staticMasks(f: RunForecaster, density: number, rng: Rng, structure: 'unstructured' | 'block'): Map<string, Uint8Array> {
  const masks = new Map<string, Uint8Array>();
  for (const [name, p] of f.model.namedParameters()) {
    if (p.rank < 2) continue;
    const m = new Uint8Array(p.size);
    if (structure === 'block') {
      const cols = p.shape[p.rank - 1]!;
      const rows = p.size / cols;
      const nbc = Math.ceil(cols / 4);
      const nb = Math.ceil(rows / 4) * nbc;
      const order = rng.permutation(nb);
      for (let i = 0; i < Math.round(density * nb); i++) {
        const b = order[i]!;
        const r0 = Math.floor(b / nbc) * 4;
        const c0 = (b % nbc) * 4;
        for (let r = r0; r < Math.min(r0 + 4, rows); r++) for (let c = c0; c < Math.min(c0 + 4, cols); c++) m[r * cols + c] = 1;
      }
    } else {
      const order = rng.permutation(p.size);
      for (let i = 0; i < Math.round(density * p.size); i++) m[order[i]!] = 1;
    }
    masks.set(name, m);
  }
  return masks;
}

function countPaths(layers: ReadonlyMap<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of layers.values()) out[p] = (out[p] ?? 0) + 1;
  return out;
}

export async function benchInfer(opts: {
  json: boolean; preset?: 'small' | 'full'; runs?: number; densities?: number[]; structures?: Array<'unstructured' | 'block'>; peer?: boolean;
}): Promise<void> {
  const preset = opts.preset ?? 'small';
  const runs = opts.runs ?? 51;
  const cpu = cpus()[0]?.model ?? 'unknown';
  engine.useBackend('wasm');
  const table = parseCsvBytes(readFileSync(join(root, 'data', 'ETTh1.csv')), { file: 'ETTh1.csv' });
  const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1.csv' });
  const cfg = defaultConfig(ds.channels, { ...PRESETS[preset], seqLen: 96, labelLen: 48, predLen: 96, freq: 'h' });
  const info: RunInfo = {
    model: 'Transformer', cfg, seed: 2020, features: 'M', target: 'OT', kind: 'ETTh',
    scaler: { mean: Array.from(ds.scaler.mean), std: Array.from(ds.scaler.std), columns: [...ds.columns] },
  };
  // The first test window in raw units, as a caller of forecast() has it.
  const s0 = ds.borders.test[0];
  const C = ds.channels;
  const values = new Float32Array(96 * C);
  for (let t = 0; t < 96; t++) for (let c = 0; c < C; c++) values[t * C + c] = ds.data[(s0 + t) * C + c]! * ds.scaler.std[c]! + ds.scaler.mean[c]!;
  const window: ForecastWindow = { values, dates: Array.from({ length: 96 }, (_, t) => table.dates[s0 + t]!) };

  const bundle = join(root, 'dist', 'infer.js');
  const entry = existsSync(bundle) ? 'dist/infer.js' : 'src/infer/index.ts';
  const { loadForecaster } = (await import(pathToFileURL(join(root, entry)).href)) as typeof import('../src/infer/index.ts');

  const dense = new RunForecaster(info, engine.noGrad(() => createModel('Transformer', new Rng(2020), cfg)), new Map(), { sparseExecution: false });
  const files: { density: number; structure: string; bytes: Uint8Array; f: InferForecaster }[] = [];
  try {
    const denseBytes = (await exportModel(dense)).bytes;
    files.push({ density: 1, structure: 'dense', bytes: denseBytes, f: await loadForecaster(denseBytes) });
    for (const structure of opts.structures ?? ['unstructured']) {
      for (const d of opts.densities ?? []) {
        const masks = staticMasks(dense, d, new Rng(2020 + Math.round(d * 1000)), structure);
        const bytes = (await exportModel({ info, model: dense.model, masks })).bytes;
        files.push({ density: d, structure, bytes, f: await loadForecaster(bytes) });
      }
    }
    // The library's forecaster of the same dense model, with a promise per call: timed by the same clock.
    const lib = await (async () => {
      const t: number[] = [];
      for (let i = 0; i < 5; i++) await dense.forecast(window);
      for (let i = 0; i < Math.min(runs, 21); i++) {
        const t0 = performance.now();
        await dense.forecast(window);
        t.push(performance.now() - t0);
      }
      return +t.sort((a, b) => a - b)[t.length >> 1]!.toFixed(3);
    })();
    const times = interleavedMedians(files.map((x) => () => x.f.forecast(window)), runs);
    files.forEach((x, i) => emit(opts.json, {
      bench: 'infer', impl: `sparsecast-infer (${entry})`, model: 'Transformer', preset, batch: 1, density: x.density, structure: x.structure, ms: times[i]!.ms,
      cpu_ms: times[i]!.cpuMs, runs, file_bytes: x.bytes.length, layers: countPaths(x.f.layers), cpu,
    }));
    emit(opts.json, { bench: 'infer', impl: 'sparsecast-library (RunForecaster)', model: 'Transformer', preset, batch: 1, density: 1, ms: lib, runs: Math.min(runs, 21), cpu });
  } finally {
    for (const x of files) x.f.dispose();
    dense.dispose();
  }
  if (opts.peer !== false) torchPeer(opts.json, preset, ['--infer', String(runs)], 'infer');
}
