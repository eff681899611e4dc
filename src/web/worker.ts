/**
 * The demo's training worker: loads a shipped CSV, builds the model and sparse controller as the CLI does,
 * and trains one step at a time with the library's Trainer (trainStep / evaluate / predict), yielding to the
 * event loop between steps so progress messages flow and a stop request is seen. No checkpoint files (the
 * worker has no file system); the page downloads the weights through the export message.
 */
import { columnAxisLabel } from '../data/column-units.ts';
import { intervalText, samplingInterval } from '../data/sampling-interval.ts';
import '../tensor/tensor.ts';
import { engine } from '../tensor/engine.ts';
import type { Backend } from '../backend/kernels.ts';
import { createJsBackend } from '../backend/js/backend.ts';
import { createWasmBackend } from '../backend/wasm/backend.ts';
import { Rng } from '../tensor/random.ts';
import { parseCsvBytes } from '../data/csv.ts';
import { ForecastDataset } from '../data/forecast-dataset.ts';
import { inferKind } from '../data/dataset.ts';
import { createModel, defaultConfig, type ForecastConfig, type ModelName } from '../models/index.ts';
import { Trainer } from '../train/trainer.ts';
import type { Forecaster } from '../models/forecaster.ts';
import { adjustedLearningRate } from '../train/lr-schedule.ts';
import { createController, DEFAULT_SPARSE } from '../sparse/methods.ts';
import { layerDensities, type SparseStepContext, type SparsityController } from '../sparse/controller.ts';
import { exportModel as exportTrained } from '../run/export-model.ts';
import type { RunInfo } from '../run/run-forecaster.ts';
import { PRESET_SIZES, type BackendChoice, type FromWorker, type RunConfig, type SparsityPoint, type ToWorker } from './protocol.ts';

interface WorkerScope {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  location: { href: string };
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer?: Transferable[]): void => scope.postMessage(m, transfer);

// Yield to the event loop (a macrotask, so incoming messages are handled) without timer clamping.
const channel = new MessageChannel();
const waiting: Array<() => void> = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldNow = (): Promise<void> => new Promise((resolve) => {
  waiting.push(resolve);
  channel.port2.postMessage(0);
});

interface Current {
  config: RunConfig;
  ds: ForecastDataset;
  cfg: ForecastConfig;
  model: Forecaster;
  controller: SparsityController;
  trainer: Trainer;
  step: number;
}

let current: Current | null = null;
let running = false;
let stopRequested = false;
/** The test window the page shows (its forecast is refreshed during training and after each epoch). */
let forecastWindow = 0;
let gpuProbe: { adapter: string | null; why: string } | null = null;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

type GpuBackend = Backend & { rt: { description: string } };
let gpuBackend: GpuBackend | null = null;

/**
 * WebGPU when an adapter exists (auto: a hardware adapter only), else wasm
 * (or js on request); says which, the adapter, and why.
 */
async function selectBackend(config: RunConfig): Promise<{ backend: string; adapter: string | null; note: string }> {
  const pref: BackendChoice = config.backend;
  if (!engine.hasBackend('js')) engine.registerBackend(createJsBackend());
  let note = '';
  if (pref === 'auto' || pref === 'webgpu') {
    if (!gpuProbe) {
      try {
        const mod = await import('../backend/webgpu/backend.ts');
        gpuBackend = await mod.createWebGpuBackend({ tuneMatmul: false });
        gpuProbe = { adapter: gpuBackend.rt.description, why: '' };
      } catch (e) {
        gpuProbe = { adapter: null, why: message(e) };
      }
    }
    const software = gpuProbe.adapter !== null && /swiftshader|llvmpipe|lavapipe/i.test(gpuProbe.adapter);
    if (gpuProbe.adapter === null || !gpuBackend) note = `WebGPU unavailable (${gpuProbe.why}): training on wasm.`;
    else if (pref === 'auto' && software) note = 'WebGPU adapter is a software renderer, slower than the wasm SIMD kernels: training on wasm (choose backend webgpu to use it anyway).';
    else {
      if (!engine.hasBackend('webgpu')) engine.registerBackend(gpuBackend);
      engine.useBackend('webgpu');
      return { backend: 'webgpu', adapter: gpuProbe.adapter, note: 'training on WebGPU (asynchronous reads)' };
    }
  }
  if (pref === 'js') {
    engine.useBackend('js');
    return { backend: 'js', adapter: gpuProbe?.adapter ?? null, note: note || 'js backend (reference kernels), as requested' };
  }
  // Kernel threads when the page is cross-origin isolated (the demo server sends COOP/COEP): up to 4, one per
  // core; otherwise one thread. Results are bit-identical either way.
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const threads = g.crossOriginIsolated ? Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1)) : 1;
  if (!engine.hasBackend('wasm')) engine.registerBackend(await createWasmBackend({ threads }));
  engine.useBackend('wasm');
  const how = threads > 1 ? `wasm SIMD kernels on ${threads} threads` : 'wasm SIMD kernels';
  return { backend: 'wasm', adapter: gpuProbe?.adapter ?? null, note: note ? `${note} (${how})` : `${how}, as requested` };
}

