// Every flag of every command is checked at the door: the real CLI (bin/sparsecast.js in a child process)
// refuses an unknown flag naming the closest known one, refuses an out-of-range value naming the flag and the
// range, and writes no --out folder when it refuses; --help, -h and --version answer with exit code 0. Each
// case below was a reproduced defect (a flag silently ignored, or a bad value failing late and obscurely).
import { describe, expect, it, beforeAll, vi } from 'vitest';
import { runCliAsync } from './shared/cli.ts';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean, editDistance, refuseUnknownKeys } from '../src/cli/did-you-mean.ts';
import { parseCommandArgs, FlagError } from '../src/cli/flags.ts';
import { TRAIN, SWEEP, COMMANDS } from '../src/cli/commands.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DATA = join(root, 'data', 'ETTh1.csv');
const TINY = ['--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2', '--e_layers', '1',
  '--d_ff', '32', '--train_epochs', '1', '--max_train_batches', '3'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The real binary in `cwd` (a temp folder, so a stray ./forecast.csv or ./sweep would show). */
function cli(args: string[], cwd: string): Promise<Run> {
  return runCliAsync(args, { cwd });
}

/** Run all at once, at most `limit` children at a time (the machine is shared). */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/** Refused before anything is written: [name, argv (an --out inside the case's folder is added), stderr pattern]. */
const REFUSED: Array<[string, string[], RegExp]> = [
  ['--pred-len is not a flag (was: trained with the default pred_len)', ['train', '--data', DATA, '--pred-len', '48'],
    /^unknown flag --pred-len for 'sparsecast train'; did you mean --pred_len\?$/m],
  ['--epochs is not a flag (was: trained 10 epochs)', ['train', '--data', DATA, '--epochs', '1'], /unknown flag --epochs .*did you mean --train_epochs\?/],
  ['predict --ouput (was: wrote ./forecast.csv)', ['predict', '--checkpoint', 'nowhere', '--data', DATA, '--ouput', 'x.csv'],
    /unknown flag --ouput for 'sparsecast predict'; did you mean --out\?/],
  ['sweep --grid foo (was: identical runs)', ['sweep', '--data', DATA, '--grid', 'foo=1,2'], /sweep: --grid foo: not a train flag/],
  ['sweep --grid lamda: did you mean', ['sweep', '--data', DATA, '--grid', 'lamda=1.1,1.2'], /--grid lamda: not a train flag; did you mean lambda\?/],
  ['sweep --grid lambda=0.5 fails up front', ['sweep', '--data', DATA, '--grid', 'lambda=0.5,1.1'], /--grid lambda=0.5,1.1: --lambda must be greater than 1, got 0.5/],
  ['sweep pass-through flags pass train\'s table', ['sweep', '--data', DATA, '--batch_size', '0', '--grid', 'lambda=1.1'], /--batch_size must be in \[1, 65536\], got 0/],
  ['--batch_size 0 (was: 50 s, then a V8 OOM abort)', ['train', '--data', DATA, '--batch_size', '0'], /--batch_size must be in \[1, 65536\], got 0/],
  ['--batch_size -4', ['train', '--data', DATA, '--batch_size', '-4'], /--batch_size must be in \[1, 65536\], got -4/],
  ['--pred_len 0 (was: NaN loss)', ['train', '--data', DATA, '--pred_len', '0'], /--pred_len must be in \[1, 5000\], got 0/],
  ['--pred_len -5 (was: an internal slice error)', ['train', '--data', DATA, '--pred_len', '-5'], /--pred_len must be in \[1, 5000\], got -5/],
  ['--seq_len 20000 (past the position table)', ['train', '--data', DATA, '--seq_len', '20000'], /--seq_len must be in \[1, 5000\], got 20000/],
  ['--train_epochs 0 (was: a missing-file error)', ['train', '--data', DATA, '--train_epochs', '0'], /--train_epochs must be at least 1, got 0/],
  ['--learning_rate -1 (was: accepted)', ['train', '--data', DATA, '--learning_rate', '-1'], /--learning_rate must be greater than 0, got -1/],
  ['--learning_rate=-1e-3 (inline form)', ['train', '--data', DATA, '--learning_rate=-1e-3'], /--learning_rate must be greater than 0, got -1e-3/],
  ['--lambda 0 (was: accepted)', ['train', '--data', DATA, '--lambda', '0'], /--lambda must be greater than 1, got 0/],
  ['--s_min above --s_max (was: accepted)', ['train', '--data', DATA, '--s_min', '0.9', '--s_max', '0.5'], /--s_min 0.9 must be less than --s_max 0.5/],
  ['--max_train_batches 0 (was: accepted)', ['train', '--data', DATA, '--max_train_batches', '0'], /--max_train_batches must be at least 1, got 0/],
  ['--label_len above --seq_len', ['train', '--data', DATA, '--seq_len', '24', '--label_len', '48'], /--label_len 48 must be at most --seq_len 24/],
  ['--d_model not divisible by --n_heads', ['train', '--data', DATA, '--d_model', '30', '--n_heads', '4'], /--d_model 30 is not divisible by --n_heads 4/],
  ['--moving_avg even', ['train', '--data', DATA, '--moving_avg', '24'], /--moving_avg must be odd/],
  ['--dropout 1', ['train', '--data', DATA, '--dropout', '1'], /--dropout must be in \[0, 1\), got 1/],
  ['--density 0', ['train', '--data', DATA, '--density', '0'], /--density must be in \(0, 1\], got 0/],
  ['--seq_len abc', ['train', '--data', DATA, '--seq_len', 'abc'], /--seq_len expects an integer in \[1, 5000\], got 'abc'/],
  ['--seq_len 1.5', ['train', '--data', DATA, '--seq_len', '1.5'], /--seq_len expects an integer/],
  ['--is_training 0 (TSLib\'s test-only run)', ['train', '--is_training', '0', '--data', DATA], /--is_training 0: TSLib's test-only run \(0\) is 'sparsecast eval --checkpoint DIR' here/],
  ['--use_gpu (TSLib)', ['train', '--data', DATA, '--use_gpu', 'True'], /--use_gpu is TSLib's; .*--backend/],
  ['--data ETTh1 (a TSLib data-set name)', ['train', '--data', 'ETTh1'], /--data takes a CSV path, got 'ETTh1'/],
  ['--data with --root_path', ['train', '--data', DATA, '--root_path', join(root, 'data')], /--data and --root_path\/--data_path both name the data/],
  ['--resume takes no value', ['train', '--data', DATA, '--resume', 'true'], /unexpected argument 'true' \(--resume is a switch and takes no value\)/],
  ['a value flag at the end', ['train', '--data', DATA, '--seq_len'], /--seq_len needs a value/],
  ['eval takes only its flags', ['eval', '--checkpoint', 'x', '--seq_len', '24'], /unknown flag --seq_len for 'sparsecast eval'/],
  ['bench --svg with --train', ['bench', 'sparsity', '--train', '--svg', 'x.svg'], /--svg applies to bench sparsity without --train/],
  ['bench --runs 0', ['bench', 'sparsity', '--runs', '0'], /bench: --runs must be at least 1, got 0/],
  ['export --csr_threshold 2', ['export', '--checkpoint', 'x', '--out', 'm.sc', '--csr_threshold', '2'], /--csr_threshold must be in \[0, 1\], got 2/],
  ['unknown command', ['trian'], /unknown command 'trian'; did you mean 'train'\?/],
  ['sweep --resume with --queue (a queued run resumes by itself)', ['sweep', '--data', DATA, '--method', 'pals', '--grid', 'lambda=1.1', '--queue', 'redis://127.0.0.1:1/0', '--name', 'x', '--resume'], /--resume is for a local sweep/],
  ['--sparsity_structure takes only its choices', ['train', '--data', DATA, '--method', 'pals', '--sparsity_structure', 'nm'], /--sparsity_structure must be one of unstructured, fan_in, block/],
  ['a structure needs a sparse method', ['train', '--data', DATA, '--sparsity_structure', 'fan_in'], /--sparsity_structure does not apply to --method dense \(it has no masks/],
  ['--lambda with --method dense (was: ignored)', ['train', '--data', DATA, '--lambda', '1.2'], /--lambda does not apply to --method dense/],
  ['--growth with --method rigl (was: ignored; RigL grows by gradient)', ['train', '--data', DATA, '--method', 'rigl', '--growth', 'random'], /--growth does not apply to --method rigl \(it reads --density, --update_freq/],
  ['--val_batches and --lambda with granet', ['train', '--data', DATA, '--method', 'granet', '--val_batches', '2', '--lambda', '1.2'], /--val_batches, --lambda do not apply to --method granet/],
  ['a grid key the method does not read would repeat runs', ['sweep', '--data', DATA, '--method', 'dense,pals', '--grid', 'lambda=1.05,1.1'], /--lambda does not apply to --method dense .*\(in the run method=dense lambda=1.05\)/],
  ['--block_size without block is not ignored', ['train', '--data', DATA, '--method', 'pals', '--block_size', '8'], /--block_size applies to --sparsity_structure block only/],
  ['--fan_in_ablation without fan_in is not ignored', ['train', '--data', DATA, '--method', 'pals', '--sparsity_structure', 'block', '--fan_in_ablation', '0.5'], /--fan_in_ablation applies to --sparsity_structure fan_in only/],
];

describe('sparsecast flags at the door (child processes)', () => {
  let results: Map<string, Run & { dir: string }>;

  beforeAll(async () => {
    const runs = await pool(REFUSED, 2, async ([name, argv]) => {
      const dir = mkdtempSync(join(tmpdir(), 'sc-flags-'));
      // The commands that write a folder or file get an --out inside the case's folder, to prove nothing is written.
      const withOut = ['train', 'sweep', 'predict'].includes(argv[0]!) ? [...argv, '--out', join(dir, 'out')] : argv;
      return [name, { ...(await cli(withOut, dir)), dir }] as const;
    });
    results = new Map(runs);
  }, 600_000);

  it.each(REFUSED.map(([name, , pattern]) => [name, pattern] as const))('%s', (name, pattern) => {
    const r = results.get(name)!;
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr.trim().split('\n'), 'one line').toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stdout).toBe('');
    expect(existsSync(join(r.dir, 'out')), 'no --out folder').toBe(false);
    expect(existsSync(join(r.dir, 'forecast.csv')), 'no ./forecast.csv').toBe(false);
    expect(existsSync(join(r.dir, 'sweep')), 'no ./sweep').toBe(false);
  });

  it('--help and -h for every command, --version, help', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-help-'));
    const cases = [...COMMANDS.map((c) => [c.name, '--help']), ['predict', '-h'], ['--help'], ['-h'], ['--version'], ['-V'], ['help', 'sweep']];
    const runs = await pool(cases, 2, (argv) => cli(argv, dir));
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
    runs.forEach((r, i) => {
      const argv = cases[i]!;
      expect(r.status, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      if (argv.some((a) => /^(--version|-V|version)$/.test(a))) expect(r.stdout).toBe(`sparsecast ${version}\n`);
      else if (argv.length === 2) {
        const cmd = COMMANDS.find((c) => c.name === argv[argv[0] === 'help' ? 1 : 0])!;
        expect(r.stdout).toMatch(new RegExp(`^usage: sparsecast ${cmd.name}`));
        for (const f of cmd.flags) if (!f.pending) expect(r.stdout, `${cmd.name} --${f.name}`).toContain(`--${f.name}`);
      } else {
        for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name} `);
      }
    });
    const train = runs[0]!.stdout;
    expect(train).toMatch(/--pred_len N +forecast horizon \(default 96; in \[1, 5000\]\)/);
    expect(train).toMatch(/--learning_rate N .*\(default 1e-4; greater than 0\)/);
    expect(train).toMatch(/--method dense\|pals\|/);
  }, 300_000);

  it('--root_path DIR --data_path FILE trains on DIR/FILE (TSLib spelling; --name=value works)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-rootpath-'));
    const out = join(dir, 'run');
    const r = await cli(['train', '--root_path', join(root, 'data'), '--data_path=ETTh1.csv', ...TINY, '--out', out], dir);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim());
    expect(json.data).toBe('ETTh1.csv');
    expect(json.pred_len).toBe(24);
    expect(json.epochs_run).toBe(1);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).data).toBe(DATA);
  }, 120_000);
});

describe('did-you-mean', () => {
  it('edit distance counts a swap of neighbours as one', () => {
    expect(editDistance('lambda', 'lambda')).toBe(0);
    expect(editDistance('lamdba', 'lambda')).toBe(1);
    expect(editDistance('ouput', 'out')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('dashes, underscores and case are one spelling', () => {
    expect(didYouMean('pred-len', ['seq_len', 'pred_len'])).toBe('pred_len');
    expect(didYouMean('Learning-Rate', ['learning_rate'])).toBe('learning_rate');
  });

  it('near typos and whole words find their flag; far names find none', () => {
    const names = TRAIN.flags.map((f) => f.name);
    expect(didYouMean('lamda', names)).toBe('lambda');
    expect(didYouMean('batchsize', names)).toBe('batch_size');
    expect(didYouMean('epochs', names)).toBe('train_epochs');
    expect(didYouMean('ouput', ['checkpoint', 'data', 'out'])).toBe('out');
    expect(didYouMean('zzzzzz', names)).toBeUndefined();
    expect(didYouMean('x', ['out'])).toBeUndefined();
  });

  it('refuses the first unknown key of an options object, with the nearest name or the list', () => {
    const known = ['batchSize', 'split', 'maxBatches'];
    expect(() => refuseUnknownKeys('evaluate', { split: 'val', batchSize: 8 }, known)).not.toThrow();
    expect(() => refuseUnknownKeys('evaluate', {}, known)).not.toThrow();
    expect(() => refuseUnknownKeys('evaluate', { split: 'val', batch_size: 8 }, known)).toThrow(/^evaluate: unknown option batch_size; did you mean batchSize\?$/);
    expect(() => refuseUnknownKeys('evaluate', { zzzzzz: 1 }, known)).toThrow(/^evaluate: unknown option zzzzzz \(options: batchSize, split, maxBatches\)$/);
    expect(() => refuseUnknownKeys('fit', { densty: 0.5 }, ['updateFrequency', 'density'], 'sparse.')).toThrow(/^fit: unknown option sparse\.densty; did you mean sparse\.density\?$/);
  });
});

describe('parseCommandArgs', () => {
  const train = (...argv: string[]) => parseCommandArgs(TRAIN, ['--data', DATA, ...argv]);

  it('keeps the raw strings, switches and the last of a repeated flag', () => {
    const a = train('--seq_len', '48', '--pred_len=24', '--resume', '--out', 'run', '--train_epochs', '2', '--train_epochs', '10');
    expect(a.flags.get('seq_len')).toBe('48');
    expect(a.flags.get('pred_len')).toBe('24');
    expect(a.flags.get('train_epochs')).toBe('10');
    expect(a.switches.has('resume')).toBe(true);
    expect(a.flags.get('data')).toBe(DATA);
  });

  it('a model flag the model does not read is accepted, as TSLib accepts it, with a warning naming its readers', () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let lines: string[];
    try {
      train('--model', 'Transformer', '--p_hidden_dims', '32,32', '--factor', '3');
      train('--model', 'NSTransformer', '--p_hidden_dims', '32,32');
      train('--model', 'Informer', '--factor', '3', '--distil');
      lines = spy.mock.calls.map((c) => String(c[0]));
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      'warning: --p_hidden_dims is read by NSTransformer only; --model Transformer trains the same without it\n',
      'warning: --factor is read by Informer, Autoformer only; --model Transformer trains the same without it\n',
    ]);
  });

  it('TSLib flags without a counterpart get a hint, not a guess', () => {
    expect(() => train('--gpu', '0')).toThrow(/--gpu is TSLib's; choose the engine with --backend/);
    expect(() => train('--top_k', '5')).toThrow(/--top_k is a TSLib flag of a model or task sparsecast does not have/);
    expect(() => train('--num-workers', '4')).toThrow(/--num_workers is TSLib's/);
  });

  it('a negative number is a value, not a flag; a flag is not a value', () => {
    expect(() => train('--lambda', '-2')).toThrow(/--lambda must be greater than 1, got -2/);
    expect(() => train('--out', '--resume')).toThrow(/--out needs a value, got the flag --resume/);
    expect(() => train('--seq_len', '')).toThrow(/--seq_len expects an integer/);
    expect(() => train('--seq_len', 'Infinity')).toThrow(/--seq_len expects an integer/);
    expect(() => train('--learning_rate', '1e-3')).not.toThrow();
  });

  it('sweep collects --grid words and checks every run with train\'s rules', () => {
    const a = parseCommandArgs(SWEEP, ['--data', DATA, '--method', 'pals', '--grid', 'lambda=1.05,1.1', 'gamma=1.2', '--jobs', '2']);
    expect(a.repeated?.get('grid')).toEqual(['lambda=1.05,1.1', 'gamma=1.2']);
    expect(() => parseCommandArgs(SWEEP, ['--data', DATA, '--grid', 'label_len=24,200', '--seq_len', '96'])).toThrow(FlagError);
    expect(() => parseCommandArgs(SWEEP, ['--data', DATA, '--grid', 'no_expand=1'])).toThrow(/a switch has no values to grid/);
    expect(() => parseCommandArgs(SWEEP, ['--data', DATA, '--lambda', '1.2', '--grid', 'lambda=1.1'])).toThrow(/both a flag and a --grid key/);
    expect(() => parseCommandArgs(SWEEP, ['--data', DATA])).toThrow(/--grid NAME=V1,V2 … is required/);
  });
});
