// `sparsecast import`: a Time-Series-Library state dict → a run folder that eval / predict / export / report read.
// No PyTorch here: the fixture is written by our own code in TSLib's layout — a trained tiny run's state dict
// with plain writeSafetensors (no sparsecast metadata, as safetensors' save_file writes it), and a copy with
// exact zeros in some weights as the PALS reference leaves its pruned entries. scripts/check-tslib-torch.py
// checks the same layout against real TSLib where PyTorch is installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, TINY_MODEL } from './shared/cli.ts';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { readSafetensors, writeSafetensors, type SafeArray } from '../src/io/safetensors.ts';
import { readRunConfig, loadRun } from '../src/run/load-run.ts';
import { tslibWeights } from '../src/run/tslib-import.ts';
import { RunForecaster } from '../src/run/run-forecaster.ts';
import { createModel, type ModelName } from '../src/models/index.ts';
import { Rng } from '../src/tensor/random.ts';
import type { ForecastConfig } from '../src/models/config.ts';
import { parseCsvBytes } from '../src/data/csv.ts';

engine.registerBackend(createWasmBackendSync());
engine.useBackend('wasm');

type Tensors = Map<string, { shape: number[]; data: SafeArray }>;

let dir: string;
let trained: Tensors;
const DATA = 'data/ETTh1.csv';
const MODEL_FLAGS = ['--data', DATA, ...TINY_MODEL];
/** The layers the PALS-like fixture prunes: attention projections and the feed-forward's first conv. */
const PRUNED = /(query|key|value|out)_projection\.weight$|conv1\.weight$/;

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

function write(name: string, tensors: Tensors): string {
  const path = join(dir, name);
  writeFileSync(path, writeSafetensors(tensors));
  return path;
}

function copy(t: Tensors): Tensors {
  return new Map([...t].map(([k, v]) => [k, { shape: [...v.shape], data: (v.data as Float32Array).slice() }]));
}

/** A freshly built model's state dict (what TSLib would save) for `model` at the trained run's config plus `cfg`. */
function stateDictOf(model: ModelName, cfg: Partial<ForecastConfig>): Tensors {
  const info = readRunConfig(join(dir, 'trained'));
  const m = engine.noGrad(() => createModel(model, new Rng(info.seed), { ...info.cfg, ...cfg }));
  try {
    return new Map([...m.stateDict()].map(([k, t]) => [k, { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() }]));
  } finally {
    m.dispose();
  }
}