// One user of the model at a time: a forecast or export request arriving while an asynchronous step awaits
// its read must not switch the model to eval mode under it.
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => T | Promise<T>): Promise<T> {
  const p = chain.then(fn);
  chain = p.catch(() => undefined);
  return p;
}

function disposeCurrent(): void {
  if (!current) return;
  current.controller.dispose();
  current.trainer.dispose();
  current.model.dispose();
  current = null;
}

function sparsityPoint(c: Current, decision: string | null, valLoss: number | null): SparsityPoint {
  const m = c.controller.masking!;
  return { step: c.step, sparsity: m.sparsity(), decision, val_loss: valLoss, layers: layerDensities(m) };
}

/** Forecast of the target (last) channel for one test window, in the data's units. */
async function forecast(c: Current, window: number): Promise<void> {
  const n = c.ds.count('test');
  const id = Math.max(0, Math.min(n - 1, Math.floor(window)));
  const { seqLen, labelLen, predLen } = c.ds.opts;
  const C = c.ds.channels;
  const b = c.ds.batch('test', [id]);
  const pred = await serial(() => c.trainer.predict(b));
  const unscale = (v: number) => v * c.ds.scaler.std[C - 1]! + c.ds.scaler.mean[C - 1]!;
  const column = c.ds.columns[C - 1]!;
  // The same axis labels as the CLI's forecast plots (src/cli/forecast-plots.ts): the unit of each axis stated.
  const every = samplingInterval(c.ds.dates);
  post({
    type: 'forecast',
    view: {
      window: id, column, seqLen, step: c.step,
      yLabel: columnAxisLabel(c.ds.opts.file, column),
      xLabel: every === null ? 'time step' : `time step (1 step = ${intervalText(every)})`,
      history: Array.from({ length: seqLen }, (_, t) => unscale(b.x[t * C + C - 1]!)),
      truth: Array.from({ length: predLen }, (_, t) => unscale(b.y[(labelLen + t) * C + C - 1]!)),
      forecast: Array.from({ length: predLen }, (_, t) => unscale(pred[t * C + C - 1]!)),
    },
  });
}

