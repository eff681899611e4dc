/**
 * What every `sparsecast` command accepts: its flag table (names as Time-Series-Library spells them, defaults,
 * allowed values and ranges, one line of help) and the rules between flags. src/cli/flags.ts parses against
 * these tables; --help and the top-level usage are printed from them, so the documentation cannot drift from
 * what is accepted. Everything here is checked before a command reads a model or writes a file.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ParsedArgs } from './args.ts';
import { FlagError, checkValue, parseCommandArgs, type CommandSpec, type FlagSpec } from './flags.ts';
import { didYouMean } from './did-you-mean.ts';
import { modelNames, PRESETS } from '../models/index.ts';
import { hasHeads } from '../models/heads.ts';
import { METHODS, DEFAULT_SPARSE } from '../sparse/methods.ts';
import { MAX_POSITIONS } from '../nn/embedding.ts';
import { TIME_FEATURE_COUNTS } from '../data/time-features.ts';
import { DEFAULT_CSR_THRESHOLD } from '../io/model-file.ts';
import { gridCombinations, passThroughArgs, runTrainArgs } from './sweep-plan.ts';
import { runName } from './sweep-axes.ts';
import { describeMethodFlags, flagsMethodIgnores } from './method-flags.ts';
import { modelFlagWarnings } from './model-flags.ts';
import { threadsIgnoredWarning } from './backends.ts';
import { autoCorrelationDelays, autoCorrelationLags } from '../nn/autocorrelation.ts';
import { warn } from './warn.ts';
import { REFERENCE_FLAGS, REFERENCE_NAMES, REFERENCE_VALUES, referenceSparse } from './pals-reference-flags.ts';
import { TSLIB_RUN_FLAGS, tslibLoader, tslibRunFlagError, tslibSizeWarning } from './tslib-run-flags.ts';

/** TSLib's run.py defaults, used for the other of --root_path / --data_path when only one is given. */
const TSLIB_ROOT_PATH = './data/ETT/';
const TSLIB_DATA_PATH = 'ETTh1.csv';

const BACKEND: FlagSpec = { name: 'backend', type: 'string', choices: ['wasm', 'js', 'webgpu'], default: 'wasm', help: 'compute engine' };
const THREADS: FlagSpec = { name: 'threads', type: 'integer', min: 1, max: 256, default: '1', help: 'wasm kernel threads (the same results for any count)' };
const INVERSE: FlagSpec = {
  name: 'inverse', type: 'switch', help: "test metrics on de-normalised values, the data's units (TSLib's --inverse; default: normalised, as TSLib and the papers report)",
};
const STRICT_DATES: FlagSpec = {
  name: 'strict_dates', type: 'switch', help: 'refuse a data file with repeated or out-of-order dates (by default they are kept in file order with a warning, as TSLib does)',
};
const DATA_FLAGS: FlagSpec[] = [
  { name: 'data', type: 'string', metavar: 'PATH', help: 'the CSV file (a date column and numeric columns, as TSLib reads them)' },
  { name: 'root_path', type: 'string', metavar: 'DIR', help: `TSLib spelling: --data is DIR/FILE (with --data_path; alone: FILE is ${TSLIB_DATA_PATH})` },
  { name: 'data_path', type: 'string', metavar: 'FILE', help: `TSLib spelling: --data is DIR/FILE (with --root_path; alone: DIR is ${TSLIB_ROOT_PATH})` },
];

/** Names TSLib gives its data sets in `--data`; here --data is a file. */
const TSLIB_DATA_NAMES = /^(ETTh1|ETTh2|ETTm1|ETTm2|custom|m4|PSM|MSL|SMAP|SMD|SWAT|UEA|Solar|PEMS|Weather|Electricity|ECL|Traffic|Exchange|ILI)$/i;

/**
 * --root_path/--data_path become --data (TSLib joins them the same way); then --data must name a file. A TSLib
 * data-set name (`--data ETTh1`) is told apart from a mistyped path, since the fix differs. With `loaders`
 * (train, import: the commands that split the data), `--data NAME` beside --root_path/--data_path is TSLib's
 * loader and sets --data_kind.
 */
function resolveData(cmd: string, args: ParsedArgs, required: boolean, mustExist = true, loaders = false): void {
  const root = args.flags.get('root_path');
  const file = args.flags.get('data_path');
  if (root !== undefined || file !== undefined) {
    // TSLib's scripts pass `--data custom` (its loader) beside the two: it picks the split (tslib-run-flags.ts).
    const error = loaders ? tslibLoader(args) : undefined;
    if (error) throw new FlagError(`sparsecast ${cmd}: ${error}`);
    if (args.flags.has('data')) {
      throw new FlagError(`sparsecast ${cmd}: --data and --root_path/--data_path both name the data; give one (--data PATH, or TSLib's --root_path DIR --data_path FILE)`);
    }
    args.flags.set('data', join(root ?? TSLIB_ROOT_PATH, file ?? TSLIB_DATA_PATH));
  }
  const data = args.flags.get('data');
  if (data === undefined) {
    if (required) throw new FlagError(`sparsecast ${cmd}: --data PATH is required (or TSLib's --root_path DIR --data_path FILE)`);
    return;
  }
  // A queued sweep's runs read their data on the workers' machines, which may mount it where this one does not.
  if (!mustExist) return;
  if (!existsSync(data)) {
    if (TSLIB_DATA_NAMES.test(data) || (!/[\\/]/.test(data) && !/\.\w+$/.test(data))) {
      throw new FlagError(`sparsecast ${cmd}: --data takes a CSV path, got '${data}' (a TSLib data-set name?); e.g. --data data/ETTh1.csv, or --root_path ./data/ --data_path ETTh1.csv`);
    }
    throw new FlagError(`sparsecast ${cmd}: --data: no such file '${data}'`);
  }
  if (statSync(data).isDirectory()) throw new FlagError(`sparsecast ${cmd}: --data '${data}' is a folder; pass a CSV file`);
}

