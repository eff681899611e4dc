/**
 * The public API (`import { … } from 'sparsecast'`, src/index.ts): its names against a committed list
 * (test/fixtures/api-exports.json, so adding or removing an export is deliberate), internals kept out of the
 * names and the emitted types, `data()` typed by dtype, `setBackend`, and the run loader: a forecaster trained
 * with `train.fit`, saved, loaded with `io.loadRun` (and from bytes), forecasts what it forecast before saving
 * and what `sparsecast/infer` forecasts from its exported `.sc`; the CLI's export of the saved folder is the same
 * file. Then the README's Library examples: each code block equals its file, and both files run.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.ts';
import { currentBackend, data, io, setBackend, tensor, train, type Tensor } from '../src/index.ts';
import { exportRun } from '../src/cli/export-command.ts';
import { runCli } from './shared/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const committed = JSON.parse(readFileSync(join(root, 'test/fixtures/api-exports.json'), 'utf8')) as Record<string, string[]>;

describe('public API surface', () => {
  it('no backend before setBackend: the error names the function to call', () => {
    expect(currentBackend()).toBe(null);
    expect(() => tensor([1, 2])).toThrow(/call `await setBackend\('wasm'\)`/);
  });

  it('exports exactly the committed names (root and each namespace)', () => {
    expect(Object.keys(api).sort()).toEqual(committed['.']);
    for (const ns of ['nn', 'models', 'data', 'train', 'sparse', 'io'] as const) {
      expect(Object.keys(api[ns]).sort(), ns).toEqual(committed[ns]);
    }
  });

  it('keeps engine plumbing and the tape out of the names', () => {
    const names = new Set(Object.keys(api));
    for (const internal of ['Engine', 'TapeNode', 'record', 'storages', 'KERNEL_NAMES', 'unbroadcast', 'resolveShape', 'hostValues']) {
      expect(names.has(internal), internal).toBe(false);
    }
    // The runtime object is the engine; its type shows backends, scopes and memory only.
    const pub: Record<keyof api.PublicEngine, true> = {
      registerBackend: true, hasBackend: true, useBackend: true, tidy: true, keep: true, noGrad: true, memory: true, gradEnabled: true,
    };
    expect(Object.keys(pub)).toHaveLength(8);
    // @ts-expect-error storage plumbing is not part of the public engine type
    void api.engine.makeTensor;
  });

  it('keeps storages and tape references out of the emitted types (dist/types, npm run build)', () => {
    const file = join(root, 'dist/types/tensor/tensor.d.ts');
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build (or node scripts/build-dist.mjs) first`);
    const dts = readFileSync(file, 'utf8');
    for (const hidden of ['tapeRefs', 'TapeNode', 'use(op']) expect(dts, hidden).not.toContain(hidden);
    expect(dts).not.toMatch(/^\s+storage: Storage/m);
    expect(dts).toContain('data<T extends DType = D>(this: Tensor<T>): Promise<TypedArrayFor<T>>');
    const index = readFileSync(join(root, 'dist/types/index.d.ts'), 'utf8');
    expect(index).toContain('export declare const engine: PublicEngine;');
    expect(index).toContain("export * as train from './train/index.js';");
  });
});

describe('setBackend and typed data()', () => {
  it("registers and selects 'js', then 'wasm'; refuses an unknown name", async () => {
    await setBackend('js');
    expect(currentBackend()).toBe('js');
    await setBackend('wasm');
    expect(currentBackend()).toBe('wasm');
    await expect(setBackend('cuda' as 'js')).rejects.toThrow(/setBackend: unknown backend "cuda" \(js, wasm or webgpu\)/);
    expect(currentBackend()).toBe('wasm');
  });

  it('data() resolves to the typed array of the dtype', async () => {
    const f = tensor(new Float32Array([1, 2, 3]), [3]);
    const i = tensor([1, 2], [2], { dtype: 'i32' });
    const u = tensor(new Uint8Array([1, 0]));
    const fv: Float32Array = await f.data();
    const iv: Int32Array = await i.data();
    const uv: Uint8Array = uv8(await u.data());
    expect(fv).toBeInstanceOf(Float32Array);
    expect(iv).toBeInstanceOf(Int32Array);
    expect(uv).toBeInstanceOf(Uint8Array);
    // A plain Tensor reads as the union; asType narrows after checking the dtype.
    let any: Tensor = i;
    // @ts-expect-error the union is not an Int32Array
    const wrong: Int32Array = await any.data();
    void wrong;
    const right: Int32Array = await any.asType('i32').data();
    expect(Array.from(right)).toEqual([1, 2]);
    expect(() => any.asType('f32')).toThrow(/is i32, not f32/);
    // The label never blocks reassignment: a variable holding an f32 tensor takes any op's result.
    let g = f;
    g = api.add(g, g);
    any = g;
    expect(Array.from(await g.data())).toEqual([2, 4, 6]);
    for (const t of [f, i, u, g]) t.dispose();
  });
});

function uv8(a: Uint8Array): Uint8Array {
  return a;
}

describe('loadRun: a saved run → the forecaster of sparsecast/infer', () => {
  let work: string;
  let table: data.CsvTable;
  let ds: data.ForecastDataset;
  let fitted: train.FitResult;
  const seqLen = 48;
  let window: { values: Float64Array; dates: string[] };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sparsecast-api-'));
    await setBackend('wasm');
    table = data.parseCsvBytes(readFileSync(join(root, 'data/ETTh1.csv')), { file: 'ETTh1.csv' });
    ds = new data.ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen, labelLen: 24, predLen: 12, freq: 'h', file: 'ETTh1.csv' });
    // PALS from 40 % density, so the export stores CSR layers and the loader restores masks.
    fitted = await train.fit({
      model: 'Transformer', data: ds, method: 'pals', sparse: { initDensity: 0.4, updateFrequency: 4 }, valBatches: 2, epochTest: false,
      config: { dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32 }, epochs: 1, maxTrainBatches: 8, learningRate: 1e-3, seed: 7,
    });
    window = { values: table.values.slice((table.rows - seqLen) * table.cols), dates: table.dates.slice(-seqLen) };
  });
  afterAll(() => {
    fitted?.forecaster.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('evaluate turns the event loop between batches (signals and timers are not held off for a whole split)', async () => {
    const f = fitted.forecaster;
    const evalDs = f.dataset(table, { purpose: 'eval', file: 'ETTh1.csv' });
    let done = false;
    let ranDuring = false;
    setImmediate(() => (ranDuring = !done));
    await f.evaluate(evalDs, { maxBatches: 2 });
    done = true;
    expect(ranDuring).toBe(true);
  });

  it('evaluate and dataset refuse what would score NaN, hang or fail unreadably, naming the option', async () => {
    const f = fitted.forecaster;
    const evalDs = f.dataset(table, { purpose: 'eval', file: 'ETTh1.csv' });
    // Were: 'undefined is not iterable', out of memory (batchSize 0), NaN (maxBatches 0, a batch over the split),
    // an ignored misspelled option, and a data set of other lengths fed to the model.
    await expect(f.evaluate(evalDs, { split: 'bogus' as never })).rejects.toThrow('evaluate: split must be train, val or test, got "bogus"');
    await expect(f.evaluate(evalDs, { batchSize: 0 })).rejects.toThrow('evaluate: batchSize must be a positive integer, got 0');
    await expect(f.evaluate(evalDs, { maxBatches: 0 })).rejects.toThrow('evaluate: maxBatches must be a positive integer, got 0');
    await expect(f.evaluate(evalDs, { batchSize: 10000 })).rejects.toThrow(/evaluate: the test split of ETTh1\.csv has \d+ windows, fewer than one batch of 10000/);
    await expect(f.evaluate(evalDs, { maxBatch: 1 } as never)).rejects.toThrow('evaluate: unknown option maxBatch; did you mean maxBatches?');
    const other = new data.ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 24, labelLen: 12, predLen: 12, freq: 'h', file: 'ETTh1.csv' });
    await expect(f.evaluate(other)).rejects.toThrow("evaluate: the data set's seqLen 24 differs from the model's 48");
    expect(() => f.dataset(table, { purpose: 'bogus' as never })).toThrow("dataset: purpose must be 'eval' or 'predict', got \"bogus\"");
    // A misspelled option was ignored: strict_dates read no dates strictly.
    expect(() => f.dataset(table, { purpose: 'eval', strict_dates: true } as never)).toThrow('dataset: unknown option strict_dates; did you mean strictDates?');
    // Was: exported at the default threshold, the option ignored.
    await expect(io.exportModel(f, { csr_threshold: 0 } as never)).rejects.toThrow('exportModel: unknown option csr_threshold; did you mean csrThreshold?');
  });

  it('fit: trained, masked, with the best weights and their test score', async () => {
    const { forecaster, result } = fitted;
    expect(result.epochsRun).toBe(1);
    expect(result.steps).toBe(8);
    expect(forecaster.masks.size).toBeGreaterThan(0);
    expect(forecaster.accounting().sparsity).toBeGreaterThan(0.4);
    // Scoring the data set again gives fit's final test metrics (same weights, same paths).
    const again = await forecaster.evaluate(ds);
    expect(again.metrics.mse).toBe(result.test.mse);
  });

  it('fit keeps the best validation weights when a later epoch is worse (not the last weights)', async () => {
    // A learning rate high enough that the second epoch's validation loss is worse than the first's.
    const r = await train.fit({
      model: 'Transformer', data: ds, config: { dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32 }, epochs: 2, maxTrainBatches: 6,
      learningRate: 3e-2, lradj: 'constant', seed: 7, epochTest: false,
    });
    try {
      const vals = r.result.history.map((h) => h.val_loss);
      expect(vals).toHaveLength(2);
      expect(vals[1]!, 'the case this test is about: the last epoch is not the best').toBeGreaterThan(vals[0]!);
      expect(r.result.bestVal).toBe(vals[0]);
      // The returned model scores the first epoch's validation loss, not the second's.
      const val = (await r.forecaster.evaluate(ds, { split: 'val' })).metrics.mse;
      expect(val).toBeCloseTo(vals[0]!, 9);
      expect(Math.abs(val - vals[1]!)).toBeGreaterThan(1e-3);
    } finally {
      r.forecaster.dispose();
    }
  });

  it('saveRun → loadRun and runFromBytes: the same forecasts, bit for bit; eval of the test split equals fit\'s', async () => {
    const dir = join(work, 'run');
    await io.saveRun(dir, fitted.forecaster, { data: 'data/ETTh1.csv', batchSize: 32 });
    const before = await fitted.forecaster.forecast(window);
    const loaded = io.loadRun(dir);
    const fromBytes = io.runFromBytes(readFileSync(join(dir, 'config.json'), 'utf8'), readFileSync(join(dir, 'model.safetensors')));
    try {
      expect(loaded.info.model).toBe('Transformer');
      expect([...loaded.columns]).toEqual(ds.columns);
      expect([...loaded.masks.keys()]).toEqual([...fitted.forecaster.masks.keys()]);
      const a = await loaded.forecast(window);
      const b = await fromBytes.forecast(window);
      expect(Buffer.from(a.buffer).equals(Buffer.from(before.buffer))).toBe(true);
      expect(Buffer.from(b.buffer).equals(Buffer.from(before.buffer))).toBe(true);
      // sparsecast eval's path: the file read for the model (columns by name, trained scaler), its test split.
      const evalDs = loaded.dataset(table, { purpose: 'eval', file: 'ETTh1.csv' });
      expect((await loaded.evaluate(evalDs)).metrics.mse).toBe(fitted.result.test.mse);
      // sparsecast predict's path: the pred_len steps after the file's last row.
      const after = await loaded.forecastAfter(loaded.dataset(table, { purpose: 'predict', file: 'ETTh1.csv' }));
      expect(Buffer.from(after.values.buffer).equals(Buffer.from(before.buffer))).toBe(true);
      expect(new Date(after.times[0]!).toISOString()).toBe('2018-06-26T20:00:00.000Z');
      expect(loaded.flops().sparse).toBeLessThan(loaded.flops().dense);
      // The folder is a run folder for the CLI as it is today, too.
      const cli = runCli(['eval', '--checkpoint', dir]);
      expect(cli.status, cli.stderr).toBe(0);
      expect((JSON.parse(cli.stdout.trim()) as { mse: number }).mse).toBe(+fitted.result.test.mse.toFixed(6));
      // A run saved without a data file: eval says what it needs instead of guessing one.
      const bare = join(work, 'run-no-data');
      mkdirSync(bare);
      const { data: _data, ...config } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(bare, 'config.json'), JSON.stringify(config));
      copyFileSync(join(dir, 'model.safetensors'), join(bare, 'model.safetensors'));
      const noData = runCli(['eval', '--checkpoint', bare]);
      expect(noData.status).toBe(1);
      expect(noData.stderr).toMatch(/run-no-data\/config\.json records no data file; pass --data FILE/);
      const withData = runCli(['eval', '--checkpoint', bare, '--data', 'data/ETTh1.csv']);
      expect(withData.status, withData.stderr).toBe(0);
      expect(JSON.parse(withData.stdout.trim()).mse).toBe(+fitted.result.test.mse.toFixed(6));
    } finally {
      loaded.dispose();
      fromBytes.dispose();
    }
  });

  it('a `sparsecast train` folder: fit trained the same model, and loadRun reproduces the run\'s reported numbers', async () => {
    const dir = join(work, 'cli-run');
    const r = runCli(['train', '--data', 'data/ETTh1.csv', '--method', 'pals', '--seq_len', '48', '--label_len', '24', '--pred_len', '12',
      '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_layers', '1', '--d_ff', '32', '--train_epochs', '1', '--max_train_batches', '8',
      '--val_batches', '2', '--init_density', '0.4', '--update_freq', '4', '--learning_rate', '1e-3', '--seed', '7', '--no_epoch_test', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    const reported = JSON.parse(r.stdout.trim()) as Record<string, number>;
    const run = io.loadRun(dir);
    try {
      const score = await run.evaluate(run.dataset(table, { purpose: 'eval', file: 'ETTh1.csv' }));
      const acc = run.accounting();
      expect(score.metrics.mse).toBe(fitted.result.test.mse);
      expect(+score.metrics.mse.toFixed(6)).toBe(reported.mse);
      expect(+score.metrics.mae.toFixed(6)).toBe(reported.mae);
      expect([acc.params, acc.nnz, +acc.sparsity.toFixed(6)]).toEqual([reported.params, reported.nnz, reported.sparsity]);
      expect(run.flops()).toEqual({ dense: reported.flops_dense, sparse: reported.flops_sparse });
      expect(Buffer.from((await run.forecast(window)).buffer).equals(Buffer.from((await fitted.forecaster.forecast(window)).buffer))).toBe(true);
      // `sparsecast predict`'s file is forecastAfter's forecast, bit for bit once read back as float32.
      const csv = join(work, 'forecast.csv');
      const p = runCli(['predict', '--checkpoint', dir, '--data', 'data/ETTh1.csv', '--out', csv]);
      expect(p.status, p.stderr).toBe(0);
      const after = await run.forecastAfter(run.dataset(table, { purpose: 'predict', file: 'ETTh1.csv' }));
      const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(1).map(Number));
      expect(Float32Array.from(rows.flat())).toEqual(after.values);
      // `sparsecast eval` goes through the same loader: train's JSON line again, field for field (the run's
      // training record copied from it), and the sparse-execution timings of the loaded, masked model.
      const e = runCli(['eval', '--checkpoint', dir]);
      expect(e.status, e.stderr).toBe(0);
      const evaluated = JSON.parse(e.stdout.trim()) as Record<string, unknown>;
      for (const k of ['model', 'data', 'pred_len', 'method', 'backend', 'mse', 'mae', 'params', 'nnz', 'sparsity', 'masked_sparsity', 'flops_dense',
        'flops_sparse', 'epochs_run', 'train_seconds', 'best_val', 'controller_seconds', 'naive_mse', 'naive_mae', 'val_batches']) {
        expect(evaluated[k], k).toEqual(reported[k]);
      }
      expect(evaluated.method).toBe('pals');
      for (const k of ['infer_ms_dense', 'infer_ms_sparse', 'infer_b1_ms_dense', 'infer_b1_ms_sparse', 'step_ms_dense', 'step_ms_sparse']) {
        expect(evaluated[k], k).toBeGreaterThan(0);
      }
    } finally {
      run.dispose();
    }
  });

  it('a config.json edited after training is refused where the weights would load as another model (library and CLI)', async () => {
    // Each edit keeps every weight's shape, so the run loaded and forecast as a model it was never trained as.
    const edits: Array<[string, (c: Record<string, any>) => void, RegExp]> = [
      ['the horizon', (c) => (c.cfg.predLen = 24), /cfg\.predLen is 24 but the weights were trained with 12/],
      ['the heads at the same width', (c) => (c.cfg.nHeads = 4), /cfg\.nHeads is 4 but the weights were trained with 2/],
      ['the activation', (c) => (c.cfg.activation = 'relu'), /cfg\.activation is "relu" but the weights were trained with "gelu"/],
      ['a scaler mean', (c) => (c.scaler.mean[0] += 1), /scaler\.mean\.0 is .* but the weights were trained with/],
    ];
    for (const dir of [join(work, 'run'), join(work, 'cli-run')]) {
      const original = readFileSync(join(dir, 'config.json'), 'utf8');
      for (const [what, edit, message] of edits) {
        const edited = join(work, `edited-${what.replace(/\W+/g, '-')}`);
        mkdirSync(edited, { recursive: true });
        const c = JSON.parse(original) as Record<string, any>;
        edit(c);
        writeFileSync(join(edited, 'config.json'), JSON.stringify(c));
        copyFileSync(join(dir, 'model.safetensors'), join(edited, 'model.safetensors'));
        expect(() => io.loadRun(edited), `${dir}: ${what}`).toThrow(message);
        expect(() => io.runFromBytes(JSON.stringify(c), readFileSync(join(dir, 'model.safetensors'))), `${dir}: ${what}`).toThrow(message);
        const cli = runCli(['eval', '--checkpoint', edited, '--data', 'data/ETTh1.csv']);
        expect(cli.status, `${dir}: ${what}`).toBe(1);
        expect(cli.stderr).toMatch(/config\.json does not describe the model its weights were trained as \(was it edited\?\)/);
      }
      // The untouched folder still loads.
      io.loadRun(dir).dispose();
    }
  });

  it('io.exportModel writes the file `sparsecast export` writes from the saved folder, and sparsecast/infer forecasts what the run does', async () => {
    const dir = join(work, 'run');
    const { bytes, summary } = await io.exportModel(fitted.forecaster);
    const cli = await exportRun(dir);
    expect(Buffer.from(bytes).equals(Buffer.from(cli.bytes))).toBe(true);
    expect(summary).toEqual(cli.summary);
    expect(summary.csr).toBeGreaterThan(0);
    const mine = await fitted.forecaster.forecast(window);
    // Last: sparsecast/infer, run here from the sources, shares this engine and registers its own 'wasm' backend
    // (installed, it is a separate bundle with its own engine).
    const { loadForecaster } = await import('../src/infer/index.ts');
    const f = await loadForecaster(bytes);
    const y = f.forecast(window);
    f.dispose();
    expect(y.length).toBe(mine.length);
    // CSR products against dense masked ones: the same sums in another order (infer-runtimes' tolerance).
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - mine[i]!), `value ${i}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(mine[i]!)));
  });
});

/** The README code block that follows `<!-- FILE -->`. */
function readmeBlock(file: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const marker = `<!-- ${file} -->\n\`\`\`ts\n`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker.trim()} block`);
  const start = at + marker.length;
  return readme.slice(start, readme.indexOf('```\n', start));
}

