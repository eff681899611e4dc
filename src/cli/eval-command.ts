/**
 * `sparsecast eval --checkpoint DIR [--data PATH]` scores a trained run's model file on the test split of its
 * training file, or of PATH (same JSON line as train); `sparsecast predict --checkpoint DIR --data PATH --out
 * forecast.csv` forecasts the pred_len steps after the file's last row, de-normalised, with their dates. Both
 * take the file's columns by name (the trained names in config.json) and normalise with the trained scaler.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs } from './flags.ts';
import type { ParsedArgs } from './args.ts';
import { EVAL, PREDICT } from './commands.ts';
import { initBackend, threadsFlag, threadsIgnoredWarning } from './backends.ts';
import { loadRun, readRunConfig } from '../run/load-run.ts';
import type { RunForecaster } from '../run/run-forecaster.ts';
import type { SavedRunConfig } from '../run/saved-run.ts';
import { parseCsvBytes } from '../data/csv.ts';
import type { Batch, ForecastDataset } from '../data/forecast-dataset.ts';
import { resultJson, sparseExecutionTimes, type ResultFields, type RunLabels, type TimedWorkloads } from './train-command.ts';
import { assertFiniteMetrics } from './result-check.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { naiveRepeatLast } from '../train/baseline.ts';
import { batchShape, gradientsDropped } from '../train/forecast-loss.ts';
import { toEpochMs } from '../data/time-features.ts';
import { exitOnInterrupt } from './interrupt.ts';
import { yieldToEventLoop } from '../backend/yield.ts';
import { warn } from './warn.ts';
import { checkOutFile } from './run-records.ts';
import { csvRow } from '../data/csv-row.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';
import { float32Text } from '../data/float32-text.ts';

/** Warnings of the data readers go to stderr, one line each, so stdout keeps its one JSON line. */

/** A setting `sparsecast train` records in config.json (a library-saved run may lack it). */
function recorded<T>(config: SavedRunConfig, key: string, ok: (v: unknown) => boolean): T | undefined {
  const v = config[key];
  return v !== undefined && ok(v) ? (v as T) : undefined;
}

/** `--backend` / `--threads`, else the run's recorded ones (wasm, one thread by default), initialised. */
async function initRunBackend(args: ParsedArgs, config: SavedRunConfig): Promise<string> {
  const backend = args.flags.get('backend') ?? recorded<string>(config, 'backend', (v) => typeof v === 'string') ?? 'wasm';
  const threads = args.flags.has('threads') ? threadsFlag(args) : recorded<number>(config, 'threads', Number.isInteger);
  // The backend may be the run's recorded one, so this is known only here, not in the flag table's rules.
  const ignored = threadsIgnoredWarning(args, backend);
  if (ignored) warn(ignored);
  await initBackend(backend, { threads });
  return backend;
}

/**
 * The run's training record for the JSON line: the figures train printed (result.json), else what its last
 * checkpoint recorded; none for a run saved without either (a library `saveRun`, an import).
 */
function trainingRecord(dir: string): ResultFields['training'] {
  const result = join(dir, 'result.json');
  if (existsSync(result)) {
    const r = JSON.parse(readFileSync(result, 'utf8')) as Record<string, unknown>;
    if (typeof r.epochs_run === 'number' && typeof r.train_seconds === 'number') {
      return {
        epochsRun: r.epochs_run, trainSeconds: r.train_seconds, bestVal: typeof r.best_val === 'number' ? r.best_val : NaN,
        controllerSeconds: typeof r.controller_seconds === 'number' ? r.controller_seconds : undefined,
      };
    }
  }
  const ckpt = join(dir, 'checkpoint.safetensors');
  if (!existsSync(ckpt)) return undefined;
  const state = loadCheckpoint(ckpt).state as { history?: unknown[]; trainSeconds?: number; bestVal?: number };
  return { epochsRun: state.history?.length ?? 0, trainSeconds: state.trainSeconds ?? 0, bestVal: state.bestVal ?? NaN };
}

/**
 * A loaded run's timed workloads for sparseExecutionTimes: its forecasts, and a training pass (forward and
 * backward in train mode, gradients dropped) of the same model — what a step of fine-tuning it would cost.
 */
