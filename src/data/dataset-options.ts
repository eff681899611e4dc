/**
 * `ForecastDataset`'s options, checked before a window is cut. Lengths that are not whole numbers of rows, or
 * a label_len past the window's start, built windows from the wrong rows (a fractional window count, a decoder
 * start token read from before the file's first row), and a `features` or `kind` outside TSLib's set was read as
 * 'M' or 'custom' without a word. Each is refused naming the option (and the `sparsecast train` flag it is).
 */
import { refuseUnknownKeys } from '../cli/did-you-mean.ts';
import type { DatasetOptions } from './forecast-dataset.ts';

/** Every option ForecastDataset reads: any other key is a misspelling that would otherwise be ignored. */
const KNOWN: ReadonlyArray<keyof DatasetOptions> = [
  'kind', 'features', 'target', 'seqLen', 'labelLen', 'predLen', 'freq', 'file', 'scaler', 'whole', 'splits', 'batchSize',
  'strictDates', 'onWarning',
];

function fail(what: string): never {
  throw new Error(`ForecastDataset: ${what}`);
}

function checkInt(name: string, flag: string, v: unknown, min: number, max = Infinity): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${name} (--${flag}) must be an integer ${max === Infinity ? `at least ${min}` : `in [${min}, ${max}]`}, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  }
}

/** Throws, naming the option, when `opts` cannot describe TSLib windows. */
export function checkDatasetOptions(opts: DatasetOptions): void {
  if (typeof opts !== 'object' || opts === null) fail('expects options { kind, features, target, seqLen, labelLen, predLen, freq, file }');
  refuseUnknownKeys('ForecastDataset', opts, KNOWN);
  if (!['M', 'S', 'MS'].includes(opts.features)) fail(`features (--features) must be M, S or MS, got ${JSON.stringify(opts.features)}`);
  if (!['ETTh', 'ETTm', 'custom'].includes(opts.kind)) fail(`kind (--data_kind) must be ETTh, ETTm or custom (data.inferKind(file) picks one by name), got ${JSON.stringify(opts.kind)}`);
  if (typeof opts.target !== 'string') fail(`target (--target) must be a column name, got ${JSON.stringify(opts.target)}`);
  checkInt('seqLen', 'seq_len', opts.seqLen, 1);
  // The decoder's start token is the window's tail: label_len rows of its seq_len.
  checkInt('labelLen', 'label_len', opts.labelLen, 0, opts.seqLen);
  checkInt('predLen', 'pred_len', opts.predLen, 1);
  if (typeof opts.freq !== 'string') fail(`freq (--freq) must be a frequency code like 'h', 't' or '15min', got ${JSON.stringify(opts.freq)}`);
  if (opts.batchSize !== undefined) checkInt('batchSize', 'batch_size', opts.batchSize, 1);
  // A given scaler is divided by: a zero, negative or non-finite deviation turns every value of its channel into
  // NaN, ±Infinity or its mirror image.
  const sc = opts.scaler;
  if (sc) {
    for (let c = 0; c < sc.mean.length; c++) if (!Number.isFinite(sc.mean[c])) fail(`scaler.mean[${c}] = ${sc.mean[c]} is not finite`);
    for (let c = 0; c < sc.std.length; c++) if (!(sc.std[c]! > 0 && Number.isFinite(sc.std[c]))) fail(`scaler.std[${c}] = ${sc.std[c]} must be a positive number`);
  }
}
