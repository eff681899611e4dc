/**
 * `sparsecast/infer` in four runtimes. Trains a tiny sparse Transformer (PALS from 30 % density), exports it
 * with `sparsecast export`, builds the inference bundles (scripts/build-infer.mjs, into a temp dir) and runs
 * the same model bytes and window through (and two structured models, trained with --sparsity_structure
 * fan_in from 5 % density and block from 30 %, whose files hold the fan_in and block encodings):
 *   - Node (dist/infer.js, kernels from the embedded copy loaded on demand),
 *   - Deno (dist/infer.js, the module compiled from build/kernels-infer.wasm; read permission for the temp dir only),
 *   - headless Chromium (Debian's /usr/bin/chromium via playwright-core; WebAssembly.compileStreaming),
 *   - workerd, Cloudflare's Workers runtime (npm `workerd`), on 127.0.0.1: dist/infer-edge.js with the kernels
 *     imported as a wasm module and the model as a data module.
 * All four use the inference-only kernels (build/kernels-infer.wasm, forward kernels only; in the temp dir under
 * the name kernels.wasm that the drivers load). The four forecasts (wasm backend) must be bit-identical, equal
 * to Node's with the full build/kernels.wasm, and agree with `sparsecast predict` (dense weights, the training
 * code path) to float rounding; Node with `backend: 'js'` (dist/infer-js.js, loaded on demand) agrees too. The
 * structured models' forecasts are bit-identical in the four runtimes and to the library's forward of the same
 * runs (loadRun: sparse execution, the full kernels with attention unfused, as the inference module runs it).
 * The download sizes and their budgets are test/infer-size.test.ts's.
 *
 * A second block exports every model (synthetic ~30 %-dense masks, a trained BatchNorm buffer, FEDformer's
 * drawn indices) with every masked layer run as CSR (threshold 1) and with none (0, the dense twin), and the
 * Transformer also with fan_in and 2×2 block masks (thresholds 1, 0.5 and 0, and every masked weight forced into
 * the fan_in / block encoding), and checks the forecasts against the model's own forward pass (from the sources,
 * wasm backend; the structured files bit for bit), and the inference kernels' forecast against the full kernels'
 * (same kernel source, built for size; bit for bit where both run the same ops).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createModel, defaultConfig, type ForecastConfig } from '../src/models/index.ts';
import { tensor } from '../src/ops/creation.ts';
import { writeSafetensors, type SafeArray } from '../src/io/safetensors.ts';
import { parseDate, timeFeatures } from '../src/data/time-features.ts';
import { exportRun } from '../src/cli/export-command.ts';
import { loadRun } from '../src/run/load-run.ts';
import { loadForecaster } from '../src/infer/index.ts';
import { backendFor } from '../src/infer/backends.ts';
import { createForecaster } from '../src/infer/core.ts';
import { createWasmBackend, type WasmBackend } from '../src/backend/wasm/backend.ts';
import { MODEL_NAMES, readModelFile, writeModelFile, type ModelConfigInput, type WeightInput } from '../src/io/model-file.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { structuredInitMask, type StructureKind } from '../src/sparse/structure.ts';
import { fusedAttentionBackends } from '../src/nn/attention.ts';
import { openPage, pageGlobal, requireChromium, serveFiles, type Cleanup } from './shared/chromium.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'infer');
const SEQ = 48;

interface RunResult {
  runtime: string;
  n: number;
  hex: string;
  head: number[];
  csrLayers: number;
  bsrLayers: number;
  /** The structured models' results, by file name (the runtime drivers). */
  structured?: Record<string, RunResult>;
  error?: string;
}

/**
 * The structured runs: structure, initial density, d_ff. fan_in's encoding is the smallest only where a row's
 * column bytes undercut its bitmap plus fan_in's extra header part: at 5 % density on d_ff 256 the FFN
 * convolutions qualify (the attention projections, 16 × 16, stay bitmask).
 */