const num = (args: ParsedArgs, name: string, fallback: number): number => Number(args.flags.get(name) ?? fallback);

/** How a train argv is checked: where its data lives and where its warnings go. */
interface TrainCheck {
  /** The data file must exist here (a queued sweep's runs read theirs on the workers' machines). */
  dataHere: boolean;
  /** A train run writes them to stderr; a sweep gathers its runs' and shows each once; re-checks drop them. */
  onWarning: (message: string) => void;
}

const TRAIN_HERE: TrainCheck = { dataHere: true, onWarning: warn };

/**
 * Autoformer's Auto-Correlation runs on windows of seq_len (encoder) and label_len + pred_len (decoder) steps:
 * each needs a lag to correlate (2 steps at least; TSLib's irfft fails on 1), and its int(factor · ln L) delays
 * must be among those lags. The first rule broken, or undefined.
 */
function autoCorrelationLengthError(model: string, factor: number, windows: [string, number][]): string | undefined {
  for (const [flags, length] of windows) {
    if (length < 2) return `--model ${model} needs ${flags} of at least 2 (its Auto-Correlation correlates lags of the window, and a 1-step window has none), got ${length}`;
    const delays = autoCorrelationDelays(factor, length);
    const lags = autoCorrelationLags(length);
    if (delays > lags) return `--factor ${factor} makes --model ${model} aggregate int(${factor}·ln ${length}) = ${delays} delays of the ${lags} lags a window of ${flags} = ${length} has; lower --factor or lengthen the window`;
  }
  return undefined;
}

/** Train's rules between flags (each flag's own range is in the table). */
function finishTrain(args: ParsedArgs, check: TrainCheck = TRAIN_HERE): void {
  const cmd = 'train';
  resolveData(cmd, args, true, check.dataHere, true);
  const fail = (message: string): never => {
    throw new FlagError(`sparsecast ${cmd}: ${message}`);
  };
  const tslib = tslibRunFlagError(args);
  if (tslib) fail(tslib);
  const sparseChoice = referenceSparse(args, fail);
  if (sparseChoice) check.onWarning(sparseChoice);
  const sizes = tslibSizeWarning(args);
  if (sizes) check.onWarning(sizes);
  const model = args.flags.get('model') ?? 'Transformer';
  const preset = PRESETS[(args.flags.get('preset') ?? 'small') as keyof typeof PRESETS];
  const seqLen = num(args, 'seq_len', 96);
  const labelLen = num(args, 'label_len', 48);
  const predLen = num(args, 'pred_len', 96);
  if (labelLen > seqLen) fail(`--label_len ${labelLen} must be at most --seq_len ${seqLen} (the decoder's start token is the window's tail)`);
  // The decoder reads label_len + pred_len positions of the same sinusoidal table as the encoder.
  if (labelLen + predLen > MAX_POSITIONS) fail(`--label_len + --pred_len must be at most ${MAX_POSITIONS} (the position table's length), got ${labelLen} + ${predLen}`);
  if (model === 'Autoformer') {
    const error = autoCorrelationLengthError(model, num(args, 'factor', 1), [['--seq_len', seqLen], ['--label_len + --pred_len', labelLen + predLen]]);
    if (error) fail(error);
  }
  const dModel = num(args, 'd_model', preset.dModel);
  const nHeads = num(args, 'n_heads', preset.nHeads);
  if (hasHeads(model) && dModel % nHeads !== 0) fail(`--d_model ${dModel} is not divisible by --n_heads ${nHeads}`);
  const sMin = num(args, 's_min', DEFAULT_SPARSE.sMin);
  const sMax = num(args, 's_max', DEFAULT_SPARSE.sMax);
  if (!(sMin < sMax)) fail(`--s_min ${sMin} must be less than --s_max ${sMax}`);
  const method = args.flags.get('method') ?? 'dense';
  const ignored = flagsMethodIgnores(method, [...args.flags.keys(), ...args.switches]);
  if (ignored.length) fail(`${ignored.map((f) => `--${f}`).join(', ')} ${ignored.length > 1 ? 'do' : 'does'} not apply to --method ${method} (${describeMethodFlags(method)})`);
  const dims = args.flags.get('p_hidden_dims');
  const layers = num(args, 'p_hidden_layers', 2);
  const dimCount = dims === undefined ? 2 : dims.split(/[, ]+/).filter(Boolean).length;
  if (dimCount < layers) fail(`--p_hidden_dims has ${dimCount} entries; --p_hidden_layers ${layers} needs at least that many`);
  // The Trainer would only say it has no checkpoint path; the run folder is what is missing.
  if (args.switches.has('resume') && !args.flags.has('out')) fail('--resume needs --out DIR (the run folder holding checkpoint.safetensors)');
  // One model per train run (a sweep's --model list reaches each run's own train): flags it ignores are warned of.
  for (const w of modelFlagWarnings(model, [...args.flags.keys(), ...args.switches])) check.onWarning(w);
  const threads = threadsIgnoredWarning(args, args.flags.get('backend') ?? 'wasm');
  if (threads) check.onWarning(threads);
  if (args.flags.has('checkpoint_every') && !args.flags.has('out')) {
    check.onWarning(`--checkpoint_every ${args.flags.get('checkpoint_every')} has nothing to do without --out DIR (checkpoints are saved into the run folder); this run saves none`);
  }
}

