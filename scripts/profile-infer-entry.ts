/**
 * Where a forecast through the inference entry (`sparsecast/infer`, src/infer) spends its kernel time: the dense
 * small-preset Transformer exported as `sparsecast export` writes it, one ETTh1 test window (batch 1), wasm, one
 * thread — the entry's own forward (attention unfused: its kernel module leaves the fused kernel out for the
 * 60 kB budget). Median wall time of 300 unprofiled forecasts, then 300 with every kernel of the entry's backend
 * timed (src/backend/profiler.ts).
 *
 *   node --import tsx scripts/profile-infer-entry.ts
 *
 * Run from the sources, the entry shares the library's engine (installed, it is a bundle with its own): fine here,
 * where only the entry forecasts after it is loaded.
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/cli/backends.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsvBytes } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS } from '../src/models/index.ts';
import { RunForecaster, type RunInfo } from '../src/run/run-forecaster.ts';
import { exportModel } from '../src/run/export-model.ts';
import { loadForecaster } from '../src/infer/index.ts';
import { profileBackend } from '../src/backend/profiler.ts';
await initBackend('wasm');
const table = parseCsvBytes(readFileSync('data/ETTh1.csv'), { file: 'ETTh1.csv' });
const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1.csv' });
const cfg = defaultConfig(7, { ...PRESETS.small, seqLen: 96, labelLen: 48, predLen: 96, freq: 'h' });
const info: RunInfo = { model: 'Transformer', cfg, seed: 2020, features: 'M', target: 'OT', kind: 'ETTh', scaler: { mean: Array.from(ds.scaler.mean), std: Array.from(ds.scaler.std), columns: [...ds.columns] } };
const dense = new RunForecaster(info, engine.noGrad(() => createModel('Transformer', new Rng(2020), cfg)), new Map(), { sparseExecution: false });
const bytes = (await exportModel(dense)).bytes;
const f = await loadForecaster(bytes);
const s0 = ds.borders.test[0]; const C = 7;
const values = new Float32Array(96 * C);
for (let t = 0; t < 96; t++) for (let c = 0; c < C; c++) values[t * C + c] = ds.data[(s0 + t) * C + c]! * ds.scaler.std[c]! + ds.scaler.mean[c]!;
const window = { values, dates: Array.from({ length: 96 }, (_, t) => table.dates[s0 + t]!) };
for (let i = 0; i < 50; i++) f.forecast(window);
const N = 300;
const wall: number[] = [];
for (let i = 0; i < N; i++) { const t0 = performance.now(); f.forecast(window); wall.push(performance.now() - t0); }
const p = profileBackend(engine.backend);
let pw = 0;
for (let i = 0; i < N; i++) { const t0 = performance.now(); f.forecast(window); pw += performance.now() - t0; }
p.restore();
const rows = [...p.stats].sort((a, b) => b[1].ms - a[1].ms);
let tot = 0; for (const [, s] of rows) tot += s.ms;
wall.sort((a, b) => a - b);
console.log('wall median', wall[N >> 1]!.toFixed(3), 'profiled mean', (pw / N).toFixed(3), 'kernel mean', (tot / N).toFixed(3));
for (const [k, s] of rows) console.log(k.padEnd(22), (s.calls / N).toFixed(0).padStart(4), (s.ms / N).toFixed(4), ((100 * s.ms) / tot).toFixed(1) + '%');