function importRun(weights: string, out: string, extra: string[] = []) {
  return runCli(['import', '--weights', weights, ...MODEL_FLAGS, '--out', out, ...extra]);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sc-import-'));
  const train = runCli(['train', ...MODEL_FLAGS, '--train_epochs', '1', '--max_train_batches', '3', '--no_epoch_test', '--out', join(dir, 'trained')]);
  expect(train.status, train.stderr).toBe(0);
  const file = readSafetensors(readFileSync(join(dir, 'trained', 'model.safetensors')));
  trained = new Map([...file.tensors].filter(([k]) => !k.startsWith('mask.')).map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  // A dense run: no masks to drop, and no exact zero anywhere in its weights (the import would mask it).
  expect(file.tensors.size).toBe(trained.size);
  write('state.safetensors', trained);
  const zeroed = copy(trained);
  for (const [k, t] of zeroed) {
    if (!PRUNED.test(k)) continue;
    const d = t.data as Float32Array;
    // 7 of every 10 entries pruned, a −0 among them (w · 0 with w < 0 is −0 in PyTorch too).
    for (let i = 0; i < d.length; i++) if (i % 10 < 7) d[i] = i === 1 ? -0 : 0;
  }
  write('zeroed.safetensors', zeroed);
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sparsecast import', () => {
  it('a dense state dict: eval scores exactly what the trained run scores, with the same weights', () => {
    const out = join(dir, 'dense');
    const r = importRun(join(dir, 'state.safetensors'), out);
    expect(r.status, r.stderr).toBe(0);
    const line = lastJson(r.stdout);
    expect(line).toMatchObject({ out, model: 'Transformer', masked_layers: 0, layers: {}, method: 'dense', converted_f64: 0 });
    const evalTrained = runCli(['eval', '--checkpoint', join(dir, 'trained')]);
    const evalImported = runCli(['eval', '--checkpoint', out]);
    expect(evalImported.status, evalImported.stderr).toBe(0);
    const a = lastJson(evalTrained.stdout);
    const b = lastJson(evalImported.stdout);
    for (const k of ['mse', 'mae', 'params', 'nnz', 'sparsity', 'flops_dense', 'naive_mse']) expect(b[k], k).toBe(a[k]);
    // config.json is the run's: train's scaler (fitted on the training split), its spec fields, the import record.
    const cfgTrained = JSON.parse(readFileSync(join(dir, 'trained', 'config.json'), 'utf8')) as Record<string, unknown>;
    const cfgImported = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['scaler', 'cfg', 'kind', 'features', 'target', 'seed', 'data', 'batchSize']) expect(cfgImported[k], k).toEqual(cfgTrained[k]);
    expect(cfgImported.imported).toMatchObject({ weights: join(dir, 'state.safetensors'), zeros: 'mask', masked_layers: 0 });
    // model.safetensors: the same tensors bit for bit, now with sparsecast's checksum.
    const written = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(written.metadata.sparsecast_checksum).toMatch(/^crc32:/);
    expect([...written.tensors.keys()]).toEqual([...trained.keys()]);
    for (const [k, t] of trained) expect(Buffer.from((written.tensors.get(k)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), k).toBe(true);
  }, 300_000);

  it('F64 weights are rounded to F32 (here: exactly the trained values)', () => {
    const f64: Tensors = new Map([...trained].map(([k, t]) => [k, { shape: t.shape, data: Float64Array.from(t.data as Float32Array) }]));
    const out = join(dir, 'f64');
    const r = importRun(write('f64.safetensors', f64), out);
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout).converted_f64).toBe(trained.size);
    const written = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    for (const [k, t] of trained) expect(Array.from(written.tensors.get(k)!.data as Float32Array), k).toEqual(Array.from(t.data as Float32Array));
  }, 300_000);

  it("the PALS reference's zeros become masks: eval equals a direct forward, predict works, export stores CSR", async () => {
    const out = join(dir, 'sparse');
    const r = importRun(join(dir, 'zeroed.safetensors'), out);
    expect(r.status, r.stderr).toBe(0);
    const line = lastJson(r.stdout);
    const pruned = [...trained.keys()].filter((k) => PRUNED.test(k));
    expect(line.masked_layers).toBe(pruned.length);
    expect(line.method).toBe('pals');
    const layers = line.layers as Record<string, number>;
    expect(Object.keys(layers).sort()).toEqual([...pruned].sort());
    for (const k of pruned) {
      const n = trained.get(k)!.data.length;
      const zeros = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 < 7).length;
      expect(layers[k], k).toBeCloseTo((n - zeros) / n, 6);
    }
    const written = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    for (const k of pruned) expect(written.tensors.get(`mask.${k}`)?.dtype, k).toBe('U8');
    expect([...written.tensors.keys()].filter((k) => k.startsWith('mask.')).length).toBe(pruned.length);

    // The direct forward: the zeroed weights as plain dense values (no masks, no sparse execution).
    const ev = runCli(['eval', '--checkpoint', out]);
    expect(ev.status, ev.stderr).toBe(0);
    const scored = lastJson(ev.stdout);
    const info = readRunConfig(out);
    const zeroed = readSafetensors(readFileSync(join(dir, 'zeroed.safetensors')));
    const direct = RunForecaster.fromWeights(info, new Map([...zeroed.tensors].map(([k, t]) => [k, t.data as Float32Array])), new Map(), { sparseExecution: false });
    const table = parseCsvBytes(readFileSync(DATA), { file: DATA });
    const want = await direct.evaluate(direct.dataset(table, { purpose: 'eval', file: DATA, batchSize: 32 }), { batchSize: 32 });
    direct.dispose();
    expect(scored.mse as number).toBeCloseTo(want.metrics.mse, 5);
    expect(scored.mae as number).toBeCloseTo(want.metrics.mae, 5);
    expect(scored.sparsity).toBe(line.sparsity);
    // The library's loader reads the same folder with the same masks.
    const loaded = loadRun(out);
    expect(loaded.accounting().nnz).toBe(line.nnz);
    expect([...loaded.masks.keys()].sort()).toEqual([...pruned].sort());
    loaded.dispose();

    const forecast = join(dir, 'forecast.csv');
    const p = runCli(['predict', '--checkpoint', out, '--data', DATA, '--out', forecast]);
    expect(p.status, p.stderr).toBe(0);
    expect(readFileSync(forecast, 'utf8').trim().split('\n').length).toBe(1 + 24);

    const x = runCli(['export', '--checkpoint', out, '--out', join(dir, 'sparse.sc'), '--csr_threshold', '0.5']);
    expect(x.status, x.stderr).toBe(0);
    expect(lastJson(x.stdout).csr).toBe(pruned.length);

    const rep = runCli(['report', out]);
    expect(rep.status, rep.stderr).toBe(0);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  }, 300_000);

  it("a run's own model.safetensors (checksum, mask.* tensors) imports with its masks; a damaged one is refused", () => {
    const source = join(dir, 'sparse', 'model.safetensors');
    const out = join(dir, 'reimported');
    const r = importRun(source, out);
    expect(r.status, r.stderr).toBe(0);
    const a = readSafetensors(readFileSync(source));
    const b = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [k, t] of a.tensors) expect(Buffer.from(b.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    const bytes = readFileSync(source);
    bytes[bytes.length - 1]! ^= 1;
    const damaged = join(dir, 'damaged.safetensors');
    writeFileSync(damaged, bytes);
    const bad = importRun(damaged, join(dir, 'damaged-out'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`${damaged} is corrupt: checksum mismatch`);
  }, 300_000);

  it("BatchNorm's int64 num_batches_tracked (an Informer with a distilling layer) imports, as F32", () => {
    // PyTorch saves the counter as int64; --e_layers 2 gives Informer one ConvLayer with its BatchNorm1d.
    const sd = stateDictOf('Informer', { eLayers: 2 });
    const key = 'encoder.conv_layers.0.norm.num_batches_tracked';
    expect(sd.get(key)!.shape).toEqual([]);
    sd.set(key, { shape: [], data: BigInt64Array.of(1234n) });
    const out = join(dir, 'informer-i64');
    const r = importRun(write('informer-i64.safetensors', sd), out, ['--model', 'Informer', '--e_layers', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ model: 'Informer', method: 'dense', masked_layers: 0, converted_f64: 0 });
    const written = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(written.tensors.get(key)).toMatchObject({ dtype: 'F32', shape: [] });
    expect(Array.from(written.tensors.get(key)!.data as Float32Array)).toEqual([1234]);
    expect([...written.tensors.keys()].sort()).toEqual([...sd.keys()].sort());
  });

  it("a FEDformer built with mode_select 'low' imports, its weights bit for bit", () => {
    const sd = stateDictOf('FEDformer', { modeSelect: 'low' });
    const out = join(dir, 'fedformer-low');
    const r = importRun(write('fedformer-low.safetensors', sd), out, ['--model', 'FEDformer', '--mode_select', 'low']);
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ model: 'FEDformer', method: 'dense', masked_layers: 0 });
    const written = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect([...written.tensors.keys()].sort()).toEqual([...sd.keys()].sort());
    for (const [k, t] of sd) expect(Buffer.from((written.tensors.get(k)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), k).toBe(true);
    expect((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { cfg: { modeSelect?: string } }).cfg.modeSelect).toBe('low');
  });

  it('--keep_zeros keeps exact zeros as dense values (no masks)', () => {
    const out = join(dir, 'kept');
    const r = importRun(join(dir, 'zeroed.safetensors'), out, ['--keep_zeros']);
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ masked_layers: 0, zeros: 'keep', method: 'dense' });
    const written = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect([...written.tensors.keys()].some((k) => k.startsWith('mask.'))).toBe(false);
  }, 300_000);
});

