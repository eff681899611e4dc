/**
 * A raw forecast window in, model inputs out (and the model's output back to raw units): the one place that
 * turns `{ values, dates }` into what the forecasters take, shared by `sparsecast/infer` and the library's
 * loaded runs so both feed a model the same bits. Values are normalised with the trained scaler; the time
 * features cover the window's dates and the forecast steps, which continue the spacing of the last two dates.
 */
import { fromEpochMs, parseDate, timeFeatures, toEpochMs } from '../data/time-features.ts';
import { futureTimes } from '../data/future-times.ts';

export interface ForecastWindow {
  /**
   * Raw (un-normalised) values, row-major [seq_len × C] in the model's column order (config.scaler.columns);
   * float64 (as `parseCsv` reads a file) keeps what float32 would round away before normalising.
   */
  values: Float32Array | Float64Array;
  /** The seq_len timestamps of the rows ('2018-06-26 19:00:00', ISO 8601, …); the forecast continues their spacing. */
  dates: string[];
}

/** What a window needs to know about its model: the parts of a model file's config (`ModelConfig`) it reads. */
export interface WindowSpec {
  /** The model's lengths and time-feature frequency code ('h', 't', …). */
  cfg: { seqLen: number; labelLen: number; predLen: number; freq: string };
  /** The model's column names, in channel order. */
  scaler: { columns: readonly string[] };
  /** Time features per step. */
  timeFeatures: { count: number };
}

/**
 * The model inputs of one window (batch of 1), host arrays: x [seq_len × C] normalised, its time features
 * [seq_len × F], the decoder input [(label_len + pred_len) × C] (the last label_len rows of x, then zeros) and
 * its time features [(label_len + pred_len) × F]. A tuple rather than an object: it keeps the inference bundle
 * as small as it was before this code was shared.
 */
export type EncodedWindow = [x: Float32Array, marks: Float32Array, dec: Float32Array, yMark: Float32Array];

/**
 * Check a window and build its model inputs, normalised with the trained `mean` / `std` (one per channel);
 * errors start with `forecast:` and name the problem.
 */
export function encodeWindow(spec: WindowSpec, mean: Float64Array, std: Float64Array, window: ForecastWindow): EncodedWindow {
  const { seqLen, labelLen, predLen, freq } = spec.cfg;
  const { columns } = spec.scaler;
  const C = mean.length;
  const F = spec.timeFeatures.count;
  const { values, dates } = window ?? ({} as ForecastWindow);
  if (!(values instanceof Float32Array || values instanceof Float64Array)) throw new Error('forecast: window.values must be a Float32Array or Float64Array');
  if (values.length !== seqLen * C) {
    throw new Error(`forecast: window.values has ${values.length} numbers; the model needs seq_len × channels = ${seqLen} × ${C} = ${seqLen * C} (columns ${columns.join(', ')})`);
  }
  if (!Array.isArray(dates) || dates.length !== seqLen) throw new Error(`forecast: window.dates must list ${seqLen} timestamps, got ${Array.isArray(dates) ? dates.length : typeof dates}`);
  const times = dates.map((d, i) => {
    const t = typeof d === 'string' ? parseDate(d) : null;
    // (A Date object would print as an ISO string, which reads as if ISO 8601 were refused.)
    if (!t) throw new Error(`forecast: window.dates[${i}] ${typeof d === 'string' ? `= ${JSON.stringify(d)} is not a date` : `is not a string (${typeof d})`} like 2016-07-01 00:00:00`);
    return t;
  });
  const ms = times.map(toEpochMs);
  for (let i = 1; i < ms.length; i++) if (!(ms[i]! > ms[i - 1]!)) throw new Error(`forecast: window.dates must increase (index ${i - 1} → ${i})`);
  const next = futureTimes(ms, predLen, freq);
  if (!next) throw new Error('forecast: the window needs at least two timestamps to know the forecast steps');
  const x = new Float32Array(seqLen * C);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // Normalised in float64 with the float64 scaler, then rounded once to the model's float32 (TSLib's order): a
    // finite value far enough out overflows here already.
    x[i] = (v - mean[i % C]!) / std[i % C]!;
    if (!Number.isFinite(x[i]!)) throw new Error(`forecast: window.values[${i}] (row ${Math.floor(i / C)}, column ${columns[i % C]}) = ${v} ${Number.isFinite(v) ? 'overflows float32 once normalised' : 'is not finite'}`);
  }
  const marks = timeFeatures(times, freq).values;
  const future = timeFeatures(next.map(fromEpochMs), freq).values;
  const yLen = labelLen + predLen;
  const dec = new Float32Array(yLen * C);
  dec.set(x.subarray((seqLen - labelLen) * C));
  const yMark = new Float32Array(yLen * F);
  yMark.set(marks.subarray((seqLen - labelLen) * F));
  yMark.set(future, labelLen * F);
  return [x, marks, dec, yMark];
}

/**
 * The model's normalised forecast [pred_len × C] back in raw units. A value that is not finite (weights or inputs
 * that overflow float32 inside the model) throws, naming its row and column: a NaN forecast is never returned.
 */
export function decodeForecast(predLen: number, mean: Float64Array, std: Float64Array, out: ArrayLike<number>, columns?: readonly string[]): Float32Array {
  const C = mean.length;
  const res = new Float32Array(predLen * C);
  for (let i = 0; i < res.length; i++) {
    res[i] = out[i]! * std[i % C]! + mean[i % C]!;
    if (!Number.isFinite(res[i]!)) {
      throw new Error(`forecast: the output is ${res[i]} at row ${Math.floor(i / C)}, column ${columns?.[i % C] ?? i % C} of the forecast (a value overflowed float32 inside the model: inputs far outside the training data, or weights that do)`);
    }
  }
  return res;
}
