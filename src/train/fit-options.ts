/**
 * `fit`'s options, checked before anything is built. Called from JavaScript, `fit` gets whatever object it is
 * handed: a misspelled key (`learning_rate`, `epoch`) or a value out of range (`epochs: 0`, `batchSize: 0`,
 * `sparse: { density: 2 }`) would otherwise train something other than what was asked — or, for a batch size of
 * 0, never return — and report it as a result. Each is refused naming the option, with the ranges of the
 * matching `sparsecast train` flags (src/cli/commands.ts), and a sparse option the chosen method does not read
 * is refused as the CLI refuses its flag (src/cli/method-flags.ts).
 */
import { refuseUnknownKeys } from '../cli/did-you-mean.ts';
import { METHOD_FLAGS } from '../cli/method-flags.ts';
import type { ForecastConfig } from '../models/config.ts';
import type { SparseOptions } from '../sparse/methods.ts';
import type { FitOptions } from './fit.ts';

/** A number's allowed range: integer or not, bounds (open when `minOpen` / `maxOpen`), odd. */
interface Range {
  integer?: boolean;
  min?: number;
  max?: number;
  minOpen?: boolean;
  maxOpen?: boolean;
  odd?: boolean;
}
/** How an option is checked: a range, a set of strings, or a JavaScript type the value must have. */
type Rule = Range | { choices: readonly string[] } | { type: 'boolean' | 'string' | 'object' | 'function' | 'any' };

const INT1: Range = { integer: true, min: 1 };
const FRACTION: Range = { min: 0, minOpen: true, max: 1 };

const TOP: Record<keyof FitOptions, Rule> = {
  model: { type: 'any' }, // createModel names the models
  data: { type: 'object' },
  config: { type: 'object' },
  method: { type: 'any' }, // fit names the methods
  sparse: { type: 'object' },
  seed: { integer: true, min: 0, max: 2 ** 32 - 1 },
  epochs: INT1,
  patience: INT1,
  batchSize: { integer: true, min: 1, max: 65536 },
  learningRate: { min: 0, minOpen: true },
  lradj: { choices: ['type1', 'type2', 'constant'] },
  maxTrainBatches: INT1,
  valBatches: INT1,
  epochTest: { type: 'boolean' },
  inverse: { type: 'boolean' },
  checkpointDir: { type: 'string' },
  checkpointEvery: { integer: true, min: 0 },
  resume: { type: 'boolean' },
  sparseExecution: { type: 'any' },
  onStep: { type: 'function' },
  onEpoch: { type: 'function' },
  onUpdate: { type: 'function' },
  signal: { type: 'object' },
};

/** Lengths, channels and freq come from the data set; `config` may repeat them only with the same values. */
const FROM_DATA = ['seqLen', 'labelLen', 'predLen', 'encIn', 'decIn', 'cOut', 'freq'] as const;

const CONFIG: Record<Exclude<keyof ForecastConfig, (typeof FROM_DATA)[number]>, Rule> = {
  dModel: INT1,
  nHeads: INT1,
  eLayers: INT1,
  dLayers: INT1,
  dFf: INT1,
  dropout: { min: 0, max: 1, maxOpen: true },
  factor: INT1,
  activation: { choices: ['gelu', 'relu'] },
  movingAvg: { integer: true, min: 1, odd: true },
  distil: { type: 'boolean' },
  modes: INT1,
  modeSelect: { choices: ['random', 'low'] },
  pHiddenDims: { type: 'object' }, // checked as a list below
  pHiddenLayers: INT1,
};

/** Each sparse option's rule and the `sparsecast train` flag it is (METHOD_FLAGS says which methods read it). */
const SPARSE: Record<Exclude<keyof SparseOptions, 'method'>, Rule & { flag: string }> = {
  lambda: { min: 1, minOpen: true, flag: 'lambda' },
  gamma: { min: 1, minOpen: true, flag: 'gamma' },
  updateFrequency: { ...INT1, flag: 'update_freq' },
  sMin: { min: 0, minOpen: true, max: 1, maxOpen: true, flag: 's_min' },
  sMax: { min: 0, minOpen: true, max: 1, maxOpen: true, flag: 's_max' },
  zeta: { ...FRACTION, flag: 'zeta' },
  initDensity: { ...FRACTION, flag: 'init_density' },
  finalDensity: { ...FRACTION, flag: 'final_density' },
  density: { ...FRACTION, flag: 'density' },
  growth: { choices: ['gradient', 'random', 'momentum'], flag: 'growth' },
  densityInit: { choices: ['uniform', 'erk'], flag: 'density_init' },
  noExpand: { type: 'boolean', flag: 'no_expand' },
  structure: { choices: ['unstructured', 'fan_in', 'block'], flag: 'sparsity_structure' },
  blockSize: { integer: true, min: 1, max: 64, flag: 'block_size' },
  fanInAblation: { min: 0, max: 1, flag: 'fan_in_ablation' },
};

/** The tables above, for the test that holds them to the `sparsecast train` flags' ranges (test/fit-options.test.ts). */
export const FIT_RULES = { top: TOP, config: CONFIG, sparse: SPARSE } as const;

function fail(what: string): never {
  throw new Error(`fit: ${what}`);
}

