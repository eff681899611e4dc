// A module Web Worker that trains a PALS forecaster on the CSV the page sends, reports its progress, and
// posts back a forecast and the `.sc` model file (for sparsecast/infer). The page:
//   const worker = new Worker(new URL('./browser-worker.js', import.meta.url), { type: 'module' });
//   worker.onmessage = (e) => console.log(e.data);
//   worker.postMessage({ csv: new Uint8Array(await (await fetch('ETTh1.csv')).arrayBuffer()), name: 'ETTh1.csv' });
import { setBackend, data, train, io } from 'sparsecast';

export type Reply =
  | { type: 'update'; step: number; decision: string; sparsity: number }
  | { type: 'epoch'; epoch: number; valLoss: number }
  | { type: 'done'; testMse: number; sparsity: number; forecast: Float32Array; model: Uint8Array }
  | { type: 'error'; message: string };
const post = (m: Reply, transfer: Transferable[] = []) => self.postMessage(m, { transfer });

self.onmessage = async (e: MessageEvent<{ csv: Uint8Array; name: string }>) => {
  try {
    await setBackend('wasm'); // or 'webgpu' (navigator.gpu); results need no file system either way
    const table = data.parseCsvBytes(e.data.csv, { file: e.data.name });
    const ds = new data.ForecastDataset(table, {
      kind: data.inferKind(e.data.name), features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 24, freq: 'h', file: e.data.name,
    });
    const { forecaster, result } = await train.fit({
      model: 'Transformer', data: ds, method: 'pals', sparse: { updateFrequency: 10 }, valBatches: 4, epochTest: false,
      config: { dModel: 16, nHeads: 2, dFf: 32 }, epochs: 1, maxTrainBatches: 20, learningRate: 1e-3,
      onUpdate: (u) => post({ type: 'update', step: u.step, decision: u.decision, sparsity: u.sparsity }),
      onEpoch: (log) => post({ type: 'epoch', epoch: log.epoch, valLoss: log.val_loss }),
    });
    const last = { values: table.values.slice(-96 * table.cols), dates: table.dates.slice(-96) };
    const forecast = await forecaster.forecast(last);
    const { bytes } = await io.exportModel(forecaster); // in memory: the worker has no files
    const sparsity = forecaster.accounting().sparsity;
    forecaster.dispose();
    post({ type: 'done', testMse: result.test.mse, sparsity, forecast, model: bytes }, [bytes.buffer as ArrayBuffer, forecast.buffer as ArrayBuffer]);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