/** Train's table with its rules checked as `check` says. */
function trainSpec(check: TrainCheck): CommandSpec {
  return { ...TRAIN, finish: (args) => finishTrain(args, check) };
}

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'Train a forecaster (TSLib long-term forecasting protocol); one JSON line on stdout, files in --out.',
  flags: [
    ...DATA_FLAGS,
    { name: 'model', type: 'string', choices: modelNames(), aliases: { Nonstationary_Transformer: 'NSTransformer', ...REFERENCE_VALUES.model }, default: 'Transformer', help: "model (TSLib's Nonstationary_Transformer, the PALS reference's ns_Transformer: NSTransformer)" },
    { name: 'preset', type: 'string', choices: ['small', 'full'], default: 'small', help: 'sizes for d_model, n_heads, e_layers, d_layers, d_ff, dropout' },
    { name: 'seq_len', type: 'integer', min: 1, max: MAX_POSITIONS, default: '96', help: 'input window length' },
    { name: 'label_len', type: 'integer', min: 0, max: MAX_POSITIONS, default: '48', help: 'decoder start-token length (at most seq_len)' },
    { name: 'pred_len', type: 'integer', min: 1, max: MAX_POSITIONS, default: '96', help: 'forecast horizon' },
    { name: 'features', type: 'string', choices: ['M', 'S', 'MS'], default: 'M', help: 'M: all channels to all; S: target to target; MS: all to target' },
    { name: 'target', type: 'string', metavar: 'COLUMN', default: 'OT', help: 'target column (S, MS)' },
    { name: 'freq', type: 'string', choices: Object.keys(TIME_FEATURE_COUNTS), default: 'h', help: 'time-feature frequency code' },
    { name: 'data_kind', type: 'string', choices: ['auto', 'ETTh', 'ETTm', 'custom'], default: 'auto', help: 'train/val/test split rule (ETT: by months; custom: 70/10/20)' },
    { name: 'd_model', type: 'integer', min: 1, default: `${PRESETS.small.dModel} (full: ${PRESETS.full.dModel})`, help: 'model width (divisible by n_heads)' },
    { name: 'n_heads', type: 'integer', min: 1, default: `${PRESETS.small.nHeads} (full: ${PRESETS.full.nHeads})`, help: 'attention heads' },
    { name: 'e_layers', type: 'integer', min: 1, default: `${PRESETS.small.eLayers}`, help: 'encoder layers' },
    { name: 'd_layers', type: 'integer', min: 1, default: `${PRESETS.small.dLayers}`, help: 'decoder layers' },
    { name: 'd_ff', type: 'integer', min: 1, default: `${PRESETS.small.dFf} (full: ${PRESETS.full.dFf})`, help: 'feed-forward width' },
    { name: 'dropout', type: 'number', min: 0, max: 1, maxOpen: true, default: `${PRESETS.small.dropout}`, help: 'dropout probability' },
    { name: 'factor', type: 'integer', min: 1, default: '1', help: 'attention factor (Informer, Autoformer)' },
    // An even window makes TSLib's (and this) moving average one step short, and the decomposition's subtraction fails.
    { name: 'moving_avg', type: 'integer', min: 1, odd: true, default: '25', help: 'series-decomposition window (Autoformer, FEDformer, DLinear)' },
    { name: 'activation', type: 'string', choices: ['gelu', 'relu'], default: 'gelu', help: 'feed-forward activation' },
    { name: 'distil', type: 'switch', help: "turn Informer's distilling off (TSLib's store_false flag)" },
    { name: 'modes', type: 'integer', min: 1, default: '32', help: 'FEDformer: Fourier modes kept' },
    { name: 'mode_select', type: 'string', choices: ['random', 'low'], default: 'random', help: 'FEDformer: which modes' },
    { name: 'p_hidden_dims', type: 'list', integerItems: true, min: 1, nargs: true, metavar: 'N,N', default: '128,128', help: 'NSTransformer: projector hidden sizes (TSLib\'s N N also)' },
    { name: 'p_hidden_layers', type: 'integer', min: 1, default: '2', help: 'NSTransformer: projector hidden layers' },
    { name: 'train_epochs', type: 'integer', min: 1, default: '10', help: 'epochs' },
    { name: 'patience', type: 'integer', min: 1, default: '3', help: 'early-stopping patience (epochs)' },
    { name: 'batch_size', type: 'integer', min: 1, max: 65536, default: '32', help: 'batch size' },
    { name: 'learning_rate', type: 'number', min: 0, minOpen: true, default: '1e-4', help: 'Adam learning rate' },
    { name: 'lradj', type: 'string', choices: ['type1', 'type2', 'constant'], default: 'type1', help: 'learning-rate schedule' },
    // The sparse controller's generator starts at seed + 4·2³², which must stay a safe integer.
    { name: 'seed', type: 'integer', min: 0, max: 2 ** 32 - 1, default: '2020', help: 'random seed' },
    BACKEND,
    THREADS,
    { name: 'out', type: 'string', metavar: 'DIR', help: 'folder for checkpoints, logs, result, plots (none: nothing written)' },
    { name: 'max_train_batches', type: 'integer', min: 1, help: 'stop each epoch after N training batches' },
    { name: 'no_epoch_test', type: 'switch', help: 'skip the per-epoch test pass (the final test still runs)' },
    INVERSE,
    { name: 'checkpoint_every', type: 'integer', min: 0, default: '100', help: 'checkpoint every N steps (0: at epoch ends only)' },
    { name: 'resume', type: 'switch', help: "continue from --out's checkpoint" },
    { name: 'method', type: 'string', choices: Object.keys(METHODS), aliases: REFERENCE_VALUES.method, default: DEFAULT_SPARSE.method, help: 'sparse training method (the reference\'s PALS, GraNet too, with --sparse)' },
    { name: 'lambda', type: 'number', min: 1, minOpen: true, altNames: REFERENCE_NAMES.lambda, default: `${DEFAULT_SPARSE.lambda}`, help: 'PALS: expand/shrink factor (the reference\'s --loss_freedom_factor)' },
    { name: 'gamma', type: 'number', min: 1, minOpen: true, altNames: REFERENCE_NAMES.gamma, default: `${DEFAULT_SPARSE.gamma}`, help: 'PALS: loss-ratio tolerance (the reference\'s --prune_rate_factor)' },
    { name: 'update_freq', type: 'integer', min: 1, altNames: REFERENCE_NAMES.update_freq, default: `${DEFAULT_SPARSE.updateFrequency}`, help: 'steps between mask updates (the reference\'s --update-frequency)' },
    { name: 's_min', type: 'number', min: 0, minOpen: true, max: 1, maxOpen: true, default: `${DEFAULT_SPARSE.sMin}`, help: 'PALS: lowest sparsity (less than s_max)' },
    { name: 's_max', type: 'number', min: 0, minOpen: true, max: 1, maxOpen: true, default: `${DEFAULT_SPARSE.sMax}`, help: 'PALS: highest sparsity' },
    { name: 'init_density', type: 'number', min: 0, minOpen: true, max: 1, altNames: REFERENCE_NAMES.init_density, default: `${DEFAULT_SPARSE.initDensity}`, help: 'PALS, GraNet: starting density' },
    { name: 'final_density', type: 'number', min: 0, minOpen: true, max: 1, altNames: REFERENCE_NAMES.final_density, default: `${DEFAULT_SPARSE.finalDensity}`, help: 'GraNet: final density' },
    { name: 'density', type: 'number', min: 0, minOpen: true, max: 1, default: `${DEFAULT_SPARSE.density}`, help: 'RigL, SET, static: density' },
    { name: 'zeta', type: 'number', min: 0, minOpen: true, max: 1, altNames: REFERENCE_NAMES.zeta, default: `${DEFAULT_SPARSE.zeta}`, help: 'fraction of active weights pruned and regrown per update' },
    { name: 'growth', type: 'string', choices: ['gradient', 'random', 'momentum'], default: DEFAULT_SPARSE.growth, help: 'regrowth criterion' },
    { name: 'density_init', type: 'string', choices: ['uniform', 'erk'], aliases: REFERENCE_VALUES.density_init, altNames: REFERENCE_NAMES.density_init, default: DEFAULT_SPARSE.densityInit, help: 'per-layer density distribution' },
    { name: 'no_expand', type: 'switch', help: 'PALS: never expand' },
    { name: 'sparsity_structure', type: 'string', choices: ['unstructured', 'fan_in', 'block'], default: 'unstructured', help: 'which weights a sparse method takes and gives: any (the reference), the same fan-in per output neuron, or whole B×B blocks' },
    { name: 'block_size', type: 'integer', min: 1, max: 64, default: '4', help: 'B of --sparsity_structure block' },
    { name: 'fan_in_ablation', type: 'number', min: 0, max: 1, default: '0.3', help: 'fan_in: a neuron with fewer salient weights than this × the layer\'s mean is removed whole (0: never)' },
    { name: 'val_batches', type: 'integer', min: 1, help: 'validation batches per sparsity decision (all when not given)' },
    STRICT_DATES,
    ...TSLIB_RUN_FLAGS,
    ...REFERENCE_FLAGS,
  ],
  finish: (args) => finishTrain(args),
};

