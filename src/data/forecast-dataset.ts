/**
 * A forecasting data set as Time-Series-Library's Dataset_ETT_hour / Dataset_ETT_minute / Dataset_Custom
 * build it: column order (custom: date, others, target), features M / S / MS, StandardScaler fit on the
 * training rows, `timeF` marks, and windows per split. Batches are host arrays; the trainer uploads them.
 */
import type { CsvTable } from './csv.ts';
import { applyScaler, checkSplitSizes, fitScaler, splitBorders, type DataKind, type Scaler, type Split } from './dataset.ts';
import { checkDateOrder } from './date-order.ts';
import { checkDatasetOptions } from './dataset-options.ts';
import { parseDate, timeFeatures, toEpochMs, type CalendarTime } from './time-features.ts';
import type { Rng } from '../tensor/random.ts';
import { calendarFreqMismatch, medianGap } from './sampling-interval.ts';

export type Features = 'M' | 'S' | 'MS';

export interface DatasetOptions {
  kind: DataKind;
  features: Features;
  target: string;
  seqLen: number;
  labelLen: number;
  predLen: number;
  freq: string;
  /** Name for error messages. */
  file: string;
  /** Use these statistics instead of fitting on the training rows (a trained model's, for eval and predict). */
  scaler?: Scaler;
  /** Predicting after the file's end: no splits, every split is the whole file, and it needs seq_len rows. */
  whole?: boolean;
  /** Splits that must hold a window (or a batch, with batchSize); all three by default. */
  splits?: readonly Split[];
  /** When given, each checked split must hold one whole batch (the loaders drop the last partial one). */
  batchSize?: number;
  /** Refuse dates that repeat or go back instead of keeping them with a warning. */
  strictDates?: boolean;
  /** Where warnings go (the CLI prints them on stderr, the web worker on the console). */
  onWarning?: (message: string) => void;
}

export interface Batch {
  size: number;
  /** [B, seq, C] */
  x: Float32Array;
  /** [B, label + pred, C] */
  y: Float32Array;
  /** [B, seq, F] */
  xMark: Float32Array;
  /** [B, label + pred, F] */
  yMark: Float32Array;
}

/**
 * TSLib's decoder input for a batch: per window, the label_len known steps of y, then pred_len zeros
 * ([B, label + pred, C]; the model never sees the values it forecasts).
 */
export function decoderInput(b: Batch, labelLen: number, predLen: number, channels: number): Float32Array {
  const yLen = labelLen + predLen;
  const dec = new Float32Array(b.size * yLen * channels);
  for (let i = 0; i < b.size; i++) dec.set(b.y.subarray(i * yLen * channels, (i * yLen + labelLen) * channels), i * yLen * channels);
  return dec;
}

export class ForecastDataset {
  /** Scaled values [rows, channels] in model column order. */
  readonly data: Float32Array;
  readonly marks: Float32Array;
  readonly markDim: number;
  readonly channels: number;
  readonly columns: string[];
  readonly scaler: Scaler;
  readonly borders: Record<Split, [number, number]>;
  readonly dates: CalendarTime[];

