// A line of Time-Series-Library's published scripts runs as `sparsecast train` as written: the flags TSLib's
// run.py needs on every line (--task_name, --is_training, --model_id, --data LOADER, --enc_in/--dec_in/--c_out,
// --des, --itr), its model name (Nonstationary_Transformer) and its nargs='+' lists (--p_hidden_dims 256 256)
// were each refused before, one at a time. Each is held to what the run does: a value TSLib would act on
// differently is refused naming the flag, the channel counts are checked against the data, the loader picks the
// split as TSLib's does, and a line that sets no size is told that TSLib's default model is the full-size one.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec } from '../src/cli/flags.ts';
import { IMPORT, SWEEP, TRAIN } from '../src/cli/commands.ts';
import { runCliAsync } from './shared/cli.ts';
import { parseInRepo } from './shared/parse-in-repo.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * The first run of TSLib's scripts/long_term_forecast/ETT_script/Nonstationary_Transformer_ETTh1.sh, flag for
 * flag, its --root_path pointed at this repo's data folder.
 */
const NST_ETTH1_LINE = ['--task_name', 'long_term_forecast', '--is_training', '1', '--root_path', './data/', '--data_path', 'ETTh1.csv',
  '--model_id', 'ETTh1_96_96', '--model', 'Nonstationary_Transformer', '--data', 'ETTh1', '--features', 'M', '--seq_len', '96',
  '--label_len', '48', '--pred_len', '96', '--e_layers', '2', '--d_layers', '1', '--factor', '3', '--enc_in', '7', '--dec_in', '7',
  '--c_out', '7', '--des', 'Exp', '--itr', '1', '--p_hidden_dims', '256', '256', '--p_hidden_layers', '2'];

/** Parse `argv` as `spec` (train by default) in the repo root, with the warnings it writes. */
const parseTrain = (argv: string[], spec: CommandSpec = TRAIN) => parseInRepo(spec, argv);

