/**
 * The flags every line of Time-Series-Library's published scripts passes to its run.py besides the model's own
 * (`--task_name long_term_forecast --is_training 1 --model_id ili_36_24 --data custom --enc_in 7 --dec_in 7
 * --c_out 7 --des 'Exp' --itr 1`), so that such a line runs as `sparsecast train` as written. They say what a
 * run is rather than how it trains, and each is held to what this run does: a value that would make TSLib do
 * something else is refused, naming the flag, never dropped.
 * - `--task_name long_term_forecast`, `--is_training 1` (0 is TSLib's test-only run: sparsecast eval),
 *   `--itr 1`, `--embed timeF`, `--loss MSE`: the only task, mode, repeat count, embedding and loss here;
 * - `--enc_in` / `--dec_in` / `--c_out`: checked against the data's channels once the file is read
 *   (declaredChannelsError), where TSLib would build a model of the wrong width and fail mid-batch;
 * - `--model_id` / `--des`: the run's labels (TSLib names its result folder by them), in its JSON line;
 * - `--data ETTh1|ETTh2|ETTm1|ETTm2|custom` beside `--root_path` / `--data_path`: TSLib's loader, which decides
 *   the split (the ETT loaders split by months, custom 70/10/20), read as --data_kind (tslibLoader).
 * TSLib's default model is the full-size one (d_model 512, 8 heads, d_ff 2048, dropout 0.1) where this CLI's is
 * the small preset: a TSLib line that sets no size is warned of (tslibSizeWarning).
 */
import type { ParsedArgs } from './args.ts';
import type { FlagSpec } from './flags.ts';
import { PRESETS } from '../models/config.ts';

export const TSLIB_RUN_FLAGS: readonly FlagSpec[] = [
  { name: 'task_name', type: 'string', metavar: 'long_term_forecast', help: "TSLib run.py's: long_term_forecast, the only task here" },
  { name: 'is_training', type: 'integer', metavar: '1', help: "TSLib run.py's: 1 (TSLib's 0, test only, is sparsecast eval)" },
  { name: 'itr', type: 'integer', metavar: '1', help: "TSLib run.py's: 1 (for repeats: --seed, or sweep --grid seed=…)" },
  { name: 'embed', type: 'string', metavar: 'timeF', help: "TSLib run.py's: timeF, the only embedding here" },
  { name: 'loss', type: 'string', metavar: 'MSE', help: "TSLib run.py's: MSE (or mse), the only training loss here" },
  { name: 'enc_in', type: 'integer', min: 1, help: "TSLib run.py's: encoder channels, checked against the data (M, MS: its columns; S: 1)" },
  { name: 'dec_in', type: 'integer', min: 1, help: "TSLib run.py's: decoder channels, checked like --enc_in" },
  { name: 'c_out', type: 'integer', min: 1, help: "TSLib run.py's: output channels, checked like --enc_in (MS outputs every channel, as TSLib's scripts set it)" },
  { name: 'model_id', type: 'string', metavar: 'NAME', help: "TSLib run.py's: a label for the run, in its JSON line" },
  { name: 'des', type: 'string', metavar: 'TEXT', help: "TSLib run.py's: a description of the run, in its JSON line" },
];

/** The TSLib run.py flags that only describe a run: their presence marks a line copied from a TSLib script. */
const TSLIB_MARKERS = ['task_name', 'is_training', 'itr', 'model_id', 'des', 'enc_in', 'dec_in', 'c_out'];

/**
 * The first TSLib run.py flag whose value this run cannot honour, as an error message; undefined if none.
 * `testOnly`: --is_training 0 is allowed too (import: the weights of a test-only line are the same model).
 */
export function tslibRunFlagError(args: ParsedArgs, opts: { testOnly?: boolean } = {}): string | undefined {
  const f = (n: string) => args.flags.get(n);
  const task = f('task_name');
  if (task !== undefined && task !== 'long_term_forecast') {
    return `--task_name ${task} is a TSLib task sparsecast does not have; it does long_term_forecast only`;
  }
  const training = f('is_training');
  if (training !== undefined && !(Number(training) === 1 || (opts.testOnly && Number(training) === 0))) {
    return `--is_training ${training}: TSLib's test-only run (0) is 'sparsecast eval --checkpoint DIR' here; train takes --is_training 1 or none`;
  }
  const itr = f('itr');
  if (itr !== undefined && Number(itr) !== 1) {
    return `--itr ${itr}: TSLib repeats the run ${itr} times; here repeat a run with another --seed, or grid seeds with sparsecast sweep --grid seed=2020,2021,2022`;
  }
  const embed = f('embed');
  if (embed !== undefined && embed !== 'timeF') return `--embed ${embed}: sparsecast has the timeF embedding only (TSLib's default)`;
  const loss = f('loss');
  // TSLib's default is MSE, the PALS reference's mse: the same loss.
  if (loss !== undefined && loss.toUpperCase() !== 'MSE') return `--loss ${loss}: sparsecast trains on MSE only (TSLib's default)`;
  return undefined;
}