  constructor(table: CsvTable, readonly opts: DatasetOptions) {
    checkDatasetOptions(opts);
    const { target, features } = opts;
    const names = table.header.slice(1);
    const targetIdx = names.indexOf(target);
    if (targetIdx < 0) throw new Error(`${opts.file}: --target '${target}' is not a column (columns: ${names.join(', ')})`);
    // TSLib column order: ETT files keep theirs; custom files move the target last.
    let order = names.map((_, i) => i);
    if (opts.kind === 'custom') order = [...order.filter((i) => i !== targetIdx), targetIdx];
    if (features === 'S') order = [targetIdx];
    this.columns = order.map((i) => names[i]!);
    // TSLib's Dataset_ETT keeps the file's column order and f_dim = −1 scores the last column whatever --target
    // says; custom files move the target last, so there the two agree.
    if (features === 'MS' && opts.kind !== 'custom' && targetIdx !== names.length - 1) {
      opts.onWarning?.(`${opts.file}: features MS on an ${opts.kind} file score its last column '${names[names.length - 1]}', as TSLib's Dataset_ETT does, not --target '${target}' (features S, or a custom-kind file, forecast '${target}')`);
    }
    this.channels = order.length;
    const raw = new Float64Array(table.rows * this.channels);
    for (let r = 0; r < table.rows; r++) {
      for (let c = 0; c < this.channels; c++) raw[r * this.channels + c] = table.values[r * table.cols + order[c]!]!;
    }
    // Before any work: a file without rows or too short for its splits is refused with what would fit.
    if (table.rows === 0) throw new Error(`${opts.file}: no data rows after the header`);
    if (opts.whole) {
      if (table.rows < opts.seqLen) {
        throw new Error(`${opts.file}: ${table.rows} data rows; forecasting after the file's end needs its last seq_len = ${opts.seqLen} rows`);
      }
    } else {
      checkSplitSizes(opts.file, opts.kind, table.rows, { seqLen: opts.seqLen, predLen: opts.predLen, batchSize: opts.batchSize }, opts.splits ?? ['train', 'val', 'test'], table.lines);
    }
    this.borders = opts.whole
      ? { train: [0, table.rows], val: [0, table.rows], test: [0, table.rows] }
      : splitBorders(opts.kind, table.rows, opts.seqLen);
    if (opts.scaler && opts.scaler.mean.length !== this.channels) {
      throw new Error(`${opts.file}: the model's scaler has ${opts.scaler.mean.length} channels, the data ${this.channels}`);
    }
    const [trainStart, trainEnd] = this.borders.train;
    this.scaler = opts.scaler ?? fitScaler(raw, this.channels, trainStart, trainEnd, (c, value) => opts.onWarning?.(
      `${opts.file}: column '${this.columns[c]}' is constant over the ${trainEnd - trainStart} training rows (${value}): it is centred and not scaled (std 1), as TSLib's StandardScaler leaves it, and gives the model nothing to learn from there`,
    ));
    this.data = applyScaler(raw, this.channels, this.scaler);
    this.dates = table.dates.map((d, i) => {
      const t = parseDate(d);
      // Without recorded lines: +2, one header line, and lines count from 1.
      const where = `${opts.file}:${table.lines?.[i] ?? i + 2}${table.dateColumns ? `:${table.dateColumns[i]}` : ''}`;
      if (!t) throw new Error(`${where}: column 'date': a date like 2016-07-01 00:00:00, 1990/1/1 0:00 or ISO 8601, found '${d}'`);
      return t;
    });
    const ms = this.dates.map(toEpochMs);
    const warning = checkDateOrder(opts.file, table, ms, opts.strictDates ?? false);
    if (warning) opts.onWarning?.(warning);
    const freqWarning = calendarFreqMismatch(opts.freq, medianGap(ms));
    if (freqWarning) opts.onWarning?.(`${opts.file}: ${freqWarning}`);
    const tf = timeFeatures(this.dates, opts.freq);
    this.marks = tf.values;
    this.markDim = tf.count;
  }

  /** Number of windows in a split: rows − seq_len − pred_len + 1. */
  count(split: Split): number {
    const [a, b] = this.borders[split];
    return Math.max(0, b - a - this.opts.seqLen - this.opts.predLen + 1);
  }

  /** Windows `ids` of a split as one batch. */
  batch(split: Split, ids: ArrayLike<number>): Batch {
    const { seqLen, labelLen, predLen } = this.opts;
    const C = this.channels;
    const F = this.markDim;
    const yLen = labelLen + predLen;
    const B = ids.length;
    const out: Batch = {
      size: B,
      x: new Float32Array(B * seqLen * C),
      y: new Float32Array(B * yLen * C),
      xMark: new Float32Array(B * seqLen * F),
      yMark: new Float32Array(B * yLen * F),
    };
    const start = this.borders[split][0];
    for (let b = 0; b < B; b++) {
      const s = start + ids[b]!;
      const r = s + seqLen - labelLen;
      out.x.set(this.data.subarray(s * C, (s + seqLen) * C), b * seqLen * C);
      out.y.set(this.data.subarray(r * C, (r + yLen) * C), b * yLen * C);
      out.xMark.set(this.marks.subarray(s * F, (s + seqLen) * F), b * seqLen * F);
      out.yMark.set(this.marks.subarray(r * F, (r + yLen) * F), b * yLen * F);
    }
    return out;
  }

  /**
   * Batch index lists for one pass over a split, as TSLib's DataLoader: train and val shuffled (seeded),
   * test in order; drop_last on all three.
   */
  batches(split: Split, batchSize: number, rng: Rng | null): Int32Array[] {
    const n = this.count(split);
    const order = split !== 'test' && rng ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    const out: Int32Array[] = [];
    for (let i = 0; i + batchSize <= n; i += batchSize) out.push(order.subarray(i, i + batchSize));
    return out;
  }

  /** Undo the scaler for channel values [.., C]. */
  inverse(values: Float32Array): Float32Array {
    const C = this.channels;
    return values.map((v, i) => v * this.scaler.std[i % C]! + this.scaler.mean[i % C]!);
  }
}
