/**
 * The one argument parser of every `sparsecast` command. Each command declares a table of its flags (type,
 * default, allowed values or range, one line of help); the parser refuses any flag the table does not hold,
 * naming the closest one it does, checks every value against the table, and runs the command's cross-flag
 * rules, all before the command reads a model or writes a file. A flag that is silently ignored trains the
 * wrong model and reports its numbers as if it were the right one, so nothing unknown gets through.
 *
 * Tokenising is Node's `util.parseArgs` in strict mode. Three things are arranged before it sees the words:
 * a value flag's next word is its value even when it starts with `-` and looks like a number (`--learning_rate
 * -1` must reach the range check and be refused there, as TSLib's argparse hands it over); a repeatable flag
 * (sweep's `--grid a=1,2 b=3`) or an nargs list (TSLib's `--p_hidden_dims 256 256`) collects the words after
 * it; and a flag typed by another name of its (the PALS reference's `--update-frequency`) becomes its own name,
 * the spelling kept in `spelled` for the rules that depend on it.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import type { ParsedArgs } from './args.ts';
import { didYouMean } from './did-you-mean.ts';

export type FlagType = 'string' | 'number' | 'integer' | 'switch' | 'list';

export interface FlagSpec {
  name: string;
  type: FlagType;
  /** One line for --help. */
  help: string;
  /** The default as shown by --help (the command applies it); none: the flag is optional and has no default. */
  default?: string;
  /** The word after the flag in --help (N, PATH, …). */
  metavar?: string;
  /** Allowed values (string flags). */
  choices?: readonly string[];
  /** Range of a number, integer or of each item of a list of numbers; `*Open`: the bound itself is excluded. */
  min?: number;
  minOpen?: boolean;
  max?: number;
  maxOpen?: boolean;
  /** A list's items are integers (else numbers). */
  integerItems?: boolean;
  /** Must be odd (a centred moving-average window). */
  odd?: boolean;
  required?: boolean;
  /** Takes several words after one occurrence and may repeat (sweep's --grid name=v1,v2 …). */
  repeatable?: boolean;
  /**
   * Takes the words after it as its items, as TSLib's `nargs='+'` flags do (`--p_hidden_dims 32 32`): the
   * following words that are numbers (or comma lists of them), joined with commas. Lists only.
   */
  nargs?: boolean;
  /** Values TSLib spells another way, stored as the spelling here (`Nonstationary_Transformer` → `NSTransformer`). */
  aliases?: Readonly<Record<string, string>>;
  /**
   * Other names of the flag, as the PALS reference's run.py spells it (`loss_freedom_factor` for lambda,
   * `update-frequency` for update_freq; dashes and underscores alike): read as this flag.
   */
  altNames?: readonly string[];
  /** Declared for a feature another change brings: refused with this reason until then, never ignored. */
  pending?: string;
}

export interface CommandSpec {
  /** As typed after `sparsecast` (`bench sparsity` is `bench` with a positional). */
  name: string;
  summary: string;
  flags: readonly FlagSpec[];
  /** Bare words the command takes (report's DIR, bench's study name), with their --help line. */
  positionals?: { metavar: string; help: string; max: number };
  /** Rules between flags and derived values, run after every value has passed its own check. */
  finish?: (args: ParsedArgs) => void;
  /** Extra --help lines after the flag list. */
  notes?: string;
}

/**
 * Flags Time-Series-Library's run.py takes that have no place here, with what to do instead (the ones its
 * scripts pass on every line are train's and import's own: tslib-run-flags.ts).
 */
const TSLIB_ONLY: Record<string, string> = {
  use_gpu: "--use_gpu is TSLib's; choose the engine with --backend wasm|js|webgpu",
  gpu: "--gpu is TSLib's; choose the engine with --backend wasm|js|webgpu",
  gpu_type: "--gpu_type is TSLib's; choose the engine with --backend wasm|js|webgpu",
  use_multi_gpu: "--use_multi_gpu is TSLib's; use --threads N for parallel wasm kernels",
  devices: "--devices is TSLib's; use --threads N for parallel wasm kernels",
  num_workers: "--num_workers is TSLib's; data loading is in-process here, use --threads N for the kernels",
  use_amp: "--use_amp is TSLib's; sparsecast trains in float32 only",
  checkpoints: "--checkpoints is TSLib's; checkpoints go into the --out folder",
  output_attention: "--output_attention is TSLib's; sparsecast does not return attention maps",
  seasonal_patterns: '--seasonal_patterns is TSLib\'s (M4, short-term forecasting); sparsecast does long-term forecasting only',
  // Flags of TSLib models and tasks sparsecast does not have.
  ...Object.fromEntries(['top_k', 'num_kernels', 'expand', 'd_conv', 'channel_independence', 'decomp_method', 'use_norm',
    'down_sampling_layers', 'down_sampling_window', 'down_sampling_method', 'seg_len', 'patch_len', 'mask_rate', 'anomaly_ratio',
    'augmentation_ratio', 'use_dtw', 'extra_tag', 'num_class'].map((f) => [f, `--${f} is a TSLib flag of a model or task sparsecast does not have; 'sparsecast train --help' lists the models and flags`])),
};

