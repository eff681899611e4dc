// Sparse execution through every format (src/sparse/exec-*.ts) against the dense-masked path on wasm, bit for
// bit: a Linear and a Conv1d(k=1) of shapes that are not multiples of 4 (BSR edge blocks), forward, dX and dW
// (dense and 'sparse-between-updates'); a whole small Transformer forward + backward and three Adam steps; the
// host BSR pattern against the kernel's denseToBsr; the per-layer timed choice (cache, material mask changes);
// the whole-model guard; and device memory returning to where it was.
import { describe, expect, it } from 'vitest';
import { LinearConvPair, forwardBackward, randomMask } from './shared/forward-backward.ts';
import { backward } from '../src/autograd/backward.ts';
import { Module } from '../src/nn/module.ts';
import { Linear } from '../src/nn/linear.ts';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import * as op from '../src/ops/index.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Masking } from '../src/sparse/masking.ts';
import { enableSparseExecution, type ExecMode } from '../src/sparse/sparse-exec.ts';
import { BsrPattern } from '../src/sparse/bsr-pattern.ts';
import { fanInPattern } from '../src/sparse/exec-fan-in.ts';
import { candidates, maskSignature, materialChange } from '../src/sparse/path-choice.ts';
import { cpuClock } from '../src/backend/timing.ts';
import { GUARD_MARGIN, GUARD_WARMUPS } from '../src/sparse/model-guard.ts';
import { structuredInitMask, UNSTRUCTURED } from '../src/sparse/structure.ts';
import { createModel } from '../src/models/index.ts';
import { defaultConfig } from '../src/models/config.ts';
import { Adam } from '../src/train/adam.ts';

engine.registerBackend(createWasmBackendSync());
engine.useBackend('wasm');


/** A constant fan-in mask of a weight shape with a quarter of its rows dead (ablated neurons). */
function fanInMask(rng: Rng, shape: readonly number[], density: number): Uint8Array {
  const m = structuredInitMask({ ...UNSTRUCTURED, kind: 'fan_in' }, rng, shape, density);
  const R = shape[0]!;
  const C = m.length / R;
  for (let r = 1; r < R; r += 4) m.fill(0, r * C, (r + 1) * C);
  return m;
}

function blockMask(rng: Rng, shape: readonly number[], density: number): Uint8Array {
  return structuredInitMask({ ...UNSTRUCTURED, kind: 'block', blockSize: 4 }, rng, shape, density);
}

function expectSame(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, va] of a) {
    const vb = b.get(k)!;
    let bad = -1;
    for (let i = 0; i < va.length && bad < 0; i++) if (va[i] !== vb[i] && !(Number.isNaN(va[i]) && Number.isNaN(vb[i]))) bad = i;
    expect(bad, `${what} ${k}[${bad}]: ${va[bad]} vs ${vb[bad]}`).toBe(-1);
  }
}

const FORMATS = ['csr', 'bsr', 'fan_in', 'compact'] as const;