describe('io.tslibWeights (the library call)', () => {
  it('zeros make masks with their densities; a given mask zeroes what it masks (W ⊙ M); keep leaves zeros dense', () => {
    const info = readRunConfig(join(dir, 'trained'));
    const key = 'decoder.projection.weight';
    const t = copy(trained);
    (t.get('encoder.attn_layers.0.conv1.weight')!.data as Float32Array).fill(0, 0, 128);
    const mask = new Uint8Array(t.get(key)!.data.length).fill(1);
    mask[2] = 0;
    const file = { metadata: {}, tensors: new Map([...t].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.data }])) };
    file.tensors.set(`mask.${key}`, { dtype: 'U8' as never, shape: t.get(key)!.shape, data: mask as never });
    const r = tslibWeights(file, info, { file: 'x.safetensors' });
    expect([...r.masks.keys()].sort()).toEqual(['decoder.projection.weight', 'encoder.attn_layers.0.conv1.weight']);
    expect(r.densities['encoder.attn_layers.0.conv1.weight']).toBe(1 - 128 / 512);
    expect(r.weights.get(key)![2]).toBe(0);
    expect(r.weights.get(key)![3]).toBe((trained.get(key)!.data as Float32Array)[3]);
    expect((trained.get(key)!.data as Float32Array)[2]).not.toBe(0);
    const kept = tslibWeights(file, info, { zeros: 'keep' });
    expect([...kept.masks.keys()]).toEqual([key]);
  });
});

