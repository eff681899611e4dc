/**
 * `sparsecast eval --checkpoint DIR [--data PATH]` scores a trained run's model file on the test split of its
 * training file, or of PATH (same JSON line as train); `sparsecast predict --checkpoint DIR --data PATH --out
 * forecast.csv` forecasts the pred_len steps after the file's last row, de-normalised, with their dates. Both
 * take the file's columns by name (the trained names in config.json) and normalise with the trained scaler.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs } from './flags.ts';
import { EVAL, PREDICT } from './commands.ts';
import { initBackend, threadsFlag } from './backends.ts';
import { loadRun } from '../run/load-run.ts';
import { parseCsvBytes } from '../data/csv.ts';
import { buildRun, resultJson, sparseExecutionTimes, type RunParts, type RunSpec, type TrainedData } from './train-command.ts';
import { readModelWeights } from '../io/model-weights.ts';
import { assertFiniteMetrics } from './result-check.ts';
import { Trainer } from '../train/trainer.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { timeFeatures, toEpochMs, type CalendarTime } from '../data/time-features.ts';
import type { Batch } from '../data/forecast-dataset.ts';
import { exitOnInterrupt } from './interrupt.ts';
import { yieldToEventLoop } from '../train/yield.ts';

interface SavedRun extends RunSpec {
  scaler: { mean: number[]; std: number[]; columns: string[] };
}

function readRun(dir: string): SavedRun {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`sparsecast: ${dir} has no config.json (is it a --out folder of sparsecast train?)`);
  const run = JSON.parse(readFileSync(path, 'utf8')) as SavedRun;
  if (!Array.isArray(run.scaler?.columns)) throw new Error(`${path}: no scaler.columns; the trained column names are needed to read a data file by name`);
  return run;
}

/** The trained scaler and column names (not refit on the file: the model learned these statistics). */
function trainedData(run: SavedRun, purpose: TrainedData['purpose']): TrainedData {
  return { scaler: { mean: Float32Array.from(run.scaler.mean), std: Float32Array.from(run.scaler.std) }, columns: run.scaler.columns, purpose };
}

/** `eval` and `predict`'s bare switches. */

/** Load model.safetensors (TSLib keys, optional `mask.<name>`) into a built run. */
function loadModel(dir: string, parts: RunParts): void {
  const path = join(dir, 'model.safetensors');
  const file = readModelWeights(path);
  const values = new Map<string, Float32Array>();
  const masks = new Map<string, Uint8Array>();
  for (const [k, t] of file.tensors) {
    if (k.startsWith('mask.')) masks.set(k.slice(5), t.data as Uint8Array);
    else {
      if (t.dtype !== 'F32') throw new Error(`${path}: tensor '${k}' is ${t.dtype}; model weights must be F32`);
      values.set(k, t.data as Float32Array);
    }
  }
  parts.model.loadStateDict(values);
  const m = parts.controller.masking;
  if (m) {
    for (const l of m.layers) if (!masks.has(l.name)) masks.set(l.name, new Uint8Array(l.param.size).fill(1));
    m.load(masks);
  }
}

export async function evalCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(EVAL, argv);
  const dir = args.flags.get('checkpoint')!;
  const run = readRun(dir);
  const interrupt = exitOnInterrupt('eval');
  if (args.flags.has('backend')) run.backend = args.flags.get('backend')!;
  if (args.flags.has('threads')) run.threads = threadsFlag(args);
  run.strictDates = args.switches.has('strict_dates');
  // The test split of the given file (TSLib's borders for the run's data kind), else of the training file;
  // the JSON line's `data` names the file scored.
  const spec: SavedRun = { ...run, data: args.flags.get('data') ?? run.data };
  process.stderr.write(`eval: scoring ${dir} on the test split of ${spec.data}\n`);
  const parts = await buildRun(spec, spec.data, trainedData(run, 'eval'));
  loadModel(dir, parts);
  const trainer = new Trainer(parts.model, parts.ds, parts.modelRng, { ...spec, epochs: spec.epochs, controller: parts.controller });
  const test = (await trainer.evaluate('test')).metrics;
  const state = existsSync(join(dir, 'checkpoint.safetensors')) ? (loadCheckpoint(join(dir, 'checkpoint.safetensors')).state as { history?: unknown[]; trainSeconds?: number; bestVal?: number }) : {};
  const json = {
    ...resultJson(spec, parts, trainer, {
      test, epochsRun: state.history?.length ?? 0, trainSeconds: state.trainSeconds ?? 0, bestVal: state.bestVal ?? NaN,
    }),
    ...(await sparseExecutionTimes(trainer, parts.ds, spec.batchSize)),
  };
  interrupt.dispose();
  console.log(JSON.stringify(json));
  trainer.dispose();
  parts.controller.dispose();
  parts.model.dispose();
  assertFiniteMetrics('sparsecast eval', json);
}

function formatDate(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export async function predictCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(PREDICT, argv);
  const dir = args.flags.get('checkpoint')!;
  const data = args.flags.get('data')!;
  const out = args.flags.get('out') ?? 'forecast.csv';
  const spec = readRun(dir);
  const interrupt = exitOnInterrupt('predict');
  process.stderr.write(`predict: forecasting the end of ${data} with ${dir}\n`);
  spec.strictDates = args.switches.has('strict_dates');
  if (args.flags.has('backend')) spec.backend = args.flags.get('backend')!;
  if (args.flags.has('threads')) spec.threads = threadsFlag(args);
  // The saved run → forecaster (src/run/load-run.ts, the library's loader): no training data set, controller or
  // Trainer, only the model, its masks and the trained scaler. The file needs seq_len rows; they are its last.
  await initBackend(spec.backend, { threads: spec.threads });
  const run = loadRun(dir);
  const warn = (message: string) => process.stderr.write(`warning: ${message}\n`);
  try {
    const table = parseCsvBytes(readFileSync(data), { file: data, onWarning: warn });
    const ds = run.dataset(table, { purpose: 'predict', file: data, strictDates: spec.strictDates, onWarning: warn });
    const { values, times } = await run.forecastAfter(ds);
    await yieldToEventLoop(); // a signal that came during the forecast exits here, before the file is written
    const C = ds.columns.length;
    const lines = [['date', ...ds.columns].join(',')];
    times.forEach((t, k) => lines.push([formatDate(t), ...Array.from(values.subarray(k * C, (k + 1) * C), (v) => String(+v.toPrecision(7)))].join(',')));
    writeFileSync(out, `${lines.join('\n')}\n`);
    process.stderr.write(`predict: ${run.config.predLen} steps after ${formatDate(toEpochMs(ds.dates[ds.dates.length - 1]!))} → ${out}\n`);
  } finally {
    run.dispose();
  }
  interrupt.dispose();
}