/** TSLib's `--data` names of its loaders; the ETT ones and custom are the long-term forecasting loaders. */
const LOADER_KINDS: Record<string, string> = { ETTh1: 'ETTh', ETTh2: 'ETTh', ETTm1: 'ETTm', ETTm2: 'ETTm', custom: 'custom' };
const OTHER_LOADERS = ['m4', 'PSM', 'MSL', 'SMAP', 'SMD', 'SWAT', 'UEA'];

/**
 * `--data NAME` given with --root_path / --data_path is TSLib's loader: it becomes --data_kind (and --data is
 * left to be the joined path). Returns an error message for a loader of another task or a --data_kind that
 * disagrees; undefined when --data is not a loader name (the caller's rule for two data flags applies).
 */
export function tslibLoader(args: ParsedArgs): string | undefined {
  const name = args.flags.get('data');
  if (name === undefined) return undefined;
  if (OTHER_LOADERS.includes(name)) return `--data ${name} is TSLib's loader of a task sparsecast does not have; long-term forecasting reads --data ETTh1, ETTh2, ETTm1, ETTm2 or custom`;
  const kind = LOADER_KINDS[name];
  if (kind === undefined) return undefined;
  const given = args.flags.get('data_kind');
  if (given !== undefined && given !== 'auto' && given !== kind) {
    return `--data ${name} (TSLib's loader) splits as --data_kind ${kind}, but --data_kind ${given} is given; give one`;
  }
  args.flags.delete('data');
  args.flags.set('data_kind', kind);
  return undefined;
}

/**
 * A warning for a TSLib script line that sets no model size: TSLib builds its full-size model by default, this
 * CLI the small preset, so the same line trains a different model here unless --preset full is added.
 */
export function tslibSizeWarning(args: ParsedArgs): string | undefined {
  if (!TSLIB_MARKERS.some((n) => args.flags.has(n))) return undefined;
  if (['preset', 'd_model', 'd_ff', 'n_heads', 'dropout'].some((n) => args.flags.has(n))) return undefined;
  const s = PRESETS.small;
  const full = PRESETS.full;
  return `this is a TSLib run.py line: TSLib's default model is d_model ${full.dModel}, ${full.nHeads} heads, d_ff ${full.dFf}, dropout 0.1, ` +
    `this CLI's the small preset (d_model ${s.dModel}, ${s.nHeads} heads, d_ff ${s.dFf}, dropout ${s.dropout}); add --preset full --dropout 0.1 for TSLib's ` +
    `(--preset full alone is the PALS reference's, dropout ${full.dropout})`;
}

/** What the data gives each of TSLib's channel flags: M and MS read and predict every column, S the target only. */
export interface DeclaredChannels {
  encIn?: number;
  decIn?: number;
  cOut?: number;
}

export function declaredChannels(args: ParsedArgs): DeclaredChannels | undefined {
  const n = (k: string) => (args.flags.has(k) ? Number(args.flags.get(k)) : undefined);
  const d: DeclaredChannels = { encIn: n('enc_in'), decIn: n('dec_in'), cOut: n('c_out') };
  return d.encIn === undefined && d.decIn === undefined && d.cOut === undefined ? undefined : d;
}

/** The first channel flag that disagrees with the data read (`channels` as the model sees them), or undefined. */
export function declaredChannelsError(declared: DeclaredChannels | undefined, channels: number, features: string, file: string): string | undefined {
  if (!declared) return undefined;
  for (const [flag, v] of [['enc_in', declared.encIn], ['dec_in', declared.decIn], ['c_out', declared.cOut]] as const) {
    if (v === undefined || v === channels) continue;
    if (flag === 'c_out' && features === 'MS' && v === 1) {
      return `--c_out 1 with --features MS: TSLib then builds an output layer for the target alone; sparsecast's MS model outputs every channel and scores the target (TSLib's scripts pass --c_out ${channels}, the column count, here), so give --c_out ${channels} or none`;
    }
    const why = features === 'S' ? 'with --features S the model reads and predicts the target column only'
      : `with --features ${features} the model reads${features === 'MS' ? ' and outputs' : ' and predicts'} every column but the date`;
    return `--${flag} ${v}, but ${file} gives ${channels} channel${channels === 1 ? '' : 's'} (${why}); a model ${v} wide does not fit this data (TSLib fails at its first batch)`;
  }
  return undefined;
}