function runWorkloads(run: RunForecaster, ds: ForecastDataset): TimedWorkloads {
  const shape = batchShape(ds);
  return {
    sparseExec: run.sparseExecution,
    predict: (b: Batch) => run.predict(b),
    lossAndGradients: (b: Batch) => {
      run.model.train();
      try {
        gradientsDropped(run.model, b, shape);
      } finally {
        run.model.eval();
      }
    },
  };
}

export async function evalCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(EVAL, argv);
  const dir = args.flags.get('checkpoint')!;
  // The saved run → forecaster (src/run/load-run.ts, the library's loader, as predict and export use it): the
  // model, its masks and the trained scaler; no training data set, sparsity controller or Trainer.
  const config = readRunConfig(dir);
  const interrupt = exitOnInterrupt('eval');
  const batchSize = recorded<number>(config, 'batchSize', Number.isInteger) ?? 32;
  // The test split of the given file (TSLib's borders for the run's data kind), else of the training file;
  // the JSON line's `data` names the file scored.
  const data = args.flags.get('data') ?? recorded<string>(config, 'data', (v) => typeof v === 'string');
  if (!data) throw new Error(`sparsecast eval: ${join(dir, 'config.json')} records no data file; pass --data FILE`);
  process.stderr.write(`eval: scoring ${dir} on the test split of ${data}\n`);
  const backend = await initRunBackend(args, config);
  const run = loadRun(dir);
  try {
    const table = parseCsvBytes(readFileSync(data), { file: data, onWarning: warn });
    const ds = run.dataset(table, { purpose: 'eval', file: data, batchSize, strictDates: args.switches.has('strict_dates'), onWarning: warn });
    const inverse = args.switches.has('inverse');
    const test = (await run.evaluate(ds, { batchSize, inverse })).metrics;
    const sparse = config.sparse as { method?: unknown } | undefined;
    const valBatches = recorded<number>(config, 'valBatches', Number.isInteger);
    const json = {
      ...resultJson({
        model: run.info.model, data, predLen: run.config.predLen, backend,
        method: typeof sparse?.method === 'string' ? sparse.method : run.masks.size ? 'masked' : 'dense',
        test, naive: naiveRepeatLast(ds, batchSize, inverse), inverse, accounting: run.accounting(), flops: run.flops(),
        training: trainingRecord(dir), valBatches, labels: recorded<RunLabels>(config, 'labels', (v) => typeof v === 'object' && v !== null),
      }),
      // The file's test windows stand in for training batches in the step timing: only their shape matters,
      // and a file given with --data need not hold the run's training rows.
      ...(await sparseExecutionTimes(runWorkloads(run, ds), ds, batchSize, 'test')),
    };
    interrupt.dispose();
    console.log(JSON.stringify(json));
    assertFiniteMetrics('sparsecast eval', json);
  } finally {
    run.dispose();
  }
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
  checkOutFile('predict', 'out', out, dir);
  const config = readRunConfig(dir);
  const interrupt = exitOnInterrupt('predict');
  process.stderr.write(`predict: forecasting the end of ${data} with ${dir}\n`);
  // The saved run → forecaster (src/run/load-run.ts, the library's loader): no training data set, controller or
  // Trainer, only the model, its masks and the trained scaler. The file needs seq_len rows; they are its last.
  await initRunBackend(args, config);
  const run = loadRun(dir);
  try {
    const table = parseCsvBytes(readFileSync(data), { file: data, onWarning: warn });
    const ds = run.dataset(table, { purpose: 'predict', file: data, strictDates: args.switches.has('strict_dates'), onWarning: warn });
    const { values, times } = await run.forecastAfter(ds);
    await yieldToEventLoop(); // a signal that came during the forecast exits here, before the file is written
    const C = ds.columns.length;
    // Features MS train the last channel only (TSLib's f_dim = −1: the target, moved last for custom files; an
    // ETT file's last column): the model's other outputs are untrained, so only the scored column is written.
    const first = run.info.features === 'MS' ? C - 1 : 0;
    const lines = [csvRow(['date', ...ds.columns.slice(first)])];
    times.forEach((t, k) => lines.push(csvRow([formatDate(t), ...Array.from(values.subarray(k * C + first, (k + 1) * C), float32Text)])));
    writeFileAtomic(out, new TextEncoder().encode(`${lines.join('\n')}\n`));
    process.stderr.write(`predict: ${run.config.predLen} steps after ${formatDate(toEpochMs(ds.dates[ds.dates.length - 1]!))} → ${out}\n`);
  } finally {
    run.dispose();
  }
  interrupt.dispose();
}