/** Train's flags that define the model and how it reads its data: what `import` needs to rebuild a TSLib model. */
const IMPORT_FROM_TRAIN = [
  'data', 'root_path', 'data_path', 'model', 'preset', 'seq_len', 'label_len', 'pred_len', 'features', 'target', 'freq', 'data_kind',
  'd_model', 'n_heads', 'e_layers', 'd_layers', 'd_ff', 'dropout', 'factor', 'moving_avg', 'activation', 'distil', 'modes',
  'mode_select', 'p_hidden_dims', 'p_hidden_layers', 'batch_size', 'seed', 'backend', 'threads', 'strict_dates',
];

export const IMPORT: CommandSpec = {
  name: 'import',
  summary: 'Turn a Time-Series-Library state dict (safetensors) into a run folder for eval / predict / export / report; exact zeros of weights become masks.',
  flags: [
    { name: 'weights', type: 'string', metavar: 'FILE', required: true, help: "the state dict: safetensors of TSLib's model.state_dict() (F32, or F64 rounded to F32)" },
    ...IMPORT_FROM_TRAIN.map((name) => {
      const f = TRAIN.flags.find((x) => x.name === name)!;
      if (name === 'data') return { ...f, help: 'the CSV the model was trained on: its training split gives the scaler (as train fits it), its columns the channels' };
      if (name === 'batch_size') return { ...f, help: 'batch size eval scores with' };
      if (name === 'seed') return { ...f, help: 'seed recorded for the run (builds the model before its weights are loaded)' };
      return f;
    }),
    { name: 'out', type: 'string', metavar: 'DIR', required: true, help: 'the run folder to write (new or empty)' },
    { name: 'keep_zeros', type: 'switch', help: 'keep exact zeros of weights as dense values (default: each exact zero of a rank ≥ 2 weight is a pruned entry, a mask)' },
    ...TSLIB_RUN_FLAGS,
  ],
  finish: (args) => {
    resolveData('import', args, true, true, true);
    const fail = (message: string): never => {
      throw new FlagError(`sparsecast import: ${message}`);
    };
    // The TSLib line that trained the weights may be a test-only one (--is_training 0): both describe them.
    const tslib = tslibRunFlagError(args, { testOnly: true });
    if (tslib) fail(tslib);
    const sizes = tslibSizeWarning(args);
    if (sizes) warn(sizes);
    const weights = args.flags.get('weights')!;
    if (!existsSync(weights)) fail(`--weights: no such file '${weights}'`);
    if (statSync(weights).isDirectory()) fail(`--weights '${weights}' is a folder; pass a .safetensors file`);
    const preset = PRESETS[(args.flags.get('preset') ?? 'small') as keyof typeof PRESETS];
    const seqLen = num(args, 'seq_len', 96);
    const labelLen = num(args, 'label_len', 48);
    if (labelLen > seqLen) fail(`--label_len ${labelLen} must be at most --seq_len ${seqLen}`);
    const dModel = num(args, 'd_model', preset.dModel);
    const nHeads = num(args, 'n_heads', preset.nHeads);
    if (hasHeads(args.flags.get('model') ?? 'Transformer') && dModel % nHeads !== 0) fail(`--d_model ${dModel} is not divisible by --n_heads ${nHeads}`);
    const dims = args.flags.get('p_hidden_dims');
    const layers = num(args, 'p_hidden_layers', 2);
    const dimCount = dims === undefined ? 2 : dims.split(/[, ]+/).filter(Boolean).length;
    if (dimCount < layers) fail(`--p_hidden_dims has ${dimCount} entries; --p_hidden_layers ${layers} needs at least that many`);
    const threads = threadsIgnoredWarning(args, args.flags.get('backend') ?? 'wasm');
    if (threads) warn(threads);
  },
};