const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const tsxApi = pathToFileURL(join(root, 'node_modules/tsx/dist/esm/api/index.mjs')).href;
// `sparsecast` and `sparsecast/infer` resolve to the sources through tsconfig.json's paths.
const env = { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') };

describe('train.fit refuses what it would not train as asked, naming the option', () => {
  // Each was accepted: a misspelled key or an out-of-range value trained something else (or, batchSize 0, hung).
  let ds: data.ForecastDataset;
  const base = (): train.FitOptions => ({ model: 'Transformer', data: ds, config: { dModel: 8, nHeads: 2 }, epochs: 1, maxTrainBatches: 1 });
  beforeAll(() => {
    const table = data.parseCsvBytes(readFileSync(join(root, 'data/ETTh1.csv')), { file: 'ETTh1.csv' });
    ds = new data.ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 24, labelLen: 12, predLen: 12, freq: 'h', file: 'ETTh1.csv' });
  });
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a misspelled key', { learning_rate: 0.1 }, /fit: unknown option learning_rate; did you mean learningRate\?/],
    ['epochs 0', { epochs: 0 }, /fit: epochs must be an integer at least 1, got 0/],
    ['epochs 1.5', { epochs: 1.5 }, /fit: epochs must be an integer at least 1, got 1\.5/],
    ['a negative learning rate', { learningRate: -1 }, /fit: learningRate must be a number greater than 0, got -1/],
    ['batchSize 0 (hung)', { batchSize: 0 }, /fit: batchSize must be an integer at least 1/],
    ['a batch larger than the val split (NaN scores)', { batchSize: 2870 }, /fit: batchSize 2870 is more than the 2869 windows of ETTh1\.csv's val split/],
    ['maxTrainBatches -1 (trained the whole epoch)', { maxTrainBatches: -1 }, /fit: maxTrainBatches must be an integer at least 1, got -1/],
    ['a density above 1', { method: 'rigl', sparse: { density: 2 } }, /fit: sparse\.density must be a number greater than 0 and at most 1, got 2/],
    ['updateFrequency 0', { method: 'pals', sparse: { updateFrequency: 0 } }, /fit: sparse\.updateFrequency must be an integer at least 1, got 0/],
    ['an unknown sparse key', { method: 'pals', sparse: { updateFreq: 5 } }, /fit: unknown option sparse\.updateFreq/],
    ['a sparse option the method does not read', { method: 'rigl', sparse: { lambda: 2 } }, /fit: method 'rigl' does not read sparse\.lambda; it reads .*sparse\.density/],
    ['valBatches without PALS', { valBatches: 2 }, /fit: method 'dense' does not read valBatches/],
    ['an unknown growth', { method: 'pals', sparse: { growth: 'bogus' } }, /fit: sparse\.growth must be one of gradient, random, momentum/],
    ['a config key in TSLib spelling', { config: { d_model: 8 } }, /fit: unknown option config\.d_model; did you mean config\.dModel\?/],
    ['a config seqLen other than the data\'s', { config: { dModel: 8, nHeads: 2, seqLen: 48 } }, /fit: config\.seqLen 48 differs from the data set's 24/],
    ['an unknown activation', { config: { dModel: 8, nHeads: 2, activation: 'tanh' } }, /fit: config\.activation must be one of gelu, relu/],
    ['checkpointEvery without checkpointDir', { checkpointEvery: 5 }, /fit: checkpointEvery needs checkpointDir/],
  ];
  for (const [what, over, message] of cases) {
    it(what, async () => {
      await expect(train.fit({ ...base(), ...over } as train.FitOptions)).rejects.toThrow(message);
    });
  }
  it('no options object at all (a TypeError about reading data of null before)', async () => {
    await expect(train.fit(null as never)).rejects.toThrow('fit: expects an options object { model, data, … }, got null');
  });
});