/** A word that is a number, not a flag: `-1`, `-0.5`, `-.5`, `-1e-3`. */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
/** What `Number` should accept from a flag: no blanks, hex, `Infinity` or empty strings (Number('') is 0). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** One word of a list flag's items: numbers, comma-separated (`32`, `32,32`). */
const NUMBER_LIST = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?(,[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)*$/i;

export class FlagError extends Error {}

function fail(cmd: CommandSpec, message: string): never {
  throw new FlagError(`sparsecast ${cmd.name}: ${message}`);
}

/** "at least 1", "in (0, 1]", "greater than 1" — the allowed range as the errors and --help say it. */
export function describeRange(f: FlagSpec): string | undefined {
  const { min, max } = f;
  if (min !== undefined && max !== undefined) return `in ${f.minOpen ? '(' : '['}${min}, ${max}${f.maxOpen ? ')' : ']'}`;
  if (min !== undefined) return f.minOpen ? `greater than ${min}` : `at least ${min}`;
  if (max !== undefined) return f.maxOpen ? `less than ${max}` : `at most ${max}`;
  return undefined;
}

function describeChoices(choices: readonly string[]): string {
  if (choices.length === 2) return `${choices[0]} or ${choices[1]}`;
  return `one of ${choices.join(', ')}`;
}

function inRange(f: FlagSpec, v: number): boolean {
  if (f.min !== undefined && (f.minOpen ? !(v > f.min) : !(v >= f.min))) return false;
  if (f.max !== undefined && (f.maxOpen ? !(v < f.max) : !(v <= f.max))) return false;
  return true;
}

/** Refuse a value its flag's table entry does not allow (type, choices, range, odd). */
export function checkValue(cmd: CommandSpec, f: FlagSpec, raw: string): void {
  const range = describeRange(f);
  if (f.type === 'number' || f.type === 'integer') {
    const v = Number(raw);
    if (!NUMBER.test(raw.trim()) || !Number.isFinite(v) || (f.type === 'integer' && !Number.isSafeInteger(v))) {
      fail(cmd, `--${f.name} expects ${f.type === 'integer' ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, got '${raw}'`);
    }
    if (!inRange(f, v)) fail(cmd, `--${f.name} must be ${range}, got ${raw}`);
    if (f.odd && v % 2 === 0) fail(cmd, `--${f.name} must be odd (a centred window), got ${raw}`);
  } else if (f.type === 'list') {
    const items = raw.split(/[, ]+/).filter((s) => s !== '');
    const kind = f.integerItems ? 'integers' : 'numbers';
    if (!items.length) fail(cmd, `--${f.name} expects comma-separated ${kind}, got '${raw}'`);
    for (const item of items) {
      const v = Number(item);
      const ok = NUMBER.test(item) && Number.isFinite(v) && (!f.integerItems || Number.isSafeInteger(v)) && inRange(f, v);
      if (!ok) fail(cmd, `--${f.name} expects comma-separated ${kind}${range ? ` ${range}` : ''}, got '${raw}'`);
    }
  } else if (f.type === 'string') {
    if (f.choices && !f.choices.includes(raw)) fail(cmd, `--${f.name} must be ${describeChoices(f.choices)}, got '${raw}'`);
    if (raw === '') fail(cmd, `--${f.name} needs a value, got an empty string`);
  }
}

/** The error for a flag the command does not declare: TSLib's own flags get a hint, typos a suggestion. */
function unknownFlag(cmd: CommandSpec, typed: string): never {
  const name = typed.replace(/^-+/, '').split('=', 1)[0]!;
  const tslib = TSLIB_ONLY[name.replace(/-/g, '_')];
  if (tslib) fail(cmd, tslib);
  const guess = didYouMean(name, [...cmd.flags.map((f) => f.name), 'help']);
  const shown = typed.split('=', 1)[0]!;
  throw new FlagError(`unknown flag ${shown} for 'sparsecast ${cmd.name}'; ${guess ? `did you mean --${guess}?` : `'sparsecast ${cmd.name} --help' lists its flags`}`);
}

/**
 * Parse and check `argv` (the words after the command name) against the command's table. Returns the raw
 * strings (`flags`), the switches given, the bare words (`positionals`, the first also as `command`) and every
 * value of a repeatable flag. `--help` is main's (src/cli/main.ts prints commandHelp before a command runs).
 */
export function parseCommandArgs(cmd: CommandSpec, argv: readonly string[]): ParsedArgs {
  const byName = new Map(cmd.flags.map((f) => [f.name, f] as const));
  const byAltName = new Map(cmd.flags.flatMap((f) => (f.altNames ?? []).map((n) => [n.replace(/-/g, '_'), f] as const)));
  const spelled = new Map<string, string>();
  // Rewrite to forms util.parseArgs reads without guessing: `--name=value` for value flags.
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      words.push(...argv.slice(i));
      break;
    }
    if (!a.startsWith('-') || NEGATIVE_NUMBER.test(a)) {
      words.push(a);
      continue;
    }
    if (!a.startsWith('--')) unknownFlag(cmd, a);
    const eq = a.indexOf('=');
    const typed = a.slice(2, eq < 0 ? undefined : eq);
    const f = byName.get(typed) ?? byAltName.get(typed.replace(/-/g, '_'));
    if (!f) unknownFlag(cmd, a);
    const name = f.name;
    if (name !== typed) spelled.set(name, `--${typed}`);
    if (f.type === 'switch') {
      if (eq >= 0) fail(cmd, `--${name} is a switch and takes no value, got '${a}'`);
      words.push(`--${name}`);
    } else if (eq >= 0) {
      words.push(`--${name}${a.slice(eq)}`);
    } else if (f.nargs) {
      const items: string[] = [];
      while (i + 1 < argv.length && NUMBER_LIST.test(argv[i + 1]!)) items.push(argv[++i]!);
      if (!items.length) {
        const v = argv[i + 1];
        // Not a number: the value check below names it.
        if (v === undefined || (v.startsWith('-') && !NEGATIVE_NUMBER.test(v))) fail(cmd, `--${name} needs a value${v === undefined ? '' : `, got the flag ${v}`}`);
        items.push(argv[++i]!);
      }
      words.push(`--${name}=${items.join(',')}`);
    } else if (f.repeatable) {
      let n = 0;
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
        words.push(`--${name}=${argv[++i]}`);
        n++;
      }
      if (!n) fail(cmd, `--${name} needs a value`);
    } else {
      const v = argv[i + 1];
      if (v === undefined || (v.startsWith('-') && !NEGATIVE_NUMBER.test(v))) fail(cmd, `--${name} needs a value${v === undefined ? '' : `, got the flag ${v}`}`);
      words.push(`--${name}=${v}`);
      i++;
    }
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const f of cmd.flags) options[f.name] = { type: f.type === 'switch' ? 'boolean' : 'string', multiple: f.repeatable === true };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: words, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    // The rewriting above leaves util.parseArgs nothing to refuse; should it still, its message is one line.
    fail(cmd, String((e as Error).message).split('\n')[0]!);
  }
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  const repeated = new Map<string, string[]>();
  const positionals: string[] = [];
  let previous: string | undefined;
  for (const t of parsed.tokens ?? []) {
    if (t.kind === 'positional') {
      const max = cmd.positionals?.max ?? 0;
      if (positionals.length >= max) {
        const after = previous && byName.get(previous)?.type === 'switch' ? ` (--${previous} is a switch and takes no value)` : '';
        fail(cmd, `unexpected argument '${t.value}'${after}`);
      }
      positionals.push(t.value);
    } else if (t.kind === 'option') {
      const f = byName.get(t.name)!;
      if (f.pending) fail(cmd, `--${f.name} is not yet supported: ${f.pending}`);
      if (f.type === 'switch') switches.add(f.name);
      else {
        const v = f.aliases?.[t.value ?? ''] ?? t.value ?? '';
        if (v !== t.value) spelled.set(f.name, `${spelled.get(f.name) ?? `--${f.name}`} ${t.value}`);
        checkValue(cmd, f, v);
        // A repeated value flag keeps the last, as argparse does (scripts/main.sh appends overrides).
        flags.set(f.name, v);
        if (f.repeatable) repeated.set(f.name, [...(repeated.get(f.name) ?? []), v]);
      }
      previous = t.name;
      continue;
    }
    previous = undefined;
  }
  const args: ParsedArgs = { command: positionals[0], flags, switches, positionals, repeated, spelled };
  for (const f of cmd.flags) if (f.required && !flags.has(f.name)) fail(cmd, `--${f.name} ${f.metavar ?? 'VALUE'} is required`);
  cmd.finish?.(args);
  return args;
}