const STRUCTURED = { 'model-fan_in.sc': ['fan_in', '0.05', '256'], 'model-block.sc': ['block', '0.3', '32'] } as const;

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: root, maxBuffer: 32 << 20, timeout: opts.timeout ?? 120_000, env: { ...process.env, NO_COLOR: '1', ...opts.env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-3000)}\n${stdout.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

const lastJson = <T>(out: string): T => JSON.parse(out.trim().split('\n').pop() ?? '') as T;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function inNode(work: string): Promise<RunResult> {
  return lastJson(await run(process.execPath, [join(fixtures, 'run-node.mjs'), work]));
}

/** Node, dist/infer.js with other load options (the full kernels module, or the JS kernels loaded on demand). */
async function inNodeWith(work: string, opts: string): Promise<RunResult> {
  const script = `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const dir = process.argv[1];
const { loadForecaster } = await import(pathToFileURL(join(dir, 'infer.js')).href);
const { forecastResults } = await import(pathToFileURL(join(dir, 'result.mjs')).href);
const win = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8'));
const load = async (name) => loadForecaster(new Uint8Array(readFileSync(join(dir, name))), ${opts});
console.log(JSON.stringify(await forecastResults(load, win, 'node')));`;
  return lastJson(await run(process.execPath, ['--input-type=module', '-e', script, work]));
}

async function inDeno(work: string): Promise<RunResult> {
  const deno = join(root, 'node_modules', '.bin', 'deno');
  if (!existsSync(deno)) throw new Error(`deno not found at ${deno}: run npm ci (deno is a devDependency)`);
  return lastJson(await run(deno, ['run', '--no-prompt', '--no-config', `--allow-read=${work},${fixtures}`, join(fixtures, 'run-deno.mjs'), work], { env: { DENO_NO_UPDATE_CHECK: '1' } }));
}

async function inChromium(work: string, cleanup: Cleanup): Promise<RunResult> {
  requireChromium();
  writeFileSync(join(work, 'index.html'), '<!doctype html><meta charset="utf-8"><title>sparsecast infer</title><script type="module" src="./page.mjs"></script>\n');
  const url = await serveFiles(work, ['index.html', 'page.mjs', 'result.mjs', 'infer.js', 'kernels.wasm', 'model.sc', ...Object.keys(STRUCTURED), 'window.json'], cleanup);
  const { page, logs } = await openPage(url, cleanup);
  const r = await pageGlobal<RunResult>(page, '__result', logs, 60_000);
  if (r.error) throw new Error(`Chromium: ${r.error}\n${logs.join('\n')}`);
  return r;
}

async function inWorkerd(work: string, cleanup: Cleanup): Promise<RunResult> {
  const bin = join(root, 'node_modules', '.bin', 'workerd');
  if (!existsSync(bin)) throw new Error(`workerd not found at ${bin}: run npm ci (workerd is a devDependency)`);
  const port = await freePort();
  writeFileSync(join(work, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .forecaster) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const forecaster :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "infer-edge.js", esModule = embed "infer-edge.js"),
    (name = "result.mjs", esModule = embed "result.mjs"),
    (name = "kernels.wasm", wasm = embed "kernels.wasm"),
    (name = "model.sc", data = embed "model.sc"),
    (name = "model-fan_in.sc", data = embed "model-fan_in.sc"),
    (name = "model-block.sc", data = embed "model-block.sc"),
    (name = "window.json", json = embed "window.json"),
  ],
  compatibilityDate = "2024-09-23",
);
`);
  const child: ChildProcess = spawn(bin, ['serve', join(work, 'config.capnp')], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  cleanup.push(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      const body = (await res.json()) as RunResult;
      if (body.error) throw new Error(`workerd: ${body.error}`);
      return body;
    } catch (e) {
      if ((e as Error).message.startsWith('workerd:')) throw e;
      if (Date.now() > deadline) throw new Error(`workerd did not answer on 127.0.0.1:${port}: ${(e as Error).message}\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('sparsecast/infer: one exported model in Node, Deno, Chromium and workerd', () => {
  let work = '';
  const cleanup: Cleanup = [];
  let sizes: Record<string, { bytes: number; gzip: number }> = {};
  let exported: Record<string, unknown> = {};
  const exportedStructured: Record<string, Record<string, unknown>> = {};
  let predicted: Float32Array;
  const results = new Map<string, RunResult | Error>();
  let initError: unknown = null;

  beforeAll(async () => {
    try {
      work = mkdtempSync(join(tmpdir(), 'sparsecast-infer-'));
      cleanup.push(async () => rmSync(work, { recursive: true, force: true }));
      const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'dev-cli.ts'), ...args], { timeout: 150_000 });
      const bundle = run(process.execPath, [join(root, 'scripts', 'build-infer.mjs'), work], { env: { SPARSECAST_INFER_SIZES: '1' } });
      const runDir = join(work, 'run');
      await cli(['train', '--data', 'data/ETTh1.csv', '--backend', 'wasm', '--seq_len', String(SEQ), '--label_len', '24', '--pred_len', '24',
        '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_ff', '32', '--train_epochs', '1', '--max_train_batches', '10',
        '--method', 'pals', '--update_freq', '2', '--val_batches', '2', '--init_density', '0.3', '--out', runDir]);
      exported = lastJson(await cli(['export', '--checkpoint', runDir, '--out', join(work, 'model.sc')]));
      for (const [file, [structure, density, dFf]] of Object.entries(STRUCTURED)) {
        await cli(['train', '--data', 'data/ETTh1.csv', '--backend', 'wasm', '--seq_len', String(SEQ), '--label_len', '24', '--pred_len', '24',
          '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_ff', dFf, '--train_epochs', '1', '--max_train_batches', '10',
          '--method', 'pals', '--update_freq', '2', '--val_batches', '2', '--init_density', density, '--sparsity_structure', structure, '--out', join(work, `run-${structure}`)]);
        exportedStructured[file] = lastJson(await cli(['export', '--checkpoint', join(work, `run-${structure}`), '--out', join(work, file)]));
      }
      sizes = lastJson(await bundle);
      // The last seq_len rows of the data set, raw, in its column order.
      const lines = readFileSync(join(root, 'data', 'ETTh1.csv'), 'utf8').trim().split(/\r?\n/);
      const rows = lines.slice(-SEQ).map((l) => l.split(','));
      writeFileSync(join(work, 'window.json'), JSON.stringify({ dates: rows.map((r) => r[0]), values: rows.flatMap((r) => r.slice(1).map(Number)) }));
      // The inference kernels, under the name the drivers load (and the full build, for the Node check below).
      copyFileSync(join(root, 'build', 'kernels-infer.wasm'), join(work, 'kernels.wasm'));
      copyFileSync(join(root, 'build', 'kernels.wasm'), join(work, 'kernels-full.wasm'));
      for (const f of ['result.mjs', 'page.mjs', 'worker.mjs']) copyFileSync(join(fixtures, f), join(work, f));
      // The training code path's forecast (dense weights, `sparsecast predict`), for a sanity check.
      await cli(['predict', '--checkpoint', runDir, '--data', 'data/ETTh1.csv', '--out', join(work, 'predict.csv')]);
      predicted = Float32Array.from(readFileSync(join(work, 'predict.csv'), 'utf8').trim().split('\n').slice(1).flatMap((l) => l.split(',').slice(1).map(Number)));
      const runs: Array<[string, () => Promise<RunResult>]> = [
        ['node', () => inNode(work)], ['deno', () => inDeno(work)],
        ['chromium', () => inChromium(work, cleanup)], ['workerd', () => inWorkerd(work, cleanup)],
        ['node-full-kernels', () => inNodeWith(work, "{ wasmModule: await WebAssembly.compile(readFileSync(join(dir, 'kernels-full.wasm'))) }")],
        ['node-js', () => inNodeWith(work, "{ backend: 'js' }")],
      ];
      const settled = await Promise.allSettled(runs.map(([, f]) => f()));
      settled.forEach((s, i) => results.set(runs[i]![0], s.status === 'fulfilled' ? s.value : (s.reason as Error)));
      for (const [k, r] of results) console.log(`${k}: ${r instanceof Error ? `ERROR ${r.message.slice(0, 300)}` : `${r.runtime}: ${r.head.map((v) => v.toFixed(4)).join(' ')} … (${r.n} values, ${r.csrLayers} CSR layers)`}`);
      console.log(`bundle sizes: ${JSON.stringify(sizes)}; export: ${JSON.stringify(exported)}; structured: ${JSON.stringify(exportedStructured)}`);
    } catch (e) {
      initError = e;
    }
  }, 240_000);

  afterAll(async () => {
    for (const f of cleanup) await f().catch(() => undefined);
  });

  const ready = (): void => {
    if (initError) throw initError;
  };
  const get = (name: string): RunResult => {
    ready();
    const r = results.get(name);
    if (r instanceof Error) throw r;
    return r!;
  };

  it('exports a model with CSR layers that run through denseCsrT', () => {
    ready();
    expect(exported.csr as number).toBeGreaterThan(5);
    expect(get('node').csrLayers).toBe(exported.csr);
  });

  it('runs the forward-only inference kernels (sizes and budgets: test/infer-size.test.ts)', () => {
    ready();
    const wasm = sizes['kernels-infer.wasm']!;
    console.log(`infer.js ${sizes['infer.js']!.gzip} B gzip, infer-edge.js ${sizes['infer-edge.js']!.gzip} B gzip, kernels-infer.wasm ${wasm.bytes} B (${wasm.gzip} B gzip); on demand: infer-js.js ${sizes['infer-js.js']!.gzip} B gzip, infer-wasm.js ${sizes['infer-wasm.js']!.gzip} B gzip`);
    expect(wasm.bytes).toBeGreaterThan(0);
    expect(readFileSync(join(work, 'kernels.wasm')).length, 'the drivers load the inference kernels').toBe(wasm.bytes);
    // Forward-only kernels: no backward, SDDMM, masked top-k, CSR construction or random draws in the module.
    const names = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(work, 'kernels.wasm')))).map((e) => e.name);
    for (const k of ['gemm', 'denseCsrT', 'denseBsrT', 'unaryF32', 'conv1dFwd', 'rfftRows', 'topkRows']) expect(names, k).toContain(k);
    for (const k of ['conv1dBwdInput', 'conv1dBwdWeight', 'layerNormBackwardRows', 'avgPool1dBackwardRows', 'maxPool1dBackwardRows', 'sddmm', 'spmm', 'maskedTopK', 'denseToCsrCount', 'denseToBsrCount', 'bsrSddmm', 'attentionForward', 'randomNormal']) {
      expect(names, k).not.toContain(k);
    }
    // Forward-only and portable: no tape, no node: imports, no eval / new Function, no embedded wasm.
    for (const f of ['infer.js', 'infer-edge.js']) {
      const text = readFileSync(join(work, f), 'utf8');
      expect(text, f).not.toMatch(/["']node:|new Function\b|(?<![.\w$])eval\((?!\)\{)|TapeNode|AGFzbQ/);
    }
  });

  it.each(['node', 'deno', 'chromium', 'workerd'])('forecasts in %s', (name) => {
    const r = get(name);
    expect(r.n).toBe(24 * 7);
    expect(r.head.every(Number.isFinite)).toBe(true);
  });

  it('gives bit-identical forecasts in all four runtimes', () => {
    const node = get('node');
    for (const name of ['deno', 'chromium', 'workerd']) expect(get(name).hex, name).toBe(node.hex);
  });

  it('gives bit-identical forecasts of the structured models (fan_in, block encodings) in all four runtimes', () => {
    expect((exportedStructured['model-fan_in.sc']!.encodings as Record<string, number>).fan_in).toBeGreaterThanOrEqual(4);
    expect((exportedStructured['model-block.sc']!.encodings as Record<string, number>).block).toBeGreaterThan(5);
    // Whole 4×4 blocks run through denseBsrT (the fan-in model's weights through CSR).
    expect(exportedStructured['model-block.sc']!.bsr as number).toBeGreaterThan(5);
    expect(exportedStructured['model-fan_in.sc']!.bsr).toBe(0);
    const node = get('node').structured!;
    for (const file of Object.keys(STRUCTURED)) {
      expect(node[file]!.n, file).toBe(24 * 7);
      expect(node[file]!.head.every(Number.isFinite), file).toBe(true);
      expect(node[file]!.csrLayers, file).toBe(exportedStructured[file]!.csr);
      expect(node[file]!.bsrLayers, file).toBe(exportedStructured[file]!.bsr);
      for (const name of ['deno', 'chromium', 'workerd']) expect(get(name).structured![file]!.hex, `${name} ${file}`).toBe(node[file]!.hex);
    }
  });

  it("forecasts the structured models exactly as the library's forward of the same runs", async () => {
    ready();
    const win = JSON.parse(readFileSync(join(work, 'window.json'), 'utf8')) as { values: number[]; dates: string[] };
    const full = await createWasmBackend();
    engine.registerBackend(full);
    engine.useBackend('wasm');
    fusedAttentionBackends.delete('wasm'); // the inference module has no fused attention kernel
    try {
      for (const [file, [structure]] of Object.entries(STRUCTURED)) {
        const run = loadRun(join(work, `run-${structure}`));
        const y = await run.forecast({ values: Float32Array.from(win.values), dates: win.dates });
        run.dispose();
        const hex = Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('hex');
        expect(hex, file).toBe(get('node').structured![file]!.hex);
      }
    } finally {
      fusedAttentionBackends.add('wasm');
    }
  });

  it('gives the full kernels\' forecast bit for bit (the entry installs the same forward glue over either module)', () => {
    expect(get('node-full-kernels').hex).toBe(get('node').hex);
    for (const file of Object.keys(STRUCTURED)) expect(get('node-full-kernels').structured![file]!.hex, file).toBe(get('node').structured![file]!.hex);
  });

  it('forecasts with the JS kernels (loaded on demand) to float rounding of the wasm forecast', () => {
    const f32 = (hex: string) => new Float32Array(Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16))).buffer);
    const wasm = f32(get('node').hex);
    const js = f32(get('node-js').hex);
    expect(js.length).toBe(wasm.length);
    for (let i = 0; i < js.length; i++) expect(Math.abs(js[i]! - wasm[i]!), `value ${i}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(wasm[i]!)));
  });

  it('agrees with `sparsecast predict` (the training code path, dense weights) to float rounding', () => {
    const hex = get('node').hex;
    const bytes = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    const y = new Float32Array(bytes.buffer);
    expect(y.length).toBe(predicted.length);
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - predicted[i]!), `value ${i}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(predicted[i]!)));
  });
});

