/**
 * The package's `exports` map, as a user's Node resolves it (README: Library, Edge inference). Every other test
 * imports dist/ files by path; here a temp folder has node_modules/sparsecast → this repo (as an install links
 * it), and child `node` processes resolve and import the README's specifiers by name — plain (`import`), with
 * `--conditions=workerd` (Cloudflare Workers: `sparsecast/infer` is the edge variant) and with
 * `--conditions=browser` (what bundlers pick for the root entry: file helpers that throw if called). Needs the
 * built dist/ (npm run build).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const MODEL = fileURLToPath(new URL('./fixtures/infer/synthetic-v1.sc', import.meta.url));
let dir: string;

/** Run an ES module script in `dir` (where node_modules/sparsecast is the repo) under `conditions`; its last stdout line as JSON. */
function node(script: string, conditions: string[] = []): Record<string, unknown> {
  const out = execFileSync(process.execPath, [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', script], {
    cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SC_MODEL: MODEL },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

const file = (rel: string) => pathToFileURL(join(REPO, rel)).href;

/** What each README-named specifier resolves to, by condition set. */
const RESOLVE_SCRIPT = (specs: string[]) => `
const out = {};
for (const s of ${JSON.stringify(specs)}) {
  try { out[s] = import.meta.resolve(s); } catch (e) { out[s] = 'error: ' + (e.code ?? e.message); }
}
console.log(JSON.stringify(out));`;

const SPECS = ['sparsecast', 'sparsecast/infer', 'sparsecast/infer/edge', 'sparsecast/infer-kernels.wasm', 'sparsecast/kernels.wasm'];

/** The synthetic model's window (16 steps × 3 columns, hourly), as test/model-file-v1.test.ts forecasts it. */
const WINDOW = `
const values = Float32Array.from({ length: 16 * 3 }, (_, k) => 2 + Math.sin(k / 2));
const dates = Array.from({ length: 16 }, (_, k) => '2021-05-0' + (1 + Math.floor(k / 24)) + ' ' + String(k % 24).padStart(2, '0') + ':00:00');
const bytes = new Uint8Array(readFileSync(process.env.SC_MODEL));
const hex = (y) => Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('hex');`;

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'infer-edge.js')) || !existsSync(join(REPO, 'build', 'kernels-infer.wasm'))) {
    throw new Error('dist/ or build/ is missing: run npm run build first');
  }
  dir = mkdtempSync(join(tmpdir(), 'sc-exports-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'sparsecast'), 'dir');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('package exports, resolved by Node by package name', () => {
  it('each README-named subpath resolves to the file the README names; an unexported one does not resolve', () => {
    const got = node(RESOLVE_SCRIPT([...SPECS, 'sparsecast/dist/infer.js', 'sparsecast/src/index.ts']));
    expect(got).toEqual({
      sparsecast: file('dist/index.js'),
      'sparsecast/infer': file('dist/infer.js'),
      'sparsecast/infer/edge': file('dist/infer-edge.js'),
      'sparsecast/infer-kernels.wasm': file('build/kernels-infer.wasm'),
      'sparsecast/kernels.wasm': file('build/kernels.wasm'),
      // Only the map's subpaths are public.
      'sparsecast/dist/infer.js': 'error: ERR_PACKAGE_PATH_NOT_EXPORTED',
      'sparsecast/src/index.ts': 'error: ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  it('the workerd condition picks the edge variant for sparsecast/infer', () => {
    expect(node(RESOLVE_SCRIPT(SPECS), ['workerd'])).toEqual({
      sparsecast: file('dist/index.js'),
      'sparsecast/infer': file('dist/infer-edge.js'),
      'sparsecast/infer/edge': file('dist/infer-edge.js'),
      'sparsecast/infer-kernels.wasm': file('build/kernels-infer.wasm'),
      'sparsecast/kernels.wasm': file('build/kernels.wasm'),
    });
  });

  it('the browser condition picks the browser build of the root entry (and leaves sparsecast/infer as is)', () => {
    const got = node(RESOLVE_SCRIPT(['sparsecast', 'sparsecast/infer']), ['browser']);
    expect(got).toEqual({ sparsecast: file('dist/index.browser.js'), 'sparsecast/infer': file('dist/infer.js') });
  });

  it("'sparsecast' exports the README's Library names; its file helpers read files in Node", () => {
    const got = node(`
const m = await import('sparsecast');
const fns = ['setBackend', 'tidy', 'tensor', 'matmul', 'gelu', 'mseLoss', 'backward'].filter((n) => typeof m[n] !== 'function');
const spaces = ['nn', 'models', 'data', 'train', 'sparse', 'io'].filter((n) => typeof m[n] !== 'object' || m[n] === null);
const named = [typeof m.models.createModel, typeof m.data.parseCsvBytes, typeof m.data.ForecastDataset, typeof m.train.fit, typeof m.io.exportModel, typeof m.io.loadRun, typeof m.io.saveRun];
let loadRun; try { await m.io.loadRun('no-such-run'); } catch (e) { loadRun = e.message; }
await m.setBackend('wasm');
const y = await m.matmul(m.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), m.tensor(new Float32Array([1, 0, 0, 1]), [2, 2])).data();
console.log(JSON.stringify({ fns, spaces, named, loadRun, y: Array.from(y) }));`);
    expect(got).toEqual({
      fns: [], spaces: [], named: Array(7).fill('function'), loadRun: expect.stringContaining('no-such-run has no config.json'), y: [1, 2, 3, 4],
    });
  });

  it("the browser build's file helpers (loadRun, saveRun, checkpoints) throw when called; the rest runs", () => {
    const got = node(`
const m = await import('sparsecast');
const msg = async (f) => { try { await f(); return 'no error'; } catch (e) { return e.message; } };
const out = {
  loadRun: await msg(() => m.io.loadRun('run')),
  // A forecaster with no tensors: saveRun gets as far as writing the folder.
  saveRun: await msg(() => m.io.saveRun('run', { info: { scaler: { mean: [], std: [], columns: [] } }, masks: new Map(), model: { stateDict: () => new Map(), namedParameters: () => [] } })),
  loadCheckpoint: await msg(() => m.train.loadCheckpoint('ckpt.safetensors')),
  saveCheckpoint: await msg(() => m.train.saveCheckpoint('ckpt.safetensors', { tensors: new Map(), state: {} })),
};
await m.setBackend('wasm');
out.y = Array.from(await m.matmul(m.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), m.tensor(new Float32Array([0, 1, 1, 0]), [2, 2])).data());
console.log(JSON.stringify(out));`, ['browser']);
    expect(got.loadRun).toMatch(/^node:\w+\.\w+ is not available in the browser$/);
    expect(got.saveRun).toMatch(/^node:\w+\.\w+ is not available in the browser$/);
    expect(got.loadCheckpoint).toMatch(/^node:\w+\.\w+ is not available in the browser$/);
    expect(got.saveCheckpoint).toMatch(/^node:\w+\.\w+ is not available in the browser$/);
    expect(got.y).toEqual([2, 1, 4, 3]);
  });

  it("sparsecast/infer's loadForecaster forecasts; sparsecast/infer/edge with the module of sparsecast/infer-kernels.wasm (or kernels.wasm) gives the same bits", () => {
    // One process each: the inference entry keeps the first wasm backend it makes for the process.
    const a = node(`
import { readFileSync } from 'node:fs';
${WINDOW}
const infer = await import('sparsecast/infer');
const edge = await import('sparsecast/infer/edge');
const f = await infer.loadForecaster(bytes);
const y = f.forecast({ values, dates });
console.log(JSON.stringify({ seqLen: f.config.cfg.seqLen, n: y.length, finite: y.every(Number.isFinite), hex: hex(y), same: infer.loadForecaster === edge.loadForecaster }));`);
    const onEdge = (spec: string) => node(`
import { readFileSync } from 'node:fs';
${WINDOW}
const edge = await import('sparsecast/infer/edge');
let bare; try { await edge.loadForecaster(bytes); bare = 'loaded'; } catch (e) { bare = e.message; }
const wasmModule = await WebAssembly.compile(readFileSync(new URL(import.meta.resolve(${JSON.stringify(spec)}))));
const f = await edge.loadForecaster(bytes, { wasmModule });
console.log(JSON.stringify({ bare, hex: hex(f.forecast({ values, dates })) }));`);
    const b = onEdge('sparsecast/infer-kernels.wasm');
    const c = onEdge('sparsecast/kernels.wasm');
    expect(a).toMatchObject({ seqLen: 16, finite: true, same: false });
    expect(a.n).toBe((a.hex as string).length / 8);
    expect(a.n).toBeGreaterThan(0);
    expect(b.hex).toBe(a.hex);
    expect(c.hex).toBe(a.hex);
    // The edge entry never compiles kernels from bytes: it asks for the module.
    expect(b.bare).toContain('loadForecaster (edge): pass { wasmModule }');
    expect(c.bare).toBe(b.bare);
  });

  it('under workerd, sparsecast/infer is the edge module (the same instance as sparsecast/infer/edge)', () => {
    const got = node(`
import { readFileSync } from 'node:fs';
${WINDOW}
const infer = await import('sparsecast/infer');
const edge = await import('sparsecast/infer/edge');
let bare; try { await infer.loadForecaster(bytes); bare = 'loaded'; } catch (e) { bare = e.message; }
const wasmModule = await WebAssembly.compile(readFileSync(new URL(import.meta.resolve('sparsecast/infer-kernels.wasm'))));
const f = await infer.loadForecaster(bytes, { wasmModule });
console.log(JSON.stringify({ same: infer.loadForecaster === edge.loadForecaster, bare, finite: f.forecast({ values, dates }).every(Number.isFinite) }));`, ['workerd']);
    expect(got).toEqual({ same: true, bare: expect.stringContaining('loadForecaster (edge): pass { wasmModule }'), finite: true });
  });
});
