/**
 * The Time-Series-Library data protocol: split borders, a StandardScaler fit on training rows only, and
 * sliding windows `x = data[i : i+seq]`, `y = data[i+seq-label : i+seq+pred]`.
 */
import type { CsvTable } from './csv.ts';

export type DataKind = 'ETTh' | 'ETTm' | 'custom';
export type Split = 'train' | 'val' | 'test';

/** Row ranges [start, end) of each split; val and test start `seqLen` rows early as TSLib does. */
export function splitBorders(kind: DataKind, rows: number, seqLen: number): Record<Split, [number, number]> {
  if (kind === 'ETTh' || kind === 'ETTm') {
    const perMonth = 30 * 24 * (kind === 'ETTm' ? 4 : 1);
    const train = 12 * perMonth;
    const val = train + 4 * perMonth;
    const test = val + 4 * perMonth;
    if (rows < test) throw new Error(`dataset: ${kind} needs ${test} rows for its 12/4/4-month split, the file has ${rows}`);
    return { train: [0, train], val: [train - seqLen, val], test: [val - seqLen, test] };
  }
  const numTrain = Math.floor(rows * 0.7);
  const numTest = Math.floor(rows * 0.2);
  const numVal = rows - numTrain - numTest;
  return {
    train: [0, numTrain],
    val: [numTrain - seqLen, numTrain + numVal],
    test: [rows - numTest - seqLen, rows],
  };
}

/** Guess ETTh / ETTm / custom from the file name, as TSLib's data_dict does by data name. */
export function inferKind(file: string): DataKind {
  const base = file.split(/[\\/]/).pop() ?? file;
  if (/^ETTh\d/i.test(base)) return 'ETTh';
  if (/^ETTm\d/i.test(base)) return 'ETTm';
  return 'custom';
}

export interface Scaler {
  mean: Float32Array;
  std: Float32Array;
}

/** Per-column mean and (population) standard deviation over rows [start, end), like sklearn's StandardScaler. */
export function fitScaler(values: Float32Array, cols: number, start: number, end: number): Scaler {
  const mean = new Float32Array(cols);
  const std = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = start; r < end; r++) s += values[r * cols + c]!;
    const m = s / (end - start);
    let v = 0;
    for (let r = start; r < end; r++) v += (values[r * cols + c]! - m) ** 2;
    mean[c] = m;
    // sklearn leaves a constant column unscaled (std 1) rather than dividing by zero.
    std[c] = Math.sqrt(v / (end - start)) || 1;
  }
  return { mean, std };
}

export function applyScaler(values: Float32Array, cols: number, scaler: Scaler): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = i % cols;
    out[i] = (values[i]! - scaler.mean[c]!) / scaler.std[c]!;
  }
  return out;
}

export interface WindowSet {
  /** Scaled values of the whole file, [rows, cols]. */
  data: Float32Array;
  cols: number;
  /** First row of the split and number of windows. */
  start: number;
  count: number;
  seqLen: number;
  labelLen: number;
  predLen: number;
}

export function windows(table: CsvTable, scaled: Float32Array, border: [number, number], seqLen: number, labelLen: number, predLen: number): WindowSet {
  const count = border[1] - border[0] - seqLen - predLen + 1;
  if (count <= 0) {
    throw new Error(`dataset: a split of ${border[1] - border[0]} rows has no window of seq_len ${seqLen} + pred_len ${predLen}`);
  }
  return { data: scaled, cols: table.cols, start: border[0], count, seqLen, labelLen, predLen };
}