describe('io.runFromBytes refuses an edited config.json it would forecast wrongly with', () => {
  // Each loaded: a std of 0 failed every forecast with a misleading 'overflows float32', a negative one mirrored
  // the forecasts, a labelLen past seqLen read the decoder's start token from before the window.
  const config = (over: (c: Record<string, any>) => void) => {
    const c: Record<string, any> = {
      model: 'Transformer', seed: 1, features: 'M', target: 'OT', kind: 'ETTh',
      cfg: { seqLen: 24, labelLen: 12, predLen: 12, dModel: 8, nHeads: 2 },
      scaler: { mean: [1, 2], std: [3, 4], columns: ['a', 'OT'] },
    };
    over(c);
    return JSON.stringify(c);
  };
  const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
    ['a std of 0', (c) => (c.scaler.std[1] = 0), /config\.json: scaler\.std\[1\] = 0 must be a positive number/],
    ['a negative std', (c) => (c.scaler.std[0] = -1), /config\.json: scaler\.std\[0\] = -1 must be a positive number/],
    ['a null mean', (c) => (c.scaler.mean[0] = null), /config\.json: scaler\.mean\[0\] = null is not a finite number/],
    ['labelLen past seqLen', (c) => (c.cfg.labelLen = 48), /config\.json: cfg\.labelLen must be an integer in \[0, seqLen 24\], got 48/],
    ['nHeads that do not split dModel', (c) => (c.cfg.nHeads = 3), /config\.json: cfg\.dModel 8 is not divisible by cfg\.nHeads 3/],
  ];
  for (const [what, over, message] of cases) {
    it(what, () => {
      expect(() => io.runFromBytes(config(over), new Uint8Array(0))).toThrow(message);
    });
  }
});

