// Train a PALS-sparse Transformer on a CSV, evaluate it, save and export it, and forecast with sparsecast/infer.
import { readFileSync, writeFileSync } from 'node:fs';
import { setBackend, data, train, io } from 'sparsecast';
import { loadForecaster } from 'sparsecast/infer';

await setBackend('wasm');
const file = 'data/ETTh1.csv';
const table = data.parseCsvBytes(readFileSync(file), { file });
const ds = new data.ForecastDataset(table, {
  kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 24, freq: 'h', file,
});
// A quick run: a narrow model, 40 steps. Drop maxTrainBatches and the config for the CLI's small preset.
const { forecaster, result } = await train.fit({
  model: 'Transformer', data: ds, method: 'pals', sparse: { updateFrequency: 10 }, valBatches: 4,
  config: { dModel: 16, nHeads: 2, dFf: 32 }, epochs: 2, maxTrainBatches: 20, learningRate: 1e-3,
  onUpdate: (u) => console.log(`step ${u.step}: ${u.decision}, sparsity ${u.sparsity.toFixed(3)}`),
});
const test = await forecaster.evaluate(ds); // the test split, normalised values ({ inverse: true }: the data's units)
console.log(`test MSE ${test.metrics.mse.toFixed(4)} (fit: ${result.test.mse.toFixed(4)}), sparsity ${forecaster.accounting().sparsity.toFixed(3)}`);

await io.saveRun('runs/pals', forecaster); // config.json + model.safetensors: io.loadRun, sparsecast eval/predict/export
const { bytes, summary } = await io.exportModel(forecaster);
writeFileSync('model.sc', bytes); // for sparsecast/infer: Node, Deno, browsers, edge workers
console.log(`model.sc: ${summary.bytes} bytes, ${summary.csr} CSR layers`);

const seqLen = 96;
const C = table.cols; // ETTh1: the file's column order is the model's
const window = { values: table.values.slice((table.rows - seqLen) * C), dates: table.dates.slice(-seqLen) };
const mine = await forecaster.forecast(window); // [predLen × C], raw units, from the trained model
forecaster.dispose();
const f = await loadForecaster(bytes); // the edge path: the .sc file alone
const y = f.forecast(window);
console.log(`next hour's OT: ${y[C - 1]!.toFixed(3)} (before export: ${mine[C - 1]!.toFixed(3)})`);