// ---- every model, from the sources (Node) -----------------------------------------------------------------

describe('export → infer for every model (wasm backend, from the sources)', () => {
  const C = 3;
  const cfg: Partial<ForecastConfig> = {
    seqLen: 24, labelLen: 12, predLen: 6, dModel: 8, nHeads: 2, eLayers: 2, dLayers: 1, dFf: 16, dropout: 0, movingAvg: 5,
    modes: 4, pHiddenDims: [8, 8], pHiddenLayers: 2, factor: 1,
  };
  const dates = Array.from({ length: 24 }, (_, k) => `2020-03-01 ${String(k).padStart(2, '0')}:00:00`);
  const raw = Float32Array.from({ length: 24 * C }, (_, i) => 10 + Math.sin(i / 3) * (1 + (i % C)));
  const scaler = { mean: [9, 10, 11], std: [1.5, 2, 0.5], columns: ['a', 'b', 'c'] };
  let fullKernels: WasmBackend | undefined;

  // Every model with unstructured masks; the Transformer also with fan_in masks (a row ablated in each weight) and
  // 2×2 block masks, whose files must forecast the model's own bits on every path.
  const cases: Array<[string, StructureKind]> = [...MODEL_NAMES.map((n) => [n, 'unstructured'] as [string, StructureKind]), ['Transformer', 'fan_in'], ['Transformer', 'block']];
  const maskOf = (structure: StructureKind, rng: Rng, shape: number[]): Uint8Array => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (structure === 'unstructured') return Uint8Array.from(rng.uniform(size), (u) => (u < 0.3 ? 1 : 0));
    const mask = structuredInitMask({ kind: structure, blockSize: 2, ablation: 0 }, rng, shape, 0.3);
    if (structure === 'fan_in' && shape[0]! > 1) mask.fill(0, size / shape[0]!, (2 * size) / shape[0]!); // row 1 ablated
    return mask;
  };

  it.each(cases)('%s, %s masks: the sparse and the dense export both forecast what the trained model forecasts', async (name, structure) => {
    const dir = mkdtempSync(join(tmpdir(), `sparsecast-export-${name}-`));
    try {
      const inferKernels = await backendFor('wasm', async () => (await import('../src/infer/embedded-wasm.ts')).embeddedWasmModule());
      engine.useBackend('wasm');
      const full = { ...defaultConfig(C), ...cfg };
      const seed = 5;
      const model = createModel(name, new Rng(seed), full);
      // Masks at ~30 % density on every weight matrix (as sparse training leaves them), weights masked.
      const rng = new Rng(99);
      const tensors = new Map<string, { shape: number[]; data: SafeArray }>();
      const values = new Map<string, Float32Array>();
      for (const [k, t] of model.stateDict()) {
        let v = Float32Array.from(t.dataSync() as Float32Array);
        if (k.endsWith('running_var')) v = v.map(() => 1.7); // a trained buffer, different from the constructor's
        const isParam = model.namedParameters().some(([pk]) => pk === k);
        if (isParam && t.rank >= 2 && !tensors.has(`mask.${k}`)) {
          const mask = maskOf(structure, rng, [...t.shape]);
          v = v.map((x, i) => (mask[i] ? x : 0));
          tensors.set(`mask.${k}`, { shape: [...t.shape], data: mask });
        }
        values.set(k, v);
        tensors.set(k, { shape: [...t.shape], data: v });
      }
      // FEDformer shares its Fourier weights: every key must hold the first key's values.
      const byTensor = new Map<unknown, Float32Array>();
      for (const [k, t] of model.stateDict()) {
        const first = byTensor.get(t);
        if (first) {
          values.set(k, first);
          tensors.set(k, { shape: [...t.shape], data: first });
        } else byTensor.set(t, values.get(k)!);
      }
      model.loadStateDict(values);
      writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: name, seed, features: 'M', target: 'c', cfg: full, scaler }));
      // Reference: the trained model's own forward on the same inputs the forecaster builds.
      const { seqLen, labelLen, predLen } = full;
      const x = raw.map((v, i) => (v - scaler.mean[i % C]!) / scaler.std[i % C]!);
      const times = dates.map((d) => parseDate(d)!);
      const future = Array.from({ length: predLen }, (_, k) => ({ year: 2020, month: 3, day: 2, hour: k, minute: 0, second: 0 }));
      const marks = timeFeatures(times, 'h').values;
      const yMark = new Float32Array((labelLen + predLen) * 4);
      yMark.set(marks.subarray((seqLen - labelLen) * 4));
      yMark.set(timeFeatures(future, 'h').values, labelLen * 4);
      const dec = new Float32Array((labelLen + predLen) * C);
      dec.set(x.subarray((seqLen - labelLen) * C));
      model.eval();
      const ref = engine.noGrad(() => tidy(() => {
        const y = model.forward(tensor(x, [1, seqLen, C]), tensor(marks, [1, seqLen, 4]), tensor(dec, [1, labelLen + predLen, C]), tensor(yMark, [1, labelLen + predLen, 4]));
        return (y.dataSync() as Float32Array).slice(-predLen * C).map((v, i) => v * scaler.std[i % C]! + scaler.mean[i % C]!);
      }));
      model.dispose();
      const structured = structure !== 'unstructured';
      // Structured: also a file with every masked weight forced into the structure's encoding (the size rule may
      // prefer the bitmask on these small weights), from the dense export's weights and the masks.
      const files: Array<[string, () => Promise<{ bytes: Uint8Array; summary?: { csr: number } }>]> = [[1, 0], [1, 0.5, 0]][+structured]!
        .map((t) => [`threshold ${t}`, () => exportRun(dir, { csrThreshold: t })]);
      if (structured) {
        files.push([`all ${structure}`, async () => {
          const d = readModelFile((await exportRun(dir, { csrThreshold: 0 })).bytes);
          const masks = readSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors;
          const weights: WeightInput[] = [...d.dense].map(([k, v]) => {
            const m = masks.get(`mask.${k}`)?.data as Uint8Array | undefined;
            return m ? { name: k, shape: v.shape, data: v.data, mask: m, encoding: structure, block: 2 } : { name: k, shape: v.shape, data: v.data };
          });
          const { format: _f, formatVersion: _v, sparsecast: _s, sparse: _p, csrThreshold: _t, ...rest } = d.config;
          const bytes = writeModelFile(rest as ModelConfigInput, weights, { csrThreshold: 1 });
          expect(new Set([...readModelFile(bytes).csr.values()].map((c) => c.encoding))).toEqual(new Set([structure]));
          return { bytes };
        }]);
      }
      for (const [what, make] of files) {
        const { bytes, summary } = await make();
        const threshold = readModelFile(bytes).config.csrThreshold;
        const f = await loadForecaster(bytes);
        const y = f.forecast({ values: raw, dates });
        const kinds = [...f.layers.values()];
        f.dispose();
        if (threshold === 1) expect(kinds.filter((k) => k !== 'dense').length, `${name} CSR layers`).toBeGreaterThan(0);
        if (threshold === 0) expect(summary!.csr).toBe(0);
        expect(y.length).toBe(predLen * C);
        for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - ref[i]!), `${name} ${what} value ${i}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(ref[i]!)));
        // Structured files give the model's own bits (same kernels; CSR and dense-masked sum alike on wasm).
        if (structured) expect(Buffer.from(y.buffer).equals(Buffer.from(ref.buffer)), `${name} ${structure} ${what}: bits`).toBe(true);
        // The full kernels (the library's wasm backend) give the same bits: same kernel source, built for size.
        // The inference module has no fused attention kernel, so FullAttention runs unfused on both here (the
        // fused kernel agrees to float rounding only: tested above).
        fullKernels ??= await createWasmBackend();
        engine.registerBackend(fullKernels);
        fusedAttentionBackends.delete('wasm');
        try {
          const g = createForecaster(bytes, fullKernels);
          const y2 = g.forecast({ values: raw, dates });
          g.dispose();
          expect(Buffer.from(y2.buffer).equals(Buffer.from(y.buffer)), `${name} ${what}: inference vs full kernels`).toBe(true);
        } finally {
          fusedAttentionBackends.add('wasm');
          engine.registerBackend(inferKernels);
          engine.useBackend('wasm');
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the inference kernels (forward only)', () => {
  it('load without the training kernels; calling one fails with an error naming it', async () => {
    const b = (await backendFor('wasm', async () => (await import('../src/infer/embedded-wasm.ts')).embeddedWasmModule())) as WasmBackend;
    expect(() => (b.rt.exports.sddmm as () => void)()).toThrow(/wasm kernel 'sddmm' is not in the inference kernels/);
    expect(() => (b.rt.exports.conv1dBwdInput as () => void)()).toThrow(/conv1dBwdInput/);
    expect(typeof b.rt.exports.denseCsrT).toBe('function');
  });
});