/** Train's table and rules for a run that will read its data on another machine (a queued sweep's workers). */
export const TRAIN_ELSEWHERE: CommandSpec = trainSpec({ dataHere: false, onWarning: () => {} });

/** Train's table and rules for a second look at a run's flags (a resumed sweep's finished runs): no warnings again. */
export const TRAIN_RECHECK: CommandSpec = trainSpec({ dataHere: true, onWarning: () => {} });

export const EVAL: CommandSpec = {
  name: 'eval',
  summary: "Re-score a train run's saved model on the test split of its data file (or --data PATH); the same JSON line as train.",
  flags: [
    { name: 'checkpoint', type: 'string', metavar: 'DIR', required: true, help: 'the --out folder of a train run' },
    BACKEND,
    THREADS,
    { name: 'data', type: 'string', metavar: 'PATH', help: 'score the test split of this CSV instead of the training file (columns matched by name, the trained scaler)' },
    INVERSE,
    STRICT_DATES,
  ],
};

export const PREDICT: CommandSpec = {
  name: 'predict',
  summary: "Forecast pred_len steps after the data file's last row, de-normalised, with dates.",
  flags: [
    { name: 'checkpoint', type: 'string', metavar: 'DIR', required: true, help: 'the --out folder of a train run' },
    ...DATA_FLAGS,
    { name: 'out', type: 'string', metavar: 'FILE', default: 'forecast.csv', help: 'the forecast CSV to write (features MS: the date and the trained target column only)' },
    BACKEND,
    THREADS,
    STRICT_DATES,
  ],
  finish: (args) => resolveData('predict', args, true),
};