describe('sparsecast import refuses what does not fit, naming the file, the keys and the shapes', () => {
  const refused = (weights: string, extra: string[] = [], out = join(dir, `refused-${Math.random().toString(36).slice(2)}`)) => {
    const r = importRun(weights, out, extra);
    expect(r.status, r.stdout).not.toBe(0);
    expect(r.stdout).toBe('');
    // Nothing is left behind: the folder the import made for its lock is removed.
    expect(existsSync(out), out).toBe(false);
    return r.stderr;
  };

  it('a missing key and an unexpected key, both listed', () => {
    const t = copy(trained);
    t.delete('decoder.norm.bias');
    t.set('decoder.extra.weight', { shape: [2], data: new Float32Array(2) });
    const path = write('keys.safetensors', t);
    const err = refused(path);
    expect(err).toContain(path);
    expect(err).toMatch(/missing keys \(1\): decoder\.norm\.bias/);
    expect(err).toMatch(/unexpected keys \(1\): decoder\.extra\.weight/);
  });

  it('a shape that differs: the key, both shapes and the flag the file points to', () => {
    const err = refused(join(dir, 'state.safetensors'), ['--d_ff', '64']);
    expect(err).toContain("'encoder.attn_layers.0.conv1.weight' has shape [32, 16, 1] in the file; the model's is [64, 16, 1]");
    expect(err).toContain('--d_ff 32');
  });

  it('more layers in the file than the flags say: the layer count it implies', () => {
    const t = copy(trained);
    for (const [k, v] of trained) if (k.startsWith('encoder.attn_layers.0.')) t.set(k.replace('.0.', '.1.'), v);
    const err = refused(write('layers.safetensors', t));
    expect(err).toMatch(/unexpected keys \(\d+\): encoder\.attn_layers\.1\./);
    expect(err).toContain('--e_layers 2');
  });

  it('a NaN weight', () => {
    const t = copy(trained);
    (t.get('decoder.projection.weight')!.data as Float32Array)[3] = NaN;
    const err = refused(write('nan.safetensors', t));
    expect(err).toContain("'decoder.projection.weight' holds a non-finite value (NaN) at index 3");
  });

  it('a wrong dtype', () => {
    const t = copy(trained);
    t.set('decoder.projection.bias', { shape: trained.get('decoder.projection.bias')!.shape, data: new Int32Array(7) });
    expect(refused(write('i32.safetensors', t))).toContain("'decoder.projection.bias' is I32; weights must be F32 (or F64, rounded to F32)");
  });

  it('F16 weights, with what to do', () => {
    const header = new TextEncoder().encode(JSON.stringify({ 'decoder.projection.bias': { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }).padEnd(64, ' '));
    const bytes = new Uint8Array(8 + header.length + 2);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const path = join(dir, 'f16.safetensors');
    writeFileSync(path, bytes);
    const err = refused(path);
    expect(err).toContain('unsupported dtype "F16"');
    expect(err).toContain('v.float()');
  });

  it('BF16 weights, with what to do', () => {
    const header = new TextEncoder().encode(JSON.stringify({ 'decoder.projection.bias': { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }).padEnd(64, ' '));
    const bytes = new Uint8Array(8 + header.length + 2);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const path = join(dir, 'bf16.safetensors');
    writeFileSync(path, bytes);
    const err = refused(path);
    expect(err).toContain('unsupported dtype "BF16"');
    expect(err).toContain('v.float()');
  });

  it('int64 is taken only for num_batches_tracked: an I64 weight is refused', () => {
    const t = copy(trained);
    t.set('decoder.projection.bias', { shape: trained.get('decoder.projection.bias')!.shape, data: new BigInt64Array(7) });
    expect(refused(write('i64.safetensors', t))).toContain("'decoder.projection.bias' is I64; weights must be F32 (or F64, rounded to F32)");
  });

  it("a FEDformer with random Fourier modes (not in TSLib's state dict)", () => {
    expect(refused(join(dir, 'state.safetensors'), ['--model', 'FEDformer'])).toContain("mode_select 'random' cannot be imported");
  });

  it('an --out that is not empty is never written into', () => {
    const out = join(dir, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'model.safetensors'), 'not ours');
    const r = importRun(join(dir, 'state.safetensors'), out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`--out ${out} is not empty (model.safetensors)`);
    expect(readFileSync(join(out, 'model.safetensors'), 'utf8')).toBe('not ours');
  });
});
