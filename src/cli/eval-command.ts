/**
 * `sparsecast eval --checkpoint DIR` re-scores a trained run's model file on its test split (same JSON line
 * as train); `sparsecast predict --checkpoint DIR --data PATH --out forecast.csv` forecasts the pred_len
 * steps after the file's last row, de-normalised, with their dates.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.ts';
import { threadsFlag } from './backends.ts';
import { buildRun, resultJson, sparseExecutionTimes, type RunParts, type RunSpec } from './train-command.ts';
import { readSafetensors } from '../io/safetensors.ts';
import { Trainer } from '../train/trainer.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { timeFeatures, toEpochMs, type CalendarTime } from '../data/time-features.ts';
import type { Scaler } from '../data/dataset.ts';
import type { Batch } from '../data/forecast-dataset.ts';
import { exitOnInterrupt } from './interrupt.ts';
import { yieldToEventLoop } from '../train/yield.ts';

interface SavedRun extends RunSpec {
  scaler: { mean: number[]; std: number[]; columns: string[] };
}

function readRun(dir: string): SavedRun {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`sparsecast: ${dir} has no config.json (is it a --out folder of sparsecast train?)`);
  return JSON.parse(readFileSync(path, 'utf8')) as SavedRun;
}

/** Load model.safetensors (TSLib keys, optional `mask.<name>`) into a built run. */
function loadModel(dir: string, parts: RunParts): void {
  const path = join(dir, 'model.safetensors');
  const file = readSafetensors(readFileSync(path), path);
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
  const args = parseArgs(argv);
  const dir = args.flags.get('checkpoint');
  if (!dir) throw new Error('sparsecast eval: --checkpoint DIR is required');
  const spec = readRun(dir);
  const interrupt = exitOnInterrupt('eval');
  process.stderr.write(`eval: scoring ${dir} on its test split\n`);
  if (args.flags.has('backend')) spec.backend = args.flags.get('backend')!;
  if (args.flags.has('threads')) spec.threads = threadsFlag(args);
  const parts = await buildRun(spec);
  loadModel(dir, parts);
  const trainer = new Trainer(parts.model, parts.ds, parts.modelRng, { ...spec, epochs: spec.epochs, controller: parts.controller });
  const test = (await trainer.evaluate('test')).metrics;
  const state = existsSync(join(dir, 'checkpoint.safetensors')) ? (loadCheckpoint(join(dir, 'checkpoint.safetensors')).state as { history?: unknown[]; trainSeconds?: number; bestVal?: number }) : {};
  console.log(JSON.stringify({
    ...resultJson(spec, parts, trainer, {
      test, epochsRun: state.history?.length ?? 0, trainSeconds: state.trainSeconds ?? 0, bestVal: state.bestVal ?? NaN,
    }),
    ...(await sparseExecutionTimes(trainer, parts.ds, spec.batchSize)),
  }));
  interrupt.dispose();
  trainer.dispose();
  parts.controller.dispose();
  parts.model.dispose();
}

function formatDate(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export async function predictCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const dir = args.flags.get('checkpoint');
  const data = args.flags.get('data');
  const out = args.flags.get('out') ?? 'forecast.csv';
  if (!dir || !data) throw new Error('sparsecast predict: --checkpoint DIR and --data PATH are required');
  const spec = readRun(dir);
  const interrupt = exitOnInterrupt('predict');
  process.stderr.write(`predict: forecasting the end of ${data} with ${dir}\n`);
  const scaler: Scaler = { mean: Float32Array.from(spec.scaler.mean), std: Float32Array.from(spec.scaler.std) };
  const parts = await buildRun(spec, data, scaler);
  loadModel(dir, parts);
  const { ds, cfg } = parts;
  const rows = ds.dates.length;
  if (rows < cfg.seqLen) throw new Error(`sparsecast predict: ${data} has ${rows} rows; the model needs seq_len = ${cfg.seqLen}`);
  const C = ds.channels;
  const F = ds.markDim;
  const last = toEpochMs(ds.dates[rows - 1]!);
  const step = last - toEpochMs(ds.dates[rows - 2]!);
  const future: CalendarTime[] = Array.from({ length: cfg.predLen }, (_, k) => {
    const d = new Date(last + (k + 1) * step);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  });
  const s = rows - cfg.seqLen;
  const yLen = cfg.labelLen + cfg.predLen;
  const batch: Batch = {
    size: 1,
    x: ds.data.slice(s * C, rows * C),
    xMark: ds.marks.slice(s * F, rows * F),
    y: new Float32Array(yLen * C),
    yMark: new Float32Array(yLen * F),
  };
  batch.y.set(ds.data.subarray((rows - cfg.labelLen) * C, rows * C));
  batch.yMark.set(ds.marks.subarray((rows - cfg.labelLen) * F, rows * F));
  batch.yMark.set(timeFeatures(future, cfg.freq).values, cfg.labelLen * F);
  const trainer = new Trainer(parts.model, ds, parts.modelRng, { ...spec, controller: parts.controller });
  const pred = ds.inverse(await trainer.predict(batch));
  await yieldToEventLoop(); // a signal that came during the forecast exits here, before the file is written
  const lines = [['date', ...ds.columns].join(',')];
  future.forEach((_, k) => lines.push([formatDate(last + (k + 1) * step), ...Array.from(pred.subarray(k * C, (k + 1) * C), (v) => String(+v.toPrecision(7)))].join(',')));
  writeFileSync(out, `${lines.join('\n')}\n`);
  process.stderr.write(`predict: ${cfg.predLen} steps after ${formatDate(last)} → ${out}\n`);
  interrupt.dispose();
  trainer.dispose();
  parts.controller.dispose();
  parts.model.dispose();
}