const SWEEP_OWN: FlagSpec[] = [
  { name: 'grid', type: 'string', metavar: 'NAME=V1,V2', repeatable: true, help: 'train flag and its values; several NAME=… words make the grid (lists of --data, --pred_len, --seed, --method, --model join it too)' },
  { name: 'select', type: 'string', choices: ['loss', 'sparsity'], default: 'loss', help: 'lowest val loss, or highest sparsity (val loss breaks ties)' },
  { name: 'jobs', type: 'integer', min: 1, max: 256, default: '1', help: 'runs at once' },
  { name: 'out', type: 'string', metavar: 'DIR', default: 'sweep', help: 'folder for the runs and sweep.md (with --queue: where --collect writes the table)' },
  { name: 'resume', type: 'switch', help: 'continue a stopped sweep in the same --out: finished runs (same flags and data) keep their results, interrupted ones continue from their checkpoints, the rest start' },
  { name: 'queue', type: 'string', metavar: 'redis://HOST:PORT/DB', help: 'enqueue the runs for `sparsecast worker`s on a Redis-backed BullMQ queue instead of training here' },
  { name: 'name', type: 'string', metavar: 'NAME', help: 'the queued sweep\'s name (job ids derive from it)' },
  { name: 'status', type: 'switch', help: 'with --queue: progress of the sweep NAME, per run and per worker' },
  { name: 'collect', type: 'switch', help: 'with --queue: write the table of the sweep NAME into --out (exit 1 while runs are unfinished)' },
  { name: 'wait', type: 'switch', help: 'with --queue: block until every run of NAME is done (or one failed for good)' },
  { name: 'poll_ms', type: 'integer', min: 100, max: 60_000, default: '2000', help: 'with --wait: how often to look' },
];
/**
 * A value a --grid axis (or an axis list: --seed 1,1) gives twice, as its flag reads it (seed=1,01 and
 * data=a.csv,./a.csv are the same runs twice): the first spelling and the repeat, or undefined.
 */
function repeatedGridValue(f: FlagSpec, values: readonly string[]): [first: string, again: string] | undefined {
  const same = (v: string) => (f.type === 'number' || f.type === 'integer' ? String(Number(v)) : f.name === 'data' ? resolve(v) : v);
  const seen = new Map<string, string>();
  for (const v of values) {
    const first = seen.get(same(v));
    if (first !== undefined) return [first, v];
    seen.set(same(v), v);
  }
  return undefined;
}

/** The sweep flags that mean something only for a queued sweep. */
const QUEUE_ONLY = ['name', 'status', 'collect', 'wait', 'poll_ms'];
export const SWEEP_OWN_NAMES: ReadonlySet<string> = new Set(SWEEP_OWN.map((f) => f.name));

