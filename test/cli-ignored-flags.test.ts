// Inputs a run would otherwise ignore or trip over late, each a reproduced defect: size flags a model does not
// read (DLinear trained the same 600 parameters under --d_model 512 without a word), --threads off wasm,
// --checkpoint_every and --resume without --out, a sweep axis that repeats a value (the same run folder trained
// twice, two identical table rows), a fresh dense run leaving a sparse run's plots in its folder, and Autoformer
// windows its Auto-Correlation cannot correlate (an internal irfft error, a half-written --out). All through the
// real binary.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAsync } from './shared/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sc-ignored-'));
const DATA = join(dir, 'etth1-400.csv');
writeFileSync(DATA, `${readFileSync(join(import.meta.dirname, '..', 'data', 'ETTh1.csv'), 'utf8').split('\n').slice(0, 400).join('\n')}\n`);
/** The probes' run: a short window, two training batches, no per-epoch test, 70/10/20 split of 399 rows. */
const RUN = ['--data_kind', 'custom', '--train_epochs', '1', '--max_train_batches', '2', '--batch_size', '8',
  '--seq_len', '24', '--label_len', '12', '--pred_len', '12', '--no_epoch_test'];
const B = ['--data', DATA, ...RUN];

const cli = (args: string[]) => runCliAsync(args, { cwd: dir });
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('warning: '));
/** A result line's figures that do not depend on timing. */
const figures = (stdout: string) => {
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  return { mse: r.mse, mae: r.mae, params: r.params, nnz: r.nnz, best_val: r.best_val };
};

describe('model flags the model does not read', () => {
  it('warns, naming the flag and the model, and trains exactly the model without them', async () => {
    const [plain, sized, lstm, lstmSized, transformer, preset] = await Promise.all([
      cli(['train', '--model', 'DLinear', ...B]),
      cli(['train', '--model', 'DLinear', ...B, '--d_model', '512', '--n_heads', '8', '--e_layers', '5', '--d_ff', '7', '--dropout', '0.9', '--activation', 'relu']),
      cli(['train', '--model', 'LSTM', ...B]),
      cli(['train', '--model', 'LSTM', ...B, '--e_layers', '4', '--n_heads', '2', '--d_ff', '3', '--dropout', '0.5']),
      cli(['train', '--model', 'Transformer', ...B, '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_ff', '32']),
      cli(['train', '--model', 'DLinear', ...B, '--preset', 'full']),
    ]);
    for (const r of [plain, sized, lstm, lstmSized, transformer, preset]) expect(r.status, r.stderr).toBe(0);
    expect(warnings(sized.stderr)).toEqual(['d_model', 'n_heads', 'e_layers', 'd_ff', 'dropout', 'activation'].map((f) =>
      expect.stringMatching(new RegExp(`^warning: --${f} is read by .*Transformer.* only; --model DLinear trains the same without it$`))));
    expect(figures(sized.stdout)).toEqual(figures(plain.stdout));
    expect(figures(plain.stdout).params).toBe(600);
    expect(warnings(lstmSized.stderr)).toEqual(['e_layers', 'n_heads', 'd_ff', 'dropout'].map((f) =>
      expect.stringMatching(new RegExp(`^warning: --${f} is read by .* only; --model LSTM trains the same without it$`))));
    expect(figures(lstmSized.stdout)).toEqual(figures(lstm.stdout));
    // A model that reads them, and a --preset (sizes the user did not name one by one): no warning.
    expect(warnings(transformer.stderr)).toEqual([]);
    expect(warnings(preset.stderr)).toEqual([]);
  });

  it('a sweep shows its runs\' warnings, each once', async () => {
    const out = join(dir, 'sweep-dlinear');
    const s = await cli(['sweep', '--model', 'DLinear', ...B, '--d_model', '64', '--grid', 'seed=1,2', '--out', out]);
    expect(s.status, s.stderr).toBe(0);
    expect(warnings(s.stderr)).toEqual(['warning: --d_model is read by Transformer, Informer, Autoformer, FEDformer, NSTransformer, LSTM only; --model DLinear trains the same without it']);
  });
});