function describeRange(r: Range): string {
  const kind = r.integer ? 'an integer' : 'a number';
  const lo = r.min === undefined ? '' : `${r.minOpen ? 'greater than' : 'at least'} ${r.min}`;
  const hi = r.max === undefined ? '' : `${r.maxOpen ? 'less than' : 'at most'} ${r.max}`;
  return [kind, [lo, hi].filter(Boolean).join(' and '), r.odd ? '(odd)' : ''].filter(Boolean).join(' ');
}

function checkValue(name: string, v: unknown, rule: Rule): void {
  if (v === undefined) return;
  if ('choices' in rule) {
    if (typeof v !== 'string' || !rule.choices.includes(v)) fail(`${name} must be one of ${rule.choices.join(', ')}, got ${JSON.stringify(v)}`);
  } else if ('type' in rule) {
    if (rule.type !== 'any' && (typeof v !== rule.type || v === null)) fail(`${name} must be a ${rule.type}, got ${v === null ? 'null' : typeof v}`);
  } else {
    const ok = typeof v === 'number' && Number.isFinite(v) && (!rule.integer || Number.isSafeInteger(v))
      && (rule.min === undefined || (rule.minOpen ? v > rule.min : v >= rule.min))
      && (rule.max === undefined || (rule.maxOpen ? v < rule.max : v <= rule.max))
      && (!rule.odd || v % 2 === 1);
    if (!ok) fail(`${name} must be ${describeRange(rule)}, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  }
}

/** Every key of `o` known to `rules`, each value allowed by its rule; `where` prefixes the names ('sparse.'). */
function checkKeys(o: object, rules: Record<string, Rule>, where: string, extra: readonly string[] = []): void {
  refuseUnknownKeys('fit', o, [...Object.keys(rules), ...extra], where);
  for (const [k, v] of Object.entries(o)) if (rules[k]) checkValue(`${where}${k}`, v, rules[k]!);
}

/** Throws, naming the option, when `opts` holds a key `fit` does not read or a value it cannot train with. */
export function checkFitOptions(opts: FitOptions, method: string): void {
  if (typeof opts !== 'object' || opts === null) fail('expects an options object { model, data, … }');
  checkKeys(opts, TOP, '');
  const ds = opts.data;
  if (typeof ds?.count !== 'function') fail('data must be a data.ForecastDataset (new data.ForecastDataset(table, { … }))');
  if (opts.config) {
    checkKeys(opts.config, CONFIG, 'config.', FROM_DATA);
    const dims = opts.config.pHiddenDims;
    if (dims !== undefined && (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 1))) {
      fail(`config.pHiddenDims must be a list of positive integers like [128, 128], got ${JSON.stringify(dims)}`);
    }
    const fromData: Record<(typeof FROM_DATA)[number], unknown> = {
      seqLen: ds.opts.seqLen, labelLen: ds.opts.labelLen, predLen: ds.opts.predLen, freq: ds.opts.freq,
      encIn: ds.channels, decIn: ds.channels, cOut: ds.channels,
    };
    for (const k of FROM_DATA) {
      const v = opts.config[k];
      if (v !== undefined && v !== fromData[k]) {
        fail(`config.${k} ${JSON.stringify(v)} differs from the data set's ${JSON.stringify(fromData[k])}: lengths, channels and freq come from the ForecastDataset (set them there)`);
      }
    }
  }
  const sparse = opts.sparse ?? {};
  checkKeys(sparse, SPARSE, 'sparse.');
  // What the method does not read would be ignored: refused, as `sparsecast train` refuses the flag.
  const reads = METHOD_FLAGS[method] ?? [];
  const ignored = Object.keys(sparse).filter((k) => !reads.includes(SPARSE[k as keyof typeof SPARSE].flag));
  if (opts.valBatches !== undefined && !reads.includes('val_batches')) ignored.push('valBatches');
  if (ignored.length) {
    const readKeys = Object.entries(SPARSE).filter(([, r]) => reads.includes(r.flag)).map(([k]) => `sparse.${k}`);
    if (reads.includes('val_batches')) readKeys.push('valBatches');
    fail(`method '${method}' does not read ${ignored.map((k) => (k === 'valBatches' ? k : `sparse.${k}`)).join(', ')}; ${readKeys.length ? `it reads ${readKeys.join(', ')}` : 'it has no masks and reads no sparse option'}`);
  }
  // Without a folder `fit` writes no checkpoints, so these would be ignored.
  if (opts.checkpointDir === undefined) {
    if (opts.checkpointEvery !== undefined) fail('checkpointEvery needs checkpointDir (without it the best weights are kept in memory and no checkpoint is written)');
    if (opts.resume) fail('resume needs checkpointDir, the folder holding checkpoint.safetensors');
  }
  const structure = sparse.structure ?? 'unstructured';
  if (sparse.blockSize !== undefined && structure !== 'block') fail(`sparse.blockSize applies to sparse.structure 'block' only (this run: '${structure}')`);
  if (sparse.fanInAblation !== undefined && structure !== 'fan_in') fail(`sparse.fanInAblation applies to sparse.structure 'fan_in' only (this run: '${structure}')`);
  // Every pass drops its last partial batch (TSLib's drop_last): a split with fewer windows than a batch would
  // train nothing or score NaN.
  const batchSize = opts.batchSize ?? 32;
  for (const split of ['train', 'val', 'test'] as const) {
    const n = ds.count(split);
    if (n < batchSize) fail(`batchSize ${batchSize} is more than the ${n} windows of ${ds.opts.file}'s ${split} split (every pass drops its last partial batch, so it would ${split === 'train' ? 'train nothing' : 'score NaN'}); use a batch size of at most ${n}`);
  }
}