export const SWEEP: CommandSpec = {
  name: 'sweep',
  summary: 'Train every combination of --grid (each with the train flags given), then select one.',
  flags: [...SWEEP_OWN, ...TRAIN.flags.filter((f) => !SWEEP_OWN_NAMES.has(f.name))],
  notes: "Every other flag is sparsecast train's (sparsecast train --help) and goes to each run.",
  finish: (args) => {
    const queued = args.flags.has('queue');
    const has = (n: string) => args.flags.has(n) || args.switches.has(n);
    if (!queued) {
      for (const n of QUEUE_ONLY) if (has(n)) throw new FlagError(`sparsecast sweep: --${n} applies to a queued sweep (--queue redis://HOST:PORT/DB) only`);
    } else {
      if (has('jobs')) throw new FlagError('sparsecast sweep: --jobs is for a local sweep; with --queue, start more `sparsecast worker`s (or give them --concurrency)');
      if (has('resume')) throw new FlagError('sparsecast sweep: --resume is for a local sweep; a queued run resumes by itself from its checkpoint in --artifacts');
      if (!args.flags.has('name')) throw new FlagError('sparsecast sweep: a queued sweep needs --name NAME (it names the sweep in the queue)');
      if (args.switches.has('status') && args.switches.has('collect')) throw new FlagError('sparsecast sweep: give either --status or --collect');
      if (args.switches.has('collect') && !args.flags.has('out')) throw new FlagError('sparsecast sweep: --collect needs --out DIR');
    }
    // Reading a queued sweep (--status, --collect, --wait alone) takes no grid; everything else needs one.
    const reading = queued && (args.switches.has('status') || args.switches.has('collect') || args.switches.has('wait'));
    const words = args.repeated?.get('grid') ?? [];
    if (reading && (words.length || passThroughArgs(args, TRAIN, SWEEP_OWN_NAMES).length)) {
      if (args.switches.has('status') || args.switches.has('collect')) throw new FlagError('sparsecast sweep: --status / --collect read an enqueued sweep; give no --grid or train flags with them');
    }
    if (!reading && !words.length) throw new FlagError('sparsecast sweep: --grid NAME=V1,V2 … is required (or list values of --data, --pred_len, --seed, --method, --model)');
    const trainFlags = new Map(TRAIN.flags.map((f) => [f.name, f] as const));
    const grid = new Map<string, string[]>();
    for (const word of args.repeated?.get('grid') ?? []) {
      const eq = word.indexOf('=');
      if (eq <= 0) throw new FlagError(`sparsecast sweep: --grid expects NAME=V1,V2,…, got '${word}'`);
      const key = word.slice(0, eq).replace(/^-+/, '');
      const f = trainFlags.get(key);
      if (!f || SWEEP_OWN_NAMES.has(key)) {
        const guess = didYouMean(key, TRAIN.flags.filter((t) => !SWEEP_OWN_NAMES.has(t.name)).map((t) => t.name));
        throw new FlagError(`sparsecast sweep: --grid ${key}: not a train flag${guess ? `; did you mean ${guess}?` : " ('sparsecast train --help' lists them)"}`);
      }
      if (f.type === 'switch') throw new FlagError(`sparsecast sweep: --grid ${key}: a switch has no values to grid; run the sweep with and without --${key}`);
      if (grid.has(key)) throw new FlagError(`sparsecast sweep: --grid ${key} is given twice`);
      if (args.flags.has(key)) throw new FlagError(`sparsecast sweep: --${key} is both a flag and a --grid key; give it once`);
      // TSLib's spellings (Nonstationary_Transformer) become this CLI's before the repeat check and the runs' names.
      const values = word.slice(eq + 1).split(',').filter((v) => v !== '').map((v) => f.aliases?.[v] ?? v);
      if (!values.length) throw new FlagError(`sparsecast sweep: --grid ${key} has no values`);
      const repeated = repeatedGridValue(f, values);
      if (repeated) {
        const [first, again] = repeated;
        const what = first === again ? `${first} twice` : `the same value twice (${first} and ${again})`;
        throw new FlagError(`sparsecast sweep: ${key}=${values.join(',')} gives ${what}; a repeated value trains the same run again, so give each value once`);
      }
      for (const v of values) {
        try {
          checkValue(SWEEP, f, v);
        } catch (e) {
          throw e instanceof FlagError ? new FlagError(e.message.replace(/^sparsecast sweep: /, `sparsecast sweep: --grid ${key}=${values.join(',')}: `)) : e;
        }
      }
      grid.set(key, values);
    }
    // Each run's flags pass train's own rules now, not minutes into the sweep; their warnings show here, each
    // once (the runs' own stderr is the sweep's only when one fails).
    if (!words.length) return;
    const pass = passThroughArgs(args, TRAIN, SWEEP_OWN_NAMES);
    const warnings = new Set<string>();
    const runCheck = trainSpec({ dataHere: !queued, onWarning: (w) => warnings.add(w) });
    for (const combo of gridCombinations(grid)) {
      try {
        // Every run gets its own --out (a local sweep's subfolder, a worker's artifacts folder).
        parseCommandArgs(runCheck, [...runTrainArgs(pass, combo).argv, `--out=${join(args.flags.get('out') ?? 'sweep', runName(combo))}`]);
      } catch (e) {
        if (!(e instanceof FlagError)) throw e;
        const at = Object.entries(combo).map(([k, v]) => `${k}=${v}`).join(' ');
        throw new FlagError(`${e.message.replace(/^sparsecast train: /, 'sparsecast sweep: ')} (in the run ${at})`);
      }
    }
    for (const w of warnings) warn(w);
  },
};

export const EXPORT: CommandSpec = {
  name: 'export',
  summary: 'One model file for sparsecast/infer from a train run (CSR for layers below the density threshold).',
  flags: [
    { name: 'checkpoint', type: 'string', metavar: 'DIR', required: true, help: 'the --out folder of a train run' },
    { name: 'out', type: 'string', metavar: 'FILE', required: true, help: 'the model file to write (e.g. model.sc)' },
    { name: 'csr_threshold', type: 'number', min: 0, max: 1, default: `${DEFAULT_CSR_THRESHOLD}`, help: 'store a masked layer as CSR below this density' },
  ],
};

export const REPORT: CommandSpec = {
  name: 'report',
  summary: "One self-contained HTML page, DIR/report.html, from a train run's --out folder.",
  positionals: { metavar: 'DIR', help: 'the run folder (same as --out DIR)', max: 1 },
  flags: [{ name: 'out', type: 'string', metavar: 'DIR', help: 'the --out folder of a train run' }],
  finish: (args) => {
    const out = args.flags.get('out');
    if (out !== undefined && args.command !== undefined && out !== args.command) {
      throw new FlagError(`sparsecast report: the run folder is given twice ('${args.command}' and --out ${out}); give one`);
    }
    if (out === undefined && args.command === undefined) throw new FlagError('sparsecast report: --out DIR (the --out folder of a training run) is required');
  },
};