describe('every sparse format equals the dense-masked path bit for bit (wasm)', () => {
  for (const [maskKind, makeMask] of [['fan_in with dead rows', fanInMask], ['4×4 blocks', blockMask]] as const) {
    it(`Linear [38, 22] and Conv1d(k=1) [14, 38]: forward, dX, dW — ${maskKind} masks`, () => {
      const before = engine.memory();
      const rng = new Rng(3);
      const model = new LinearConvPair(rng, 22, 38, 14);
      const masking = new Masking(model, new Map([['fc.weight', 0.3], ['conv.weight', 0.25]]), (name, _, d) =>
        makeMask(rng, name === 'fc.weight' ? [38, 22] : [14, 38, 1], d));
      masking.apply();
      const xData = new Rng(9).normal(5 * 7 * 22);
      const fwd = (x: Tensor) => model.forward(x);
      const dense = forwardBackward(model, fwd, xData, [5, 7, 22]);
      const ex = enableSparseExecution(model, masking, { mode: 'dense' });
      const formats = maskKind === '4×4 blocks' ? FORMATS.filter((f) => f !== 'fan_in') : FORMATS;
      for (const f of formats) {
        ex.setOptions({ mode: f, weightGrad: 'dense' });
        masking.denseGradients = true;
        const sparse = forwardBackward(model, fwd, xData, [5, 7, 22]);
        expect(Object.values(ex.paths())).toEqual([f, f]);
        expectSame(sparse, dense, f);
        // 'sparse-between-updates': the gradient at the stored positions only, as the dense path masks it.
        ex.setOptions({ weightGrad: 'sparse-between-updates' });
        masking.denseGradients = false;
        const sd = forwardBackward(model, fwd, xData, [5, 7, 22]);
        ex.setOptions({ mode: 'dense' });
        const dm = forwardBackward(model, fwd, xData, [5, 7, 22]);
        expectSame(sd, dm, `${f} sparse dW`);
        for (const l of masking.layers) {
          const g = sd.get(`d.${l.name}`)!;
          const full = dense.get(`d.${l.name}`)!;
          let bad = -1; // numeric equality: the masked-out zeros may be −0 (a product with a negative gradient)
          for (let i = 0; i < g.length && bad < 0; i++) if (g[i] !== (l.mask[i] ? full[i] : 0)) bad = i;
          expect(bad, `${f} ${l.name}[${bad}]`).toBe(-1);
        }
      }
      masking.denseGradients = true;
      ex.dispose();
      masking.dispose();
      model.dispose();
      // Every executor's storages are freed (raw storages: the backend's bytes, not only the tensor count).
      expect(engine.memory().tensors).toBe(before.tensors);
      expect(engine.memory().perBackend.wasm!.bytes).toBe(before.perBackend.wasm!.bytes);
    });
  }

  it('follows mask changes and weight updates in every format; fan_in refuses a mask without constant fan-in', () => {
    const rng = new Rng(5);
    const model = new LinearConvPair(rng, 22, 38, 14);
    const masking = new Masking(model, new Map([['fc.weight', 0.5], ['conv.weight', 0.5]]), (name, _, d) =>
      fanInMask(rng, name === 'fc.weight' ? [38, 22] : [14, 38, 1], d));
    masking.apply();
    const ex = enableSparseExecution(model, masking, { mode: 'dense' });
    const xData = new Rng(2).normal(3 * 22);
    const fwd = (x: Tensor) => model.forward(x);
    for (const f of FORMATS) {
      ex.setOptions({ mode: f });
      forwardBackward(model, fwd, xData, [3, 22]); // builds the format
    }
    // An "optimizer step" on every weight, re-masked, then a topology update on fc (still constant fan-in).
    engine.noGrad(() => {
      for (const p of model.parameters()) {
        const next = engine.keep(op.mul(p, 1.5));
        const old = p.storage;
        p.storage = next.storage;
        next.storage = old;
        next.dispose();
      }
    });
    masking.apply();
    const l = masking.layers.find((x) => x.name === 'fc.weight')!;
    masking.setMask(l, fanInMask(rng, [38, 22], 0.2));
    masking.apply();
    ex.setOptions({ mode: 'dense' });
    const dense = forwardBackward(model, fwd, xData, [3, 22]);
    for (const f of FORMATS) {
      ex.setOptions({ mode: f });
      expectSame(forwardBackward(model, fwd, xData, [3, 22]), dense, `${f} after updates`);
    }
    // An empty layer (every neuron ablated) in every format, and 'auto' timing its candidates on it.
    masking.setMask(l, new Uint8Array(l.param.size));
    masking.apply();
    ex.setOptions({ mode: 'dense' });
    const empty = forwardBackward(model, fwd, xData, [3, 22]);
    for (const f of [...FORMATS, 'auto'] as const) {
      ex.setOptions({ mode: f });
      expectSame(forwardBackward(model, fwd, xData, [3, 22]), empty, `${f} on an empty mask`);
    }
    masking.setMask(l, randomMask(rng, l.param.size, 0.4));
    masking.apply();
    ex.setOptions({ mode: 'fan_in' });
    expect(() => forwardBackward(model, fwd, xData, [3, 22])).toThrow(/fc\.weight \[38, 22\] cannot run as fan_in: fan_in: row \d+ keeps \d+ inputs/);
    ex.dispose();
    masking.dispose();
    model.dispose();
  });
});

