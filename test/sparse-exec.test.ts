// Sparse execution of masked layers (src/sparse/sparse-exec.ts): the CSR path against the dense-masked path —
// forward, both backward products, mask changes and value refreshes, a whole small Transformer at ~80%
// sparsity — and the measured crossover (src/sparse/crossover.ts).
import { describe, expect, it } from 'vitest';
import { LinearConvPair, forwardBackward, randomMask } from './shared/forward-backward.ts';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import * as op from '../src/ops/index.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Masking } from '../src/sparse/masking.ts';
import { enableSparseExecution } from '../src/sparse/sparse-exec.ts';
import { clearCrossoverCache, crossoverDensity, crossoverEntry, crossoverTable, loadCrossoverTable } from '../src/sparse/crossover.ts';
import { createModel } from '../src/models/index.ts';
import { defaultConfig } from '../src/models/config.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());


function expectClose(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol = 0): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < va.length; i++) {
      worst = Math.max(worst, Math.abs(va[i]! - vb[i]!));
      scale = Math.max(scale, Math.abs(vb[i]!));
    }
    expect(worst, `${k}: max |Δ| ${worst} (scale ${scale})`).toBeLessThanOrEqual(tol * Math.max(scale, 1e-30));
  }
}

// wasm sums both paths in the same order (bit for bit); the js reference backend's GEMM accumulates in another
// order, so there the paths agree within the conformance tolerance.
describe.each([['wasm', 0], ['js', 1e-5]] as const)('sparse execution on %s', (backend, tol) => {
  it('Linear and Conv1d(k=1): CSR forward, dX and dW equal the dense-masked path', () => {
    engine.useBackend(backend);
    const rng = new Rng(3);
    const model = new LinearConvPair(rng, 24, 40, 16);
    const masking = new Masking(model, new Map([['fc.weight', 0.3], ['conv.weight', 0.2]]), (_, size, d) => randomMask(rng, size, d));
    masking.apply();
    const xData = new Rng(9).normal(5 * 7 * 24);
    const fwd = (x: Tensor) => model.forward(x);
    const dense = forwardBackward(model, fwd, xData, [5, 7, 24]);
    const ex = enableSparseExecution(model, masking, { mode: 'sparse' });
    const sparse = forwardBackward(model, fwd, xData, [5, 7, 24]);
    expect(ex.paths()).toEqual({ 'fc.weight': 'csr', 'conv.weight': 'csr' });
    // Same summation order, inactive weights exactly 0: bit for bit.
    expectClose(sparse, dense, tol);
    // Weight gradient only at active positions (sddmm) between topology updates.
    ex.setOptions({ weightGrad: 'sparse-between-updates' });
    masking.denseGradients = false;
    const sd = forwardBackward(model, fwd, xData, [5, 7, 24]);
    ex.setOptions({ mode: 'dense' });
    const dm = forwardBackward(model, fwd, xData, [5, 7, 24]); // dense path masks its weight gradient the same way
    expectClose(sd, dm, tol);
    for (const l of masking.layers) {
      const g = sd.get(`d.${l.name}`)!;
      const full = dense.get(`d.${l.name}`)!;
      for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - (l.mask[i] ? full[i]! : 0))).toBeLessThanOrEqual(tol);
    }
    // On an update step the dense gradient is back.
    masking.denseGradients = true;
    ex.setOptions({ mode: 'sparse' });
    expectClose(forwardBackward(model, fwd, xData, [5, 7, 24]), dense, tol);
    ex.dispose();
    masking.dispose();
    model.dispose();
  });

  it('rebuilds the CSR when the mask changes and refreshes its values after each optimizer step', () => {
    engine.useBackend(backend);
    const rng = new Rng(5);
    const model = new LinearConvPair(rng, 24, 40, 16);
    const masking = new Masking(model, new Map([['fc.weight', 0.5], ['conv.weight', 0.5]]), (_, size, d) => randomMask(rng, size, d));
    masking.apply();
    const ex = enableSparseExecution(model, masking, { mode: 'sparse', patternUpdate: 'incremental' });
    const xData = new Rng(2).normal(3 * 24);
    const fwd = (x: Tensor) => model.forward(x);
    forwardBackward(model, fwd, xData, [3, 24], { keepGradients: true }); // builds the CSR; its gradients make the step below
    // An "optimizer step": change every weight, re-mask; then a topology update on fc.
    engine.noGrad(() => {
      for (const p of model.parameters()) {
        const next = engine.keep(op.add(p, op.mul(p.grad!, -0.1)));
        const old = p.storage;
        p.storage = next.storage;
        next.storage = old;
        next.dispose();
      }
    });
    masking.apply();
    const l = masking.layers.find((x) => x.name === 'fc.weight')!;
    masking.setMask(l, randomMask(rng, l.param.size, 0.25));
    masking.apply();
    const sparse = forwardBackward(model, fwd, xData, [3, 24]);
    // The topology update went through the incremental pattern update (rows of W and of Wᵀ rebuilt).
    expect(ex.layers.get('fc.weight')!.lastRebuiltRows).toEqual([40, 24]);
    ex.setOptions({ mode: 'dense' });
    const dense = forwardBackward(model, fwd, xData, [3, 24]);
    expectClose(sparse, dense, tol);
    // Empty and full masks.
    masking.setMask(l, new Uint8Array(l.param.size));
    masking.apply();
    ex.setOptions({ mode: 'sparse' });
    const empty = forwardBackward(model, fwd, xData, [3, 24]);
    ex.setOptions({ mode: 'dense' });
    expectClose(empty, forwardBackward(model, fwd, xData, [3, 24]), tol);
    ex.dispose();
    masking.dispose();
    model.dispose();
  });
});