describe('README Library examples', () => {
  for (const file of ['examples/train-pals.ts', 'examples/browser-worker.ts']) {
    it(`${file} is the README's block, verbatim`, () => {
      expect(readmeBlock(file)).toBe(readFileSync(join(root, file), 'utf8'));
    });
  }

  it('examples/train-pals.ts runs: trains, evaluates, saves, exports and forecasts', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sparsecast-example-'));
    try {
      symlinkSync(join(root, 'data'), join(cwd, 'data'));
      const out = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['--import', tsx, join(root, 'examples/train-pals.ts')], { cwd, env, timeout: 240_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        });
      });
      expect(out).toMatch(/step 10: (shrink|expand|stable), sparsity/);
      const m = /test MSE ([\d.]+) \(fit: ([\d.]+)\)/.exec(out);
      expect(m?.[1]).toBe(m?.[2]);
      const y = /next hour's OT: (-?[\d.]+) \(before export: (-?[\d.]+)\)/.exec(out);
      expect(Number(y?.[1])).toBeCloseTo(Number(y?.[2]), 2);
      for (const f of ['model.sc', 'runs/pals/config.json', 'runs/pals/model.safetensors']) expect(existsSync(join(cwd, f)), f).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 240_000);

  it('examples/browser-worker.ts runs as a worker (Node worker_threads standing in for a Web Worker)', async () => {
    // The Web Worker globals the example uses, over worker_threads: self, postMessage, onmessage.
    const shim = `
      const { parentPort } = require('node:worker_threads');
      globalThis.self = globalThis;
      globalThis.postMessage = (m, o) => parentPort.postMessage(m, o && o.transfer);
      parentPort.on('message', (data) => globalThis.onmessage({ data }));
      import(${JSON.stringify(tsxApi)})
        .then((tsx) => tsx.tsImport(${JSON.stringify(pathToFileURL(join(root, 'examples/browser-worker.ts')).href)}, ${JSON.stringify(pathToFileURL(root).href)}))
        .then(() => parentPort.postMessage({ type: 'loaded' }), (e) => parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }));
    `;
    // tsx's loader hooks (--import) do not reach a worker thread in Node 20: the shim loads the example through
    // tsx's API instead.
    const worker = new Worker(shim, { eval: true, env });
    const replies: Array<{ type: string } & Record<string, unknown>> = [];
    try {
      const done = await new Promise<Record<string, unknown>>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (m: { type: string } & Record<string, unknown>) => {
          replies.push(m);
          if (m.type === 'loaded') worker.postMessage({ csv: new Uint8Array(readFileSync(join(root, 'data/ETTh1.csv'))), name: 'ETTh1.csv' });
          if (m.type === 'done') resolve(m);
          if (m.type === 'error') reject(new Error(String(m.message)));
        });
      });
      expect(replies.filter((r) => r.type === 'update').length).toBeGreaterThan(0);
      expect(replies.filter((r) => r.type === 'epoch').length).toBe(1);
      expect(Number.isFinite(done.testMse)).toBe(true);
      expect((done.forecast as Float32Array).length).toBe(24 * 7);
      // The model file it posted loads in the inference entry's reader.
      expect(io.readModelFile(done.model as Uint8Array).config.model).toBe('Transformer');
    } finally {
      await worker.terminate();
    }
  }, 240_000);
});