async function run(config: RunConfig): Promise<void> {
  disposeCurrent();
  stopRequested = false;
  const chosen = await selectBackend(config);
  post({ type: 'backend', ...chosen });
  const res = await fetch(new URL(`data/${config.dataset}`, scope.location.href));
  if (!res.ok) throw new Error(`could not load data/${config.dataset}: HTTP ${res.status}`);
  // The CLI's reading rules (BOM, UTF-8 else Latin-1, dates kept in file order); warnings to the console.
  const table = parseCsvBytes(new Uint8Array(await res.arrayBuffer()), { file: config.dataset, requireColumn: 'OT', onWarning: (m) => console.warn(m) });
  const P = PRESET_SIZES[config.preset];
  const ds = new ForecastDataset(table, {
    kind: inferKind(config.dataset), features: 'M', target: 'OT', seqLen: P.seqLen, labelLen: P.labelLen, predLen: P.predLen, freq: 'h', file: config.dataset,
    batchSize: P.batchSize, onWarning: (m) => console.warn(m),
  });
  const cfg = defaultConfig(ds.channels, {
    seqLen: P.seqLen, labelLen: P.labelLen, predLen: P.predLen, dModel: P.dModel, nHeads: P.nHeads, eLayers: P.eLayers,
    dLayers: P.dLayers, dFf: P.dFf, dropout: P.dropout, modes: P.modes, pHiddenDims: P.pHiddenDims,
  });
  const modelRng = new Rng(config.seed);
  const model = createModel(config.model, modelRng, cfg);
  const sparseRng = new Rng(config.seed + 4 * 2 ** 32);
  const controller = createController(model, { ...DEFAULT_SPARSE, method: config.method, updateFrequency: config.updateFreq }, sparseRng);
  const trainer = new Trainer(model, ds, modelRng, {
    epochs: config.epochs, patience: config.epochs, batchSize: P.batchSize, learningRate: config.learningRate, lradj: 'type1',
    seed: config.seed, controller, sparseRng, valBatches: config.valBatches,
    onUpdate: (rec) => post({ type: 'sparsity', point: { step: rec.step, sparsity: rec.sparsity, decision: rec.decision, val_loss: rec.val_loss, layers: rec.layers } }),
  });
  const c: Current = current = { config, ds, cfg, model, controller, trainer, step: 0 };
  const dataRng = new Rng(config.seed + 2 ** 32);
  const firstBatches = ds.batches('train', P.batchSize, new Rng(config.seed + 2 ** 32)).length;
  const itersPerEpoch = Math.min(firstBatches, config.stepsPerEpoch);
  post({
    type: 'ready',
    info: {
      dataset: config.dataset, model: config.model, method: controller.method, channels: ds.channels, columns: ds.columns,
      testWindows: ds.count('test'), params: controller.masking!.denseParams, itersPerEpoch, seqLen: P.seqLen, predLen: P.predLen,
    },
  });
  post({ type: 'sparsity', point: sparsityPoint(c, null, null) });
  forecastWindow = config.window;
  await forecast(c, forecastWindow);
  for (let epoch = 1; epoch <= config.epochs && !stopRequested; epoch++) {
    const t0 = performance.now();
    const batches = ds.batches('train', P.batchSize, dataRng).slice(0, config.stepsPerEpoch);
    let sum = 0;
    let done = 0;
    for (const ids of batches) {
      await yieldNow();
      if (stopRequested) break;
      const ts = performance.now();
      const ctx: SparseStepContext = {
        step: c.step + 1, epoch, itersPerEpoch: batches.length, totalEpochs: config.epochs,
        validate: async () => (await trainer.evaluate('val', config.valBatches)).loss,
        momentum: (p) => {
          const i = trainer.adam.params.indexOf(p);
          return i >= 0 ? trainer.adam.m[i]! : null;
        },
      };
      const b = ds.batch('train', ids);
      const loss = await serial(() => trainer.trainStep(b, ctx));
      if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${c.step + 1}; lower the learning rate`);
      c.step++;
      done++;
      sum += loss;
      post({ type: 'step', step: c.step, epoch, loss, ms: performance.now() - ts });
      if (c.step % 25 === 0) await forecast(c, forecastWindow);
    }
    if (done === 0) break;
    await yieldNow();
    const [val, test] = await serial(async () => [await trainer.evaluate('val', config.valBatches), await trainer.evaluate('test', config.valBatches)]);
    post({
      type: 'epoch', step: c.step,
      log: { epoch, train_loss: sum / done, val_loss: val.loss, test_loss: test.loss, lr: trainer.adam.lr, seconds: (performance.now() - t0) / 1000 },
    });
    post({ type: 'sparsity', point: sparsityPoint(c, null, val.loss) });
    await forecast(c, forecastWindow);
    const next = adjustedLearningRate('type1', config.learningRate, epoch);
    if (next !== null) trainer.adam.lr = next;
  }
  post({ type: 'done', reason: stopRequested ? 'stopped' : 'finished', steps: c.step });
}

/**
 * The trained model as one sparsecast model file (src/io/model-file.ts: config, scaler, time features and
 * weights, sparse layers below the CSR threshold stored as CSR), ready for the inference entry: the library's
 * `exportModel`, as `sparsecast export` writes it.
 */
async function exportModel(c: Current): Promise<void> {
  const masks = new Map(c.controller.method === 'dense' ? [] : c.controller.masking!.layers.map((l) => [l.name, l.mask] as const));
  const info: RunInfo = {
    model: c.config.model as ModelName, cfg: c.cfg, seed: c.config.seed, features: 'M', target: 'OT',
    scaler: { mean: Array.from(c.ds.scaler.mean), std: Array.from(c.ds.scaler.std), columns: c.ds.columns },
  };
  const { bytes } = await exportTrained({ info, model: c.model, masks });
  const name = `${c.config.model}_${c.config.dataset.replace(/\.csv$/, '')}_${c.controller.method}.sc`;
  post({
    type: 'exported',
    note: `sparsecast model file, ${(bytes.length / 1024).toFixed(1)} KiB, after ${c.step} steps`,
    files: [{ name, mime: 'application/octet-stream', bytes }],
  }, [bytes.buffer as ArrayBuffer]);
}

const report = (err: unknown) => post({ type: 'error', message: message(err) });

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'start') {
    if (running) return;
    running = true;
    run(m.config).catch(report).finally(() => {
      running = false;
    });
  } else if (m.type === 'stop') {
    stopRequested = true;
  } else if (m.type === 'forecast') {
    forecastWindow = m.window;
    if (current) forecast(current, m.window).catch(report);
  } else if (m.type === 'export') {
    if (!current) report(new Error('nothing to export yet: train a model first'));
    else {
      const c = current;
      serial(() => exportModel(c)).catch(report);
    }
  }
};