describe('host patterns', () => {
  it('BsrPattern of W and of Wᵀ gathers what denseToBsr builds from the masked weight', () => {
    const be = op.tensor([0]).backend;
    const rng = new Rng(7);
    const [n, k] = [10, 13];
    const mask = randomMask(rng, n * k, 0.2);
    const w = Float32Array.from(rng.normal(n * k), (v, i) => (mask[i] ? v : 0));
    for (const transposed of [false, true]) {
      const [rows, cols] = transposed ? [k, n] : [n, k];
      const p = BsrPattern.fromMask(mask, n, k, transposed);
      const src = transposed ? Float32Array.from({ length: n * k }, (_, e) => w[(e % n) * k + Math.floor(e / n)]!) : w;
      const srcMask = transposed ? Uint8Array.from({ length: n * k }, (_, e) => mask[(e % n) * k + Math.floor(e / n)]!) : mask;
      const ws = be.upload(src);
      const ms = be.upload(srcMask);
      const ref = be.kernels.denseToBsr(ws, rows, cols, p.nblocks, ms);
      expect(Array.from(be.readSync!(ref.blockPtr) as Int32Array)).toEqual(Array.from(p.blockPtr));
      expect(Array.from(be.readSync!(ref.blockCol) as Int32Array)).toEqual(Array.from(p.blockCol));
      const gathered = Array.from(p.positions, (q, i) => (p.keep[i] ? w[q]! : 0));
      expect(Array.from(be.readSync!(ref.values) as Float32Array)).toEqual(gathered);
      for (const s of [ws, ms, ref.blockPtr, ref.blockCol, ref.values]) be.free(s);
    }
  });

  it('fanInPattern checks the mask itself and packs u16 columns two per word', () => {
    const mask = Uint8Array.from([1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0]); // [3, 4]: rows 0 and 2 keep 2
    const p = fanInPattern(mask, 3, 4);
    expect(typeof p).not.toBe('string');
    const f = p as Exclude<typeof p, string>;
    expect(f.k).toBe(2);
    expect(Array.from(f.liveRows)).toEqual([0, 2]);
    expect(Array.from(f.positions)).toEqual([0, 2, 9, 10]);
    expect(Array.from(f.colIdx)).toEqual([0 | (2 << 16), 1 | (2 << 16)]);
    mask[4] = 1;
    expect(fanInPattern(mask, 3, 4)).toMatch(/row 1 keeps 1 inputs, an earlier live row 2/);
  });

  it('signatures: candidates and material changes', () => {
    const rng = new Rng(1);
    const fi = maskSignature(fanInMask(rng, [64, 64], 0.1), 64, 64);
    expect(fi.constantFanIn).toBe(true);
    expect(fi.liveFraction).toBe(0.75);
    expect(candidates(fi)).toEqual(['csr', 'fan_in', 'compact']);
    const bl = maskSignature(blockMask(rng, [64, 64], 0.1), 64, 64);
    expect(bl.blockFraction).toBeCloseTo(0.1, 2);
    expect(candidates(bl)).toContain('bsr');
    const un = maskSignature(randomMask(rng, 64 * 64, 0.1), 64, 64);
    expect(candidates(un)).toEqual(['csr']); // 82% of blocks touched, every row live
    expect(candidates(maskSignature(new Uint8Array(16).fill(1), 4, 4))).toEqual([]);
    expect(materialChange(fi, { ...fi, density: fi.density * 1.05 })).toBe(false);
    expect(materialChange(fi, { ...fi, density: fi.density * 1.2 })).toBe(true);
    expect(materialChange(fi, { ...fi, constantFanIn: false })).toBe(true);
  });
});

const tinyCfg = () => defaultConfig(3, { seqLen: 24, labelLen: 12, predLen: 12, dModel: 32, dFf: 64, nHeads: 4, eLayers: 2, dLayers: 1 });