/** Flags that only one of bench sparsity's two modes reads. */
const BENCH_STUDY_ONLY = ['svg', 'densities', 'shapes', 'pass'];
const BENCH_TRAIN_ONLY = ['density', 'batch', 'structure'];

export const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'sparsity: CSR vs dense-masked GEMM by density; with --train, a training step and inference, dense vs sparse formats vs auto.',
  positionals: { metavar: 'sparsity', help: 'the bench (the others run from a checkout: npm run bench -- <name>)', max: 1 },
  flags: [
    { name: 'train', type: 'switch', help: 'time a training step and inference instead of single GEMMs' },
    { name: 'json', type: 'switch', help: 'JSON lines instead of a table' },
    { name: 'preset', type: 'string', choices: ['small', 'full', 'all'], default: 'all (with --train: small)', help: 'layer shapes (with --train: small or full)' },
    { name: 'runs', type: 'integer', min: 1, default: '5', help: 'timed runs per measurement' },
    { name: 'backend', type: 'string', choices: ['wasm', 'js'], default: 'wasm', help: 'compute engine' },
    THREADS,
    { name: 'svg', type: 'string', metavar: 'PATH', default: 'sparsity.svg', help: 'the speedup chart to write' },
    { name: 'densities', type: 'list', min: 0, minOpen: true, max: 1, metavar: 'D,D', help: 'densities to measure (default 1 … 0.02)' },
    { name: 'shapes', type: 'string', metavar: 'MxNxK,…', help: "GEMM shapes instead of the preset's" },
    { name: 'pass', type: 'string', choices: ['forward', 'backward'], help: 'only this pass (default both)' },
    { name: 'density', type: 'number', min: 0, minOpen: true, max: 1, default: '0.1', help: '--train: density of the masked layers' },
    { name: 'batch', type: 'integer', min: 1, default: '32', help: '--train: batch size' },
    { name: 'structure', type: 'string', choices: ['unstructured', 'fan_in', 'block'], default: 'unstructured', help: '--train: structure of the static masks (block: 4×4 blocks)' },
  ],
  finish: (args) => {
    const name = args.command;
    if (name !== 'sparsity') {
      throw new FlagError(`sparsecast bench: only 'sparsity' is bundled with the CLI; run '${name ?? '<name>'}' from a checkout with \`npm run bench -- ${name ?? '<name>'}\``);
    }
    const train = args.switches.has('train');
    for (const f of train ? BENCH_STUDY_ONLY : BENCH_TRAIN_ONLY) {
      if (args.flags.has(f)) throw new FlagError(`sparsecast bench: --${f} applies to bench sparsity ${train ? 'without' : 'with'} --train`);
    }
    const threads = threadsIgnoredWarning(args, args.flags.get('backend') ?? 'wasm');
    if (threads) warn(threads);
    if (train && args.flags.get('preset') === 'all') throw new FlagError("sparsecast bench: --preset must be small or full with --train, got 'all'");
    const shapes = args.flags.get('shapes');
    if (shapes !== undefined && !shapes.split(',').every((s) => /^\d+x\d+x\d+$/.test(s) && s.split('x').every((v) => Number(v) > 0))) {
      throw new FlagError(`sparsecast bench: --shapes expects MxNxK,… with positive integers, got '${shapes}'`);
    }
  },
};

/** Every command, in the order the usage lists them. */
export const WORKER: CommandSpec = {
  name: 'worker',
  summary: 'Take queued sweep runs (sweep … --queue URL) and train them, until stopped (Ctrl-C / SIGTERM give the running jobs back).',
  flags: [
    { name: 'queue', type: 'string', metavar: 'redis://HOST:PORT/DB', required: true, help: 'the Redis the sweeps were enqueued on' },
    { name: 'concurrency', type: 'integer', min: 1, max: 256, default: '1', help: 'runs at once on this worker' },
    { name: 'threads', type: 'integer', min: 1, max: 256, help: 'wasm kernel threads per run (default: the run\'s own)' },
    { name: 'artifacts', type: 'string', metavar: 'DIR', default: 'artifacts', help: 'run folders, keyed by config hash; a folder every worker sees, so a retried run resumes from its checkpoint' },
    { name: 'lock_ms', type: 'integer', min: 1000, max: 3_600_000, default: '30000', help: 'BullMQ job lock: a worker silent this long is presumed dead and its job retried' },
    { name: 'name', type: 'string', metavar: 'NAME', default: 'HOST:PID', help: 'this worker\'s name in --status' },
  ],
};

export const COMMANDS: readonly CommandSpec[] = [TRAIN, EVAL, PREDICT, SWEEP, EXPORT, IMPORT, REPORT, BENCH, WORKER];
