/**
 * A raw forecast window in, model inputs out (and the model's output back to raw units): the one place that
 * turns `{ values, dates }` into what the forecasters take, shared by `sparsecast/infer` and the library's
 * loaded runs so both feed a model the same bits. Values are normalised with the trained scaler; the time
 * features cover the window's dates and the forecast steps, which continue the spacing of the last two dates.
 */
import { parseDate, timeFeatures, toEpochMs, type CalendarTime } from '../data/time-features.ts';

export interface ForecastWindow {
  /** Raw (un-normalised) values, row-major [seq_len × C] in the model's column order (config.scaler.columns). */
  values: Float32Array;
  /** The seq_len timestamps of the rows ('2018-06-26 19:00:00', ISO 8601, …); the forecast continues their spacing. */
  dates: string[];
}

/** What a window needs to know about its model. */
export interface WindowSpec {
  seqLen: number;
  labelLen: number;
  predLen: number;
  /** Time-feature frequency code ('h', 't', …). */
  freq: string;
  /** Time features per step. */
  markDim: number;
  mean: Float32Array;
  std: Float32Array;
  columns: readonly string[];
}

/** The model inputs of one window (batch of 1), host arrays. */
export interface EncodedWindow {
  /** [seq_len × C], normalised. */
  x: Float32Array;
  /** [seq_len × F]. */
  marks: Float32Array;
  /** [(label_len + pred_len) × C]: the last label_len rows of x, then zeros. */
  dec: Float32Array;
  /** [(label_len + pred_len) × F]. */
  yMark: Float32Array;
}

function futureDates(last: number, step: number, n: number): CalendarTime[] {
  return Array.from({ length: n }, (_, k) => {
    const d = new Date(last + (k + 1) * step);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  });
}

/** Check a window and build its model inputs; errors start with `forecast:` and name the problem. */
export function encodeWindow(spec: WindowSpec, window: ForecastWindow): EncodedWindow {
  const { seqLen, labelLen, predLen, freq, mean, std, columns } = spec;
  const C = mean.length;
  const F = spec.markDim;
  const { values, dates } = window ?? ({} as ForecastWindow);
  if (!(values instanceof Float32Array)) throw new Error('forecast: window.values must be a Float32Array');
  if (values.length !== seqLen * C) {
    throw new Error(`forecast: window.values has ${values.length} numbers; the model needs seq_len × channels = ${seqLen} × ${C} = ${seqLen * C} (columns ${columns.join(', ')})`);
  }
  if (!Array.isArray(dates) || dates.length !== seqLen) throw new Error(`forecast: window.dates must list ${seqLen} timestamps, got ${Array.isArray(dates) ? dates.length : typeof dates}`);
  const times = dates.map((d, i) => {
    const t = typeof d === 'string' ? parseDate(d) : null;
    if (!t) throw new Error(`forecast: window.dates[${i}] = ${JSON.stringify(d)} is not a date like 2016-07-01 00:00:00`);
    return t;
  });
  const ms = times.map(toEpochMs);
  for (let i = 1; i < ms.length; i++) if (!(ms[i]! > ms[i - 1]!)) throw new Error(`forecast: window.dates must increase (index ${i - 1} → ${i})`);
  const step = seqLen > 1 ? ms[seqLen - 1]! - ms[seqLen - 2]! : 0;
  if (!(step > 0)) throw new Error('forecast: the window needs at least two timestamps to know the forecast steps');
  const x = new Float32Array(seqLen * C);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`forecast: window.values[${i}] (row ${Math.floor(i / C)}, column ${columns[i % C]}) is not finite`);
    x[i] = (v - mean[i % C]!) / std[i % C]!;
  }
  const marks = timeFeatures(times, freq).values;
  const future = timeFeatures(futureDates(ms[seqLen - 1]!, step, predLen), freq).values;
  const yLen = labelLen + predLen;
  const dec = new Float32Array(yLen * C);
  dec.set(x.subarray((seqLen - labelLen) * C));
  const yMark = new Float32Array(yLen * F);
  yMark.set(marks.subarray((seqLen - labelLen) * F));
  yMark.set(future, labelLen * F);
  return { x, marks, dec, yMark };
}

/** The model's normalised forecast [pred_len × C] back in raw units. */
export function decodeForecast(spec: WindowSpec, out: ArrayLike<number>): Float32Array {
  const C = spec.mean.length;
  const res = new Float32Array(spec.predLen * C);
  for (let i = 0; i < res.length; i++) res[i] = out[i]! * spec.std[i % C]! + spec.mean[i % C]!;
  return res;
}