/** A small Transformer with fan-in masks (a quarter of the rows dead) on every masked weight. */
function transformer(seed: number) {
  const cfg = tinyCfg();
  const rng = new Rng(seed);
  const model = createModel('Transformer', rng, cfg);
  model.eval(); // no dropout: every pass sees the same function
  const shapes = new Map(model.namedParameters().map(([n, p]) => [n, p.shape]));
  const names = [...shapes].filter(([, s]) => s.length >= 2).map(([n]) => n);
  const masking = new Masking(model, new Map(names.map((n) => [n, 0.2])), (name, _, d) => fanInMask(rng, shapes.get(name)!, d));
  masking.apply();
  const r = new Rng(1);
  const B = 2;
  const data = { xEnc: r.normal(B * 24 * 3), xMark: r.uniform(B * 24 * 4), xDec: r.normal(B * 24 * 3), yMark: r.uniform(B * 24 * 4) };
  const fwd = (x: Tensor) =>
    (model as unknown as { forward: (...a: Tensor[]) => Tensor }).forward(
      x, op.tensor(data.xMark, [B, 24, 4]), op.tensor(data.xDec, [B, 24, 3]), op.tensor(data.yMark, [B, 24, 4]),
    );
  return { model, masking, fwd, data, B };
}

describe('a whole small Transformer through every format (wasm)', () => {
  it('forward + backward and three Adam steps equal dense-masked bit for bit', () => {
    const trainSteps = (mode: ExecMode) => {
      const { model, masking, fwd, data, B } = transformer(11);
      const ex = enableSparseExecution(model, masking, { mode });
      const grads = forwardBackward(model, fwd, data.xEnc, [B, 24, 3]);
      const paths = Object.values(ex.paths());
      const adam = new Adam(model.parameters(), { lr: 1e-2 });
      for (let s = 0; s < 3; s++) {
        tidy(() => backward(op.mean(op.square(fwd(op.tensor(data.xEnc, [B, 24, 3]))))));
        adam.step();
        adam.zeroGrad();
        masking.apply();
      }
      const params = new Map(model.namedParameters().map(([k, p]) => [k, Float32Array.from(p.dataSync() as Float32Array)]));
      adam.dispose();
      ex.dispose();
      masking.dispose();
      model.dispose();
      return { grads, params, paths };
    };
    const dense = trainSteps('dense');
    for (const f of FORMATS) {
      const s = trainSteps(f);
      expect(s.paths.length).toBeGreaterThan(10); // q/k/v/o projections, FFN convs, head
      expect(s.paths.every((p) => p === f), `${f}: ${s.paths.join(',')}`).toBe(true);
      expectSame(s.grads, dense.grads, `${f} grads`);
      expectSame(s.params, dense.params, `${f} after 3 steps`);
    }
  }, 120_000);

  it("'auto' times the candidates once per layer and mask version, stays bit-identical, and the guard decides for the whole model", async () => {
    const before = engine.memory();
    const { model, masking, fwd, data, B } = transformer(11);
    const ref = engine.noGrad(() => tidy(() => Float32Array.from(fwd(op.tensor(data.xEnc, [B, 24, 3])).dataSync() as Float32Array)));
    const ex = enableSparseExecution(model, masking, { mode: 'auto' });
    const infer = () => engine.noGrad(() => tidy(() => Float32Array.from(fwd(op.tensor(data.xEnc, [B, 24, 3])).dataSync() as Float32Array)));
    expectSame(new Map([['y', infer()]]), new Map([['y', ref]]), 'auto forward');
    const trials = ex.shared.trials;
    expect(trials).toBeGreaterThanOrEqual(ex.layers.size); // at least one trial per layer (cross-attention k/v see other rows)
    for (const e of ex.layers.values()) {
      for (const t of e.trials()) {
        expect(t.pass).toBe('forward');
        expect(Object.keys(t.times)).toContain('dense');
        expect(t.times[t.chosen]).toBe(Math.min(...Object.values(t.times) as number[]));
      }
    }
    expect(ex.shared.trialMs).toBeGreaterThan(0);
    infer();
    expect(ex.shared.trials).toBe(trials); // cached
    // A small topology change (one row's inputs moved) keeps the choice; a large one measures again.
    const l = ex.layers.get(masking.layers.find((x) => ex.layers.has(x.name))!.name)!;
    const small = l.layer.mask.slice();
    const C = l.inFeatures;
    const row = small.findIndex((v) => v === 1);
    const r0 = Math.floor(row / C) * C;
    const on = small.subarray(r0, r0 + C).indexOf(1);
    const off = small.subarray(r0, r0 + C).indexOf(0);
    small[r0 + on] = 0;
    small[r0 + off] = 1;
    masking.setMask(l.layer, small);
    masking.apply();
    infer();
    expect(ex.shared.trials).toBe(trials);
    expect(l.maskVersion).toBe(0);
    masking.setMask(l.layer, fanInMask(new Rng(4), l.layer.param.shape, 0.5));
    masking.apply();
    infer();
    expect(l.maskVersion).toBe(1);
    expect(ex.shared.trials).toBeGreaterThan(trials);
    // The guard: a verdict either way, and 'auto' follows it.
    // A macrotask queued now runs during the guard's rounds (it yields between them), not after it.
    let turned = false;
    setImmediate(() => (turned = true));
    const g = await ex.guard('forward', () => void infer(), 3);
    const returned = turned;
    expect(g.pass).toBe('forward');
    const anySparse = Object.values(g.chosen_layers).some((v) => v! > 0);
    if (anySparse) {
      expect(returned, 'the event loop turned during the guard').toBe(true);
      // Not faster by the margin is a tie, and a tie goes to dense (chosen_ms / dense_ms are rounded to 0.01).
      if (Math.abs(g.chosen_ms! - g.dense_ms! * (1 - GUARD_MARGIN)) > 0.01) expect(g.fell_back).toBe(!(g.chosen_ms! < g.dense_ms! * (1 - GUARD_MARGIN)));
      infer();
      const paths = Object.values(ex.paths());
      if (g.fell_back) expect(paths.every((p) => p === 'dense')).toBe(true);
      else expect(paths.some((p) => p !== 'dense')).toBe(true);
    } else {
      expect(g.fell_back).toBe(false);
      expect(g.chosen_ms).toBeNull();
    }
    expect(ex.guardResults()).toEqual([g]);
    ex.dispose();
    masking.dispose();
    model.dispose();
    expect(engine.memory().tensors).toBe(before.tensors);
    expect(engine.memory().perBackend.wasm!.bytes).toBe(before.perBackend.wasm!.bytes);
  }, 120_000);
});