describe('sparse execution of a whole small Transformer (wasm)', () => {
  it('forward + backward at ~80% sparsity: CSR equals dense-masked', () => {
    engine.useBackend('wasm');
    const cfg = defaultConfig(3, { seqLen: 24, labelLen: 12, predLen: 12, dModel: 32, dFf: 64, nHeads: 4, eLayers: 2, dLayers: 1 });
    const rng = new Rng(11);
    const model = createModel('Transformer', rng, cfg);
    model.eval(); // no dropout: both passes see the same function
    const names = model.namedParameters().filter(([, p]) => p.rank >= 2).map(([n]) => n);
    const masking = new Masking(model, new Map(names.map((n) => [n, 0.2])), (_, size, d) => randomMask(rng, size, d));
    masking.apply();
    const r = new Rng(1);
    const B = 2;
    const xEnc = r.normal(B * 24 * 3);
    const xMark = r.uniform(B * 24 * 4);
    const xDec = r.normal(B * 24 * 3);
    const yMark = r.uniform(B * 24 * 4);
    const fwd = (x: Tensor) =>
      (model as unknown as { forward: (...a: (Tensor | null)[]) => Tensor }).forward(
        x, op.tensor(xMark, [B, 24, 4]), op.tensor(xDec, [B, 24, 3]), op.tensor(yMark, [B, 24, 4]),
      );
    const dense = forwardBackward(model, fwd, xEnc, [B, 24, 3]);
    const ex = enableSparseExecution(model, masking, { mode: 'sparse' });
    const sparse = forwardBackward(model, fwd, xEnc, [B, 24, 3]);
    const paths = Object.values(ex.paths());
    expect(paths.filter((p) => p === 'csr').length).toBeGreaterThan(10); // q/k/v/o projections, FFN convs, head
    expect(paths.every((p) => p === 'csr')).toBe(true);
    expectClose(sparse, dense, 0); // bit for bit on wasm
    ex.dispose();
    masking.dispose();
    model.dispose();
  });
});

describe('measured crossover', () => {
  it('times the layer shape once per (backend, m, n, k, pass), serves the cache and loads a table', () => {
    engine.useBackend('wasm');
    clearCrossoverCache();
    const backend = op.tensor([0]).backend;
    const e = crossoverEntry(backend, 256, 64, 128, 'forward')!;
    expect(e.density).toBeGreaterThanOrEqual(0);
    expect(e.density).toBeLessThanOrEqual(1);
    expect(e.points).toHaveLength(2);
    expect(crossoverEntry(backend, 256, 64, 128, 'forward')).toBe(e);
    const table = JSON.parse(JSON.stringify(crossoverTable()));
    clearCrossoverCache();
    loadCrossoverTable([{ ...table[0], density: 0.42 }]);
    expect(crossoverDensity(backend, 256, 64, 128, 'forward')).toBe(0.42);
    clearCrossoverCache();
  });
});

describe('sparse execution inside the Trainer (wasm)', () => {
  it('RigL at 80% sparsity with topology updates: CSR execution (dense dW) trains bit-identically to dense-masked', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseCsv } = await import('../src/data/csv.ts');
    const { ForecastDataset } = await import('../src/data/forecast-dataset.ts');
    const { Transformer } = await import('../src/models/transformer.ts');
    const { Trainer } = await import('../src/train/trainer.ts');
    const { createController, DEFAULT_SPARSE } = await import('../src/sparse/methods.ts');
    engine.useBackend('wasm');
    const table = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'));
    const dsOpts = { kind: 'ETTh' as const, features: 'M' as const, target: 'OT', seqLen: 48, labelLen: 24, predLen: 24, freq: 'h', file: 'ETTh1' };
    const cfg = defaultConfig(7, { seqLen: 48, labelLen: 24, predLen: 24, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32 });
    const train = async (sparseExecution: false | { mode: 'sparse' }) => {
      const ds = new ForecastDataset(table, dsOpts);
      const rng = new Rng(1);
      const model = new Transformer(rng, cfg);
      const sparseRng = new Rng(99);
      const controller = createController(model, { ...DEFAULT_SPARSE, method: 'rigl', density: 0.2, updateFrequency: 3 }, sparseRng);
      const tr = new Trainer(model, ds, rng, {
        epochs: 1, patience: 3, batchSize: 16, learningRate: 1e-3, lradj: 'type1', seed: 1, maxTrainBatches: 7,
        controller, sparseRng, valBatches: 2, sparseExecution,
      });
      await tr.fit();
      const paths = tr.sparseExec?.paths() ?? {};
      const params = new Map(model.namedParameters().map(([k, p]) => [k, Float32Array.from(p.dataSync() as Float32Array)]));
      const masks = controller.masking!.state();
      tr.dispose();
      controller.dispose();
      model.dispose();
      return { params, masks, paths };
    };
    const dense = await train(false);
    const sparse = await train({ mode: 'sparse' });
    expect(Object.values(sparse.paths).filter((p) => p === 'csr').length).toBeGreaterThan(5);
    for (const [k, m] of Object.entries(dense.masks)) expect(sparse.masks[k], k).toEqual(m);
    for (const [k, v] of dense.params) expect(sparse.params.get(k), k).toEqual(v);
  }, 120_000);
});
