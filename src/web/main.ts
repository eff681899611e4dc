/**
 * The demo page: wires the controls to the training worker and redraws the four charts (loss, sparsity with
 * decisions, forecast vs truth, per-layer density) from its progress messages, at most every 150 ms.
 */
import { curveSvg, densityBarsSvg, forecastSvg, placeholderSvg, sparsityChartSvg } from './charts.ts';
import { titled } from '../plot/ticks.ts';
import {
  DATASETS, DEMO_METHODS, DEMO_MODELS, type BackendChoice, type ForecastView, type FromWorker, type Preset, type RunConfig, type SparsityPoint, type ToWorker,
} from './protocol.ts';
import type { EpochLog } from '../train/trainer.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from the page`);
  return el as T;
};

const METHOD_LABELS: Record<string, string> = { dense: 'dense', pals: 'PALS', granet: 'GraNet', rigl: 'RigL', set: 'SET' };

function fill(select: HTMLSelectElement, values: readonly string[], labels: Record<string, string> = {}, selected?: string): void {
  for (const v of values) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = labels[v] ?? v;
    if (v === selected) o.selected = true;
    select.append(o);
  }
}

const ui = {
  dataset: $<HTMLSelectElement>('dataset'),
  model: $<HTMLSelectElement>('model'),
  preset: $<HTMLSelectElement>('preset'),
  method: $<HTMLSelectElement>('method'),
  backend: $<HTMLSelectElement>('backend'),
  epochs: $<HTMLInputElement>('epochs'),
  steps: $<HTMLInputElement>('steps'),
  lr: $<HTMLInputElement>('lr'),
  updateFreq: $<HTMLInputElement>('update-freq'),
  valBatches: $<HTMLInputElement>('val-batches'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  export: $<HTMLButtonElement>('export'),
  status: $('status'),
  backendName: $('backend-name'),
  adapter: $('adapter'),
  backendNote: $('backend-note'),
  window: $<HTMLInputElement>('window'),
  windowLabel: $('window-label'),
  loss: $('loss-chart'),
  sparsity: $('sparsity-chart'),
  forecast: $('forecast-chart'),
  density: $('density-chart'),
};
fill(ui.dataset, DATASETS);
fill(ui.model, DEMO_MODELS, {}, 'Transformer');
fill(ui.method, DEMO_METHODS, METHOD_LABELS, 'pals');

// Sensible defaults per preset (the tiny one trains in seconds even on the js backend).
ui.preset.addEventListener('change', () => {
  const tiny = ui.preset.value === 'tiny';
  ui.steps.value = tiny ? '20' : '40';
  ui.updateFreq.value = tiny ? '4' : '10';
  ui.valBatches.value = tiny ? '2' : '4';
});

interface State {
  steps: { step: number; loss: number }[];
  epochs: { step: number; log: EpochLog }[];
  sparsity: SparsityPoint[];
  layers: Record<string, number>;
  forecast: ForecastView | null;
  title: string;
  msPerStep: number;
}
let state: State = fresh();
function fresh(): State {
  return { steps: [], epochs: [], sparsity: [], layers: {}, forecast: null, title: '', msPerStep: 0 };
}
/** The data behind the charts, for the console and the end-to-end test (read-only use). */
(window as unknown as { sparsecastDemo: { state: () => State } }).sparsecastDemo = { state: () => state };

let dirty = false;
function schedule(): void {
  if (dirty) return;
  dirty = true;
  setTimeout(() => {
    dirty = false;
    render();
  }, 150);
}

/** At most ~600 points per curve: mean over consecutive steps. */
function thin(points: { step: number; loss: number }[]): { x: number[]; y: number[] } {
  const k = Math.max(1, Math.ceil(points.length / 600));
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < points.length; i += k) {
    const chunk = points.slice(i, i + k);
    x.push(chunk[chunk.length - 1]!.step);
    y.push(chunk.reduce((s, p) => s + p.loss, 0) / chunk.length);
  }
  return { x, y };
}

function render(): void {
  const s = state;
  const t = thin(s.steps);
  ui.loss.innerHTML = curveSvg(titled(s.title, 'loss'), [
    { name: 'train (step)', values: t.y, x: t.x, color: '#1f77b4' },
    { name: 'train (epoch)', values: s.epochs.map((e) => e.log.train_loss), x: s.epochs.map((e) => e.step), color: '#17becf' },
    { name: 'val', values: s.epochs.map((e) => e.log.val_loss), x: s.epochs.map((e) => e.step), color: '#ff7f0e' },
    { name: 'test', values: s.epochs.map((e) => e.log.test_loss), x: s.epochs.map((e) => e.step), color: '#2ca02c', dashed: true },
  ], { xLabel: 'step', yLabel: 'MSE (normalised)', height: 300 });
  ui.sparsity.innerHTML = sparsityChartSvg(titled(s.title, 'sparsity'), s.sparsity);
  ui.density.innerHTML = densityBarsSvg('density per masked layer (latest)', s.layers);
  const f = s.forecast;
  ui.forecast.innerHTML = f
    ? forecastSvg(`test window ${f.window}, ${f.column} (step ${f.step})`, f.history, f.truth, f.forecast, { height: 300, yLabel: f.yLabel, xLabel: f.xLabel })
    : placeholderSvg('forecast vs truth', 'waiting for data…');
}