describe("'auto' inside the Trainer (wasm)", () => {
  it('RigL at 80% sparsity: the training guard runs before the sparse steps and the run equals dense-masked bit for bit', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseCsv } = await import('../src/data/csv.ts');
    const { ForecastDataset } = await import('../src/data/forecast-dataset.ts');
    const { Transformer } = await import('../src/models/transformer.ts');
    const { Trainer } = await import('../src/train/trainer.ts');
    const { createController, DEFAULT_SPARSE } = await import('../src/sparse/methods.ts');
    const table = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'));
    const dsOpts = { kind: 'ETTh' as const, features: 'M' as const, target: 'OT', seqLen: 48, labelLen: 24, predLen: 24, freq: 'h', file: 'ETTh1' };
    const cfg = defaultConfig(7, { seqLen: 48, labelLen: 24, predLen: 24, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32 });
    const train = async (sparseExecution: false | { mode: 'auto' }) => {
      const ds = new ForecastDataset(table, dsOpts);
      const rng = new Rng(1);
      const model = new Transformer(rng, cfg);
      const sparseRng = new Rng(99);
      const controller = createController(model, { ...DEFAULT_SPARSE, method: 'rigl', density: 0.2, updateFrequency: 3 }, sparseRng);
      const tr = new Trainer(model, ds, rng, {
        epochs: 1, patience: 3, batchSize: 16, learningRate: 1e-3, lradj: 'type1', seed: 1, maxTrainBatches: 5,
        controller, sparseRng, valBatches: 2, sparseExecution,
      });
      await tr.fit();
      const guards = tr.sparseExec?.guardResults() ?? [];
      const trials = tr.sparseExec?.shared.trials ?? 0;
      const params = new Map(model.namedParameters().map(([k, p]) => [k, Float32Array.from(p.dataSync() as Float32Array)]));
      tr.dispose();
      controller.dispose();
      model.dispose();
      return { params, guards, trials };
    };
    const dense = await train(false);
    const auto = await train({ mode: 'auto' });
    expect(auto.trials).toBeGreaterThan(0); // CSR is a candidate at 20% density
    const g = auto.guards.find((x) => x.pass === 'training')!;
    expect(g, 'a training guard ran').toBeDefined();
    expect(g.rows).toEqual([512]); // encoder and decoder both see 16 windows × 48 steps = 768 rows, capped at 512
    for (const [k, v] of dense.params) expect(auto.params.get(k), k).toEqual(v);
  }, 120_000);
});

