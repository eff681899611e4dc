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
    if (rows < test) throw new Error(`dataset: ${kind} needs ${test} rows for its 12/4/4-month split, the file has ${rows} (--data_kind custom splits any length)`);
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

/** What one pass over a split needs: a window of seq_len + pred_len rows, and whole batches when the loader drops the last. */
export interface WindowNeed {
  seqLen: number;
  predLen: number;
  /** The loaders drop a last partial batch, so a split with fewer windows than this yields no batch at all. */
  batchSize?: number;
}

/** Rows a split needs: `windows = rows − seq_len − pred_len + 1` must reach one (or one batch). */
export function rowsNeeded(need: WindowNeed): number {
  return need.seqLen + need.predLen + (need.batchSize ?? 1) - 1;
}

/**
 * Whether every listed split holds what `need` asks. A split starting before row 0 (val and test begin
 * seq_len rows early) does not fit either: Python would wrap the negative index, here it is refused.
 */
export function splitsFit(kind: DataKind, rows: number, need: WindowNeed, splits: readonly Split[]): boolean {
  if ((kind === 'ETTh' || kind === 'ETTm') && rows < ettRows(kind)) return false;
  const b = splitBorders(kind, rows, need.seqLen);
  return splits.every((s) => b[s][0] >= 0 && b[s][1] - b[s][0] >= rowsNeeded(need));
}

/**
 * Refuse a file too short for the run, before anything is trained or written: names the file, each short
 * split with the rows it has and needs, and the largest --seq_len / --pred_len / --batch_size that would fit
 * (each with the other flags as given). `lines` maps rows to file lines for the message.
 */
export function checkSplitSizes(file: string, kind: DataKind, rows: number, need: WindowNeed, splits: readonly Split[], lines?: readonly number[]): void {
  if (splitsFit(kind, rows, need, splits)) return;
  if ((kind === 'ETTh' || kind === 'ETTm') && rows < ettRows(kind)) {
    throw new Error(`${file}: ${kind} files split by months (12/4/4) and need ${ettRows(kind)} data rows, this one has ${rows}; --data_kind custom splits any length 70/10/20 by rows`);
  }
  const b = splitBorders(kind, rows, need.seqLen);
  const needRows = rowsNeeded(need);
  const lineOf = (r: number) => lines?.[r] ?? r + 2;
  const short = splits.filter((s) => !(b[s][0] >= 0 && b[s][1] - b[s][0] >= needRows)).map((s) => {
    const [start, end] = b[s];
    if (start < 0) return `the ${s} split would start ${-start} rows before the file's first row (it starts seq_len rows early)`;
    return `the ${s} split has ${end - start} rows (lines ${lineOf(start)}–${lineOf(end - 1)}) and needs ${needRows}`;
  });
  const what = need.batchSize && need.batchSize > 1
    ? `one batch of ${need.batchSize} windows (seq_len ${need.seqLen} + pred_len ${need.predLen} + batch_size ${need.batchSize} − 1 = ${needRows} rows)`
    : `one window (seq_len ${need.seqLen} + pred_len ${need.predLen} = ${needRows} rows)`;
  const largest = (get: (v: number) => WindowNeed, from: number) => {
    for (let v = from; v >= 1; v--) if (splitsFit(kind, rows, get(v), splits)) return v;
    return 0;
  };
  const fits = [
    [largest((v) => ({ ...need, seqLen: v }), rows), `--seq_len`],
    [largest((v) => ({ ...need, predLen: v }), rows), `--pred_len`],
    ...(need.batchSize ? [[largest((v) => ({ ...need, batchSize: v }), Math.min(rows, need.batchSize)), `--batch_size`] as const] : []),
  ].filter(([v]) => (v as number) > 0).map(([v, flag]) => `${flag} ${v}`);
  const split = kind === 'custom' ? 'rows 70/10/20' : 'months 12/4/4';
  throw new Error(`${file}: too short: ${what} is needed in each of ${splits.join(', ')}, split by ${split} of its ${rows} data rows; ${short.join('; ')}. `
    + (fits.length ? `With the other flags unchanged, the most that fits is ${fits.join(' or ')}.` : 'No --seq_len, --pred_len or --batch_size fits; use a longer file.'));
}

function ettRows(kind: 'ETTh' | 'ETTm'): number {
  return 20 * 30 * 24 * (kind === 'ETTm' ? 4 : 1);
}

/** Guess ETTh / ETTm / custom from the file name, as TSLib's data_dict does by data name. */
export function inferKind(file: string): DataKind {
  const base = file.split(/[\\/]/).pop() ?? file;
  if (/^ETTh\d/i.test(base)) return 'ETTh';
  if (/^ETTm\d/i.test(base)) return 'ETTm';
  return 'custom';
}

/** Per-column statistics in float64, as sklearn's StandardScaler keeps them. */
export interface Scaler {
  mean: Float64Array;
  std: Float64Array;
}

/**
 * Per-column mean and (population) standard deviation over rows [start, end), like sklearn's StandardScaler.
 * A column sklearn finds constant keeps std 1 (it is only centred): its rule (`_is_constant_feature`) calls a
 * variance constant when it is within the float64 rounding error of the two-pass computation, var ≤ n·ε·var +
 * (n·mean·ε)². Testing std for exactly 0, as this did, missed the constant columns whose mean does not round
 * exactly (0.1 repeated: std 9e-16), scaled them to ±1 and scaled later rows that differ by ~1e15.
 * `onConstant` hears each such column (its index and its first training value).
 */
export function fitScaler(values: ArrayLike<number>, cols: number, start: number, end: number, onConstant?: (col: number, value: number) => void): Scaler {
  const mean = new Float64Array(cols);
  const std = new Float64Array(cols);
  const n = end - start;
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = start; r < end; r++) s += values[r * cols + c]!;
    const m = s / n;
    let v = 0;
    for (let r = start; r < end; r++) v += (values[r * cols + c]! - m) ** 2;
    const variance = v / n;
    mean[c] = m;
    const constant = variance <= n * Number.EPSILON * variance + (n * m * Number.EPSILON) ** 2;
    std[c] = constant ? 1 : Math.sqrt(variance);
    if (constant) onConstant?.(c, values[start * cols + c]!);
  }
  return { mean, std };
}

/** (x − mean) / std in float64, rounded once to float32 (the model's precision). */
export function applyScaler(values: ArrayLike<number>, cols: number, scaler: Scaler): Float32Array {
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