describe('a fresh run into a finished run\'s folder', () => {
  it('leaves none of the earlier run\'s files: a dense run shows no sparse run\'s sparsity plots', async () => {
    const out = join(dir, 'fresh');
    const sparse = await cli(['train', '--model', 'DLinear', ...B, '--method', 'rigl', '--density', '0.5', '--update_freq', '1', '--out', out]);
    expect(sparse.status, sparse.stderr).toBe(0);
    for (const f of ['sparsity.svg', 'layer-density.svg', 'forecast-0.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    const dense = await cli(['train', '--model', 'DLinear', ...B, '--out', out]);
    expect(dense.status, dense.stderr).toBe(0);
    expect(existsSync(join(out, 'sparsity.svg'))).toBe(false);
    expect(existsSync(join(out, 'layer-density.svg'))).toBe(false);
    // result.txt is TSLib's per-run record: this run's one entry, not the sparse run's beside it.
    expect(readFileSync(join(out, 'result.txt'), 'utf8').match(/^mse:/gm)).toHaveLength(1);
    expect(existsSync(join(out, 'forecast-0.svg'))).toBe(true);

    // --threads with a backend that has no wasm kernels (here the run's recorded js): said, not ignored.
    const js = await cli(['train', '--model', 'DLinear', ...B, '--backend', 'js', '--out', join(dir, 'fresh-js')]);
    expect(js.status, js.stderr).toBe(0);
    const e = await cli(['eval', '--checkpoint', join(dir, 'fresh-js'), '--threads', '2']);
    expect(e.status, e.stderr).toBe(0);
    expect(warnings(e.stderr)).toEqual([expect.stringMatching(/^warning: --threads 2 sets the wasm kernels' threads; --backend js runs the same without it/)]);
  });
});

describe('flags without their effect', () => {
  it('--threads off wasm and --checkpoint_every without --out warn; --resume without --out is refused', async () => {
    const [js, gpu, every, resume] = await Promise.all([
      cli(['train', '--model', 'DLinear', ...B, '--backend', 'js', '--threads', '4']),
      // Without a GPU the webgpu backend then fails to start; the warning comes first, with the flags' check.
      cli(['train', '--model', 'DLinear', ...B, '--backend', 'webgpu', '--threads', '4']),
      cli(['train', '--model', 'DLinear', ...B, '--checkpoint_every', '5']),
      cli(['train', '--model', 'DLinear', ...B, '--resume']),
    ]);
    expect(js.status, js.stderr).toBe(0);
    expect(warnings(js.stderr)).toEqual(["warning: --threads 4 sets the wasm kernels' threads; --backend js runs the same without it (--backend wasm uses them)"]);
    expect(warnings(gpu.stderr)).toEqual(["warning: --threads 4 sets the wasm kernels' threads; --backend webgpu runs the same without it (--backend wasm uses them)"]);
    expect(every.status, every.stderr).toBe(0);
    expect(warnings(every.stderr)).toEqual(['warning: --checkpoint_every 5 has nothing to do without --out DIR (checkpoints are saved into the run folder); this run saves none']);
    expect(resume.status).toBe(1);
    expect(resume.stderr.trim()).toBe('sparsecast train: --resume needs --out DIR (the run folder holding checkpoint.safetensors)');
    const wasm = await cli(['train', '--model', 'DLinear', ...B, '--threads', '2', '--out', join(dir, 'every'), '--checkpoint_every', '1']);
    expect(wasm.status, wasm.stderr).toBe(0);
    expect(warnings(wasm.stderr)).toEqual([]);
  });
});

describe('sweep axes', () => {
  it('a repeated value in a grid axis or an axis list is refused before anything trains', async () => {
    const cases: [string[], RegExp][] = [
      [['--grid', 'seed=1,1'], /^sparsecast sweep: seed=1,1 gives 1 twice; a repeated value trains the same run again/],
      [['--seed', '1,2,01'], /^sparsecast sweep: seed=1,2,01 gives the same value twice \(1 and 01\)/],
      [['--grid', 'learning_rate=1e-3,0.001'], /^sparsecast sweep: learning_rate=1e-3,0.001 gives the same value twice \(1e-3 and 0.001\)/],
      [['--model', 'DLinear,LSTM,DLinear'], /^sparsecast sweep: model=DLinear,LSTM,DLinear gives DLinear twice/],
      [['--data', `etth1-400.csv,./etth1-400.csv`], /^sparsecast sweep: data=etth1-400.csv,.\/etth1-400.csv gives the same value twice/],
    ];
    const out = join(dir, 'sweep-repeated');
    const runs = await Promise.all(cases.map(([argv]) => cli(['sweep', ...(argv[0] === '--data' ? RUN : B), ...argv, '--out', out])));
    runs.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim()).toMatch(cases[i]![1]);
    });
    expect(existsSync(out)).toBe(false);
  });
});

describe('Autoformer windows', () => {
  it('refuses a window its Auto-Correlation cannot correlate, naming the flags, the model and the minimum; writes nothing', async () => {
    const out = join(dir, 'autoformer');
    const [seq, dec, factor] = await Promise.all([
      cli(['train', '--model', 'Autoformer', ...B, '--seq_len', '1', '--label_len', '1', '--out', out]),
      cli(['train', '--model', 'Autoformer', ...B, '--label_len', '0', '--pred_len', '1', '--out', out]),
      cli(['train', '--model', 'Autoformer', ...B, '--seq_len', '3', '--label_len', '1', '--factor', '3', '--out', out]),
    ]);
    expect(seq.status).toBe(1);
    expect(seq.stderr.trim()).toBe('sparsecast train: --model Autoformer needs --seq_len of at least 2 (its Auto-Correlation correlates lags of the window, and a 1-step window has none), got 1');
    expect(dec.status).toBe(1);
    expect(dec.stderr.trim()).toMatch(/^sparsecast train: --model Autoformer needs --label_len \+ --pred_len of at least 2 .*got 1$/);
    expect(factor.status).toBe(1);
    expect(factor.stderr.trim()).toMatch(/^sparsecast train: --factor 3 makes --model Autoformer aggregate int\(3·ln 3\) = 3 delays of the 2 lags a window of --seq_len = 3 has/);
    expect(existsSync(out)).toBe(false);
    // The smallest windows it accepts train (FEDformer's Fourier blocks take a 1-step window).
    const [two, fed] = await Promise.all([
      cli(['train', '--model', 'Autoformer', ...B, '--seq_len', '2', '--label_len', '1', '--pred_len', '1', '--d_model', '16', '--n_heads', '2']),
      cli(['train', '--model', 'FEDformer', ...B, '--seq_len', '1', '--label_len', '1', '--d_model', '16', '--n_heads', '2']),
    ]);
    expect(two.status, two.stderr).toBe(0);
    expect(fed.status, fed.stderr).toBe(0);
  });
});

describe('d_model and n_heads', () => {
  it('only models with attention heads need d_model divisible by n_heads', async () => {
    const [lstm, transformer] = await Promise.all([
      cli(['train', '--model', 'LSTM', ...B, '--d_model', '30']),
      cli(['train', '--model', 'Transformer', ...B, '--d_model', '30']),
    ]);
    expect(lstm.status, lstm.stderr).toBe(0);
    expect(transformer.status).not.toBe(0);
    expect(transformer.stderr).toContain('--d_model 30 is not divisible by --n_heads 4'); // the small preset's 4 heads
  }, 120_000);
});