/** `sparsecast <command> --help`: the command's flags, defaults and ranges, from its table. */
export function commandHelp(cmd: CommandSpec): string {
  const usage = `usage: sparsecast ${cmd.name}${cmd.positionals ? ` [${cmd.positionals.metavar}]` : ''} [flags]`;
  const rows: [string, string][] = [];
  if (cmd.positionals) rows.push([cmd.positionals.metavar, cmd.positionals.help]);
  for (const f of cmd.flags) {
    if (f.pending) continue;
    const left = `--${f.name}${f.type === 'switch' ? '' : ` ${f.metavar ?? (f.choices ? f.choices.join('|') : f.type === 'integer' || f.type === 'number' ? 'N' : 'VALUE')}${f.repeatable ? ' …' : ''}`}`;
    const facts: string[] = [];
    if (f.required) facts.push('required');
    if (f.default !== undefined) facts.push(`default ${f.default}`);
    const range = describeRange(f);
    if (range && f.type !== 'string') facts.push(f.odd ? `odd, ${range}` : range);
    rows.push([left, `${f.help}${facts.length ? ` (${facts.join('; ')})` : ''}`]);
  }
  rows.push(['--help, -h', 'this list']);
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)));
  const lines = rows.map(([l, r]) => (l.length > width ? `  ${l}\n  ${' '.repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`));
  return `${usage}\n\n${cmd.summary}\n\n${lines.join('\n')}\n${cmd.notes ? `\n${cmd.notes}\n` : ''}`;
}