describe('the whole-model guard (wasm)', () => {
  it('falls back to dense exactly when the chosen paths are slower, for the guarded pass and rows only', async () => {
    // One Linear [256, 256] at 2% density on 512 rows: its sparse paths do ~1/50 of the GEMM's work, so the
    // trial picks one; the guarded run is then made slower by busy CPU time on one side.
    const rng = new Rng(8);
    const fc = new Linear(rng, 256, 256);
    const holder = new (class extends Module {
      readonly fc = this.module('fc', fc);
    })();
    const masking = new Masking(holder, new Map([['fc.weight', 0.02]]), (_, size, d) => randomMask(rng, size, d));
    masking.apply();
    const ex = enableSparseExecution(holder, masking, { mode: 'auto' });
    const xData = new Rng(3).normal(512 * 256);
    const infer = (rows = 512) => engine.noGrad(() => tidy(() => void fc.forward(op.tensor(xData.subarray(0, rows * 256), [rows, 256])).dataSync()));
    infer();
    expect(ex.paths()['fc.weight']).not.toBe('dense');
    const burn = (ms: number) => {
      const t0 = cpuClock();
      while (cpuClock() - t0 < ms);
    };
    const slowSparse = await ex.guard('forward', () => {
      infer();
      if (!ex.shared.forceDense) burn(30);
    }, 3);
    expect(slowSparse).toMatchObject({ pass: 'forward', rows: [512], fell_back: true });
    expect(slowSparse.chosen_ms!).toBeGreaterThan(slowSparse.dense_ms!);
    infer();
    expect(ex.paths()['fc.weight']).toBe('dense');
    infer(64); // other rows: the verdict does not apply, the layer's own trial decides
    const at64 = ex.layers.get('fc.weight')!.trials().find((t) => t.m === 64)!;
    expect(ex.paths()['fc.weight']).toBe(at64.chosen);
    // A guard of other rows (whatever its verdict) neither decides nor erases the verdict on 512 rows.
    expect((await ex.guard('forward', () => infer(64), 3)).rows).toEqual([64]);
    infer();
    expect(ex.paths()['fc.weight']).toBe('dense');
    const slowDense = await ex.guard('forward', () => {
      infer();
      if (ex.shared.forceDense) burn(30);
    }, 3);
    expect(slowDense).toMatchObject({ rows: [512], fell_back: false });
    expect(slowDense.rounds).toBe(6); // a verdict to keep is confirmed by a second set of 3 rounds
    // Dense slow only until the first set's rounds are over (a transient: a path cold at these rows), sparse
    // slower from then on: the first set alone would keep the sparse paths; the confirming set falls back.
    let denseRuns = 0;
    const transient = await ex.guard('forward', () => {
      infer();
      if (ex.shared.forceDense) {
        if (++denseRuns <= GUARD_WARMUPS + 3) burn(30);
      } else burn(10);
    }, 3);
    expect(transient).toMatchObject({ rows: [512], fell_back: true, rounds: 6 });
    expect(transient.chosen_ms!).toBeGreaterThan(transient.dense_ms!); // the deciding set's medians
    infer();
    expect(ex.paths()['fc.weight']).toBe('dense');
    expect((await ex.guard('forward', () => {
      infer();
      if (ex.shared.forceDense) burn(30);
    }, 3)).fell_back).toBe(false);
    infer();
    expect(ex.paths()['fc.weight']).not.toBe('dense');
    ex.dispose();
    masking.dispose();
    holder.dispose();
  });
});