describe('a TSLib script line, parsed', () => {
  it('is accepted as written: the loader sets the split, the model name and the nargs list are read as TSLib means them', () => {
    const { flags, warnings } = parseTrain(NST_ETTH1_LINE);
    expect(flags.get('data')).toBe(join('./data/', 'ETTh1.csv'));
    expect(flags.get('data_kind')).toBe('ETTh');
    expect(flags.get('model')).toBe('NSTransformer');
    expect(flags.get('p_hidden_dims')).toBe('256,256');
    expect(flags.get('model_id')).toBe('ETTh1_96_96');
    expect(warnings).toEqual([
      expect.stringMatching(/^warning: this is a TSLib run\.py line: TSLib's default model is d_model 512, 8 heads, d_ff 2048, dropout 0\.1, this CLI's the small preset .*add --preset full --dropout 0\.1 for TSLib's/),
      // TSLib's scripts pass --factor 3 to every model; NSTransformer does not read it (as in TSLib).
      'warning: --factor is read by Informer, Autoformer only; --model NSTransformer trains the same without it\n',
    ]);
  });

  it('--data custom splits 70/10/20 even for a file named ETTh1.csv, as TSLib\'s Dataset_Custom does', () => {
    const line = NST_ETTH1_LINE.map((w) => (w === 'ETTh1' ? 'custom' : w));
    expect(parseTrain(line).flags.get('data_kind')).toBe('custom');
    const ettm = NST_ETTH1_LINE.map((w) => (w === 'ETTh1' ? 'ETTm1' : w));
    expect(parseTrain(ettm).flags.get('data_kind')).toBe('ETTm');
  });

  it('a size given (or --preset) silences the size warning; sparsecast\'s own flags alone never raise it', () => {
    const line = NST_ETTH1_LINE.filter((w, i) => w !== '--factor' && NST_ETTH1_LINE[i - 1] !== '--factor');
    expect(parseTrain(line).warnings).toHaveLength(1);
    expect(parseTrain([...line, '--preset', 'full']).warnings).toEqual([]);
    expect(parseTrain([...line, '--d_model', '512']).warnings).toEqual([]);
    expect(parseTrain(['--data', 'data/ETTh1.csv', '--model', 'NSTransformer', '--p_hidden_dims', '32,32']).warnings).toEqual([]);
  });

  it('refuses each value TSLib would act on differently, naming the flag', () => {
    const refuse = (flag: string, value: string, message: RegExp) => {
      const line = [...NST_ETTH1_LINE];
      line[line.indexOf(flag) + 1] = value;
      expect(() => parseTrain(line)).toThrow(message);
    };
    refuse('--task_name', 'short_term_forecast', /^sparsecast train: --task_name short_term_forecast is a TSLib task sparsecast does not have; it does long_term_forecast only$/);
    refuse('--is_training', '0', /--is_training 0: TSLib's test-only run \(0\) is 'sparsecast eval --checkpoint DIR' here/);
    refuse('--itr', '3', /--itr 3: TSLib repeats the run 3 times; here repeat a run with another --seed, or grid seeds/);
    refuse('--data', 'm4', /--data m4 is TSLib's loader of a task sparsecast does not have/);
    refuse('--enc_in', '0', /--enc_in must be at least 1, got 0/);
    expect(() => parseTrain([...NST_ETTH1_LINE, '--embed', 'fixed'])).toThrow(/--embed fixed: sparsecast has the timeF embedding only/);
    expect(() => parseTrain([...NST_ETTH1_LINE, '--loss', 'MAE'])).toThrow(/--loss MAE: sparsecast trains on MSE only/);
    expect(() => parseTrain([...NST_ETTH1_LINE, '--data_kind', 'custom'])).toThrow(/--data ETTh1 \(TSLib's loader\) splits as --data_kind ETTh, but --data_kind custom is given; give one/);
    expect(() => parseTrain([...NST_ETTH1_LINE, '--embed', 'timeF', '--loss', 'MSE', '--data_kind', 'ETTh'])).not.toThrow();
  });

  it('an nargs list takes the number words after it and stops at the next flag or word', () => {
    const dims = (...words: string[]) => parseTrain(['--data', 'data/ETTh1.csv', '--model', 'NSTransformer', '--p_hidden_dims', ...words]).flags.get('p_hidden_dims');
    expect(dims('64', '32', '--p_hidden_layers', '2')).toBe('64,32');
    expect(dims('64,32')).toBe('64,32');
    expect(dims('16', '16', '16', '--seed', '1')).toBe('16,16,16');
    expect(() => dims('abc')).toThrow(/--p_hidden_dims expects comma-separated integers at least 1, got 'abc'/);
    expect(() => dims('64', 'abc')).toThrow(/unexpected argument 'abc'/);
    expect(() => dims('--seed', '1')).toThrow(/--p_hidden_dims needs a value, got the flag --seed/);
    expect(() => dims('0', '8')).toThrow(/--p_hidden_dims expects comma-separated integers at least 1, got '0,8'/);
  });

  it('import takes the same line (a test-only line\'s --is_training 0 too) and sweep passes it to each run', () => {
    const weights = join(root, 'test', 'fixtures', 'tslib');
    // The line's flags reach import's own checks: the weights file is the first thing it then asks for.
    const testOnly = NST_ETTH1_LINE.map((w, i) => (NST_ETTH1_LINE[i - 1] === '--is_training' ? '0' : w));
    expect(() => parseTrain([...testOnly, '--weights', join(weights, 'none.safetensors'), '--out', 'x'], IMPORT))
      .toThrow(/^sparsecast import: --weights: no such file/);
    // A sweep's model list takes TSLib's name too, as the model it is (so naming it twice is a repeat).
    expect(() => parseTrain(['--data', 'data/ETTh1.csv', '--grid', 'model=Nonstationary_Transformer,DLinear'], SWEEP)).not.toThrow();
    expect(() => parseTrain(['--data', 'data/ETTh1.csv', '--grid', 'model=Nonstationary_Transformer,NSTransformer'], SWEEP)).toThrow(/model=NSTransformer,NSTransformer gives NSTransformer twice/);
    const sweep = parseTrain([...NST_ETTH1_LINE, '--grid', 'seed=1,2'], SWEEP);
    expect(sweep.flags.get('model')).toBe('NSTransformer');
    expect(sweep.warnings).toHaveLength(2);
  });
});

describe('a TSLib script line, run by the real binary', () => {
  it('trains, labels its result with --model_id and --des, and splits by the loader named', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sc-tslib-line-')), 'run');
    const line = NST_ETTH1_LINE.map((w) => (w === 'ETTh1' ? 'custom' : w === '256' ? '16' : w));
    const r = await runCliAsync([...'train'.split(' '), ...line, '--train_epochs', '1', '--max_train_batches', '2', '--out', out], { cwd: root });
    expect(r.stderr).toContain("warning: this is a TSLib run.py line: TSLib's default model is d_model 512");
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(json).toMatchObject({ model: 'NSTransformer', data: 'ETTh1.csv', pred_len: 96, model_id: 'ETTh1_96_96', des: 'Exp' });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ kind: 'custom', model: 'NSTransformer', cfg: { pHiddenDims: [16, 16] } });
    expect(readFileSync(join(out, 'result.txt'), 'utf8')).toMatch(/^ETTh1_96_96_NSTransformer_ETTh1_ftM_sl96_ll48_pl96_dm64_nh4_el2_dl1_df256_seed2020_Exp {2}\nmse:/);
  }, 180_000);

  it('refuses channel counts the data does not have, before writing anything', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sc-tslib-line-')), 'run');
    const line = NST_ETTH1_LINE.map((w, i) => (NST_ETTH1_LINE[i - 1] === '--c_out' ? '21' : w));
    const r = await runCliAsync(['train', ...line, '--out', out], { cwd: root });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--c_out 21, but data/ETTh1.csv gives 7 channels (with --features M the model reads and predicts every column but the date)');
    expect(existsSync(out)).toBe(false);
    const s = await runCliAsync(['train', ...NST_ETTH1_LINE.map((w, i) => (NST_ETTH1_LINE[i - 1] === '--features' ? 'S' : w))], { cwd: root });
    expect(s.status).toBe(1);
    expect(s.stderr).toContain('--enc_in 7, but data/ETTh1.csv gives 1 channel (with --features S the model reads and predicts the target column only)');
  }, 120_000);
});