function setStatus(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', error);
}

function config(): RunConfig {
  const num = (el: HTMLInputElement, fallback: number) => (Number.isFinite(el.valueAsNumber) && el.valueAsNumber > 0 ? el.valueAsNumber : fallback);
  return {
    dataset: ui.dataset.value, model: ui.model.value, preset: ui.preset.value as Preset, method: ui.method.value,
    epochs: Math.round(num(ui.epochs, 3)), stepsPerEpoch: Math.round(num(ui.steps, 40)), valBatches: Math.round(num(ui.valBatches, 4)),
    learningRate: num(ui.lr, 1e-3), updateFreq: Math.round(num(ui.updateFreq, 10)), backend: ui.backend.value as BackendChoice,
    seed: 2020, window: Number(ui.window.value) || 0,
  };
}

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
let running = false;
let epochsTotal = 0;

function setRunning(on: boolean): void {
  running = on;
  ui.start.disabled = on;
  ui.stop.disabled = !on;
  for (const el of [ui.dataset, ui.model, ui.preset, ui.method, ui.backend, ui.epochs, ui.steps, ui.lr, ui.updateFreq, ui.valBatches]) el.disabled = on;
  document.body.dataset.running = on ? 'true' : 'false';
}

ui.start.addEventListener('click', () => {
  if (running) return;
  const c = config();
  state = fresh();
  state.title = `${c.model} · ${METHOD_LABELS[c.method] ?? c.method} · ${c.dataset.replace(/\.csv$/, '')}`;
  epochsTotal = c.epochs;
  render();
  setRunning(true);
  ui.export.disabled = true;
  setStatus('starting: loading data and backend…');
  send({ type: 'start', config: c });
});
ui.stop.addEventListener('click', () => {
  send({ type: 'stop' });
  setStatus('stopping after this step…');
});
ui.export.addEventListener('click', () => send({ type: 'export' }));
ui.window.addEventListener('input', () => {
  ui.windowLabel.textContent = ui.window.value;
});
ui.window.addEventListener('change', () => send({ type: 'forecast', window: Number(ui.window.value) }));

function download(name: string, mime: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'backend':
      ui.backendName.textContent = m.backend;
      ui.adapter.textContent = m.adapter ? `· adapter: ${m.adapter}` : '· no WebGPU adapter';
      ui.backendNote.textContent = `· ${m.note}`;
      document.body.dataset.backend = m.backend;
      break;
    case 'ready':
      ui.window.max = String(Math.max(0, m.info.testWindows - 1));
      ui.windowLabel.textContent = ui.window.value;
      setStatus(`${m.info.model} on ${m.info.dataset}: ${m.info.params.toLocaleString()} weights in masked layers, ${m.info.channels} channels, ${m.info.itersPerEpoch} steps per epoch, ${m.info.testWindows} test windows`);
      break;
    case 'step':
      state.steps.push({ step: m.step, loss: m.loss });
      state.msPerStep = state.msPerStep ? 0.9 * state.msPerStep + 0.1 * m.ms : m.ms;
      setStatus(`epoch ${m.epoch}/${epochsTotal} · step ${m.step} · loss ${m.loss.toFixed(4)} · ${state.msPerStep.toFixed(0)} ms/step`);
      schedule();
      break;
    case 'epoch':
      state.epochs.push({ step: m.step, log: m.log });
      schedule();
      break;
    case 'sparsity':
      state.sparsity.push(m.point);
      state.layers = m.point.layers;
      schedule();
      break;
    case 'forecast':
      state.forecast = m.view;
      ui.windowLabel.textContent = String(m.view.window);
      schedule();
      break;
    case 'done': {
      setRunning(false);
      ui.export.disabled = m.steps === 0;
      const last = state.epochs[state.epochs.length - 1]?.log;
      setStatus(`${m.reason} after ${m.steps} steps${last ? ` · val ${last.val_loss.toFixed(4)} · test ${last.test_loss.toFixed(4)}` : ''}`);
      document.body.dataset.done = String(m.steps);
      schedule();
      break;
    }
    case 'exported':
      for (const f of m.files) download(f.name, f.mime, f.bytes);
      setStatus(`exported ${m.files.map((f) => f.name).join(', ')} (${m.note})`);
      break;
    case 'error':
      setRunning(false);
      ui.export.disabled = state.steps.length === 0;
      setStatus(`error: ${m.message}`, true);
      break;
  }
};
worker.onerror = (e) => {
  setRunning(false);
  setStatus(`worker failed: ${e.message}`, true);
};

render();
