// Trainer behaviour: Ctrl-C style stop saves a loadable checkpoint; a NaN loss stops with a message that
// names the step and the last good checkpoint, which stays loadable; TSLib's lr schedule and early stopping.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { parseCsv } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { Transformer } from '../src/models/transformer.ts';
import { defaultConfig } from '../src/models/config.ts';
import { Trainer, NonFiniteLossError, type Forecaster } from '../src/train/trainer.ts';
import { loadCheckpoint } from '../src/train/checkpoint.ts';
import { adjustedLearningRate } from '../src/train/lr-schedule.ts';
import { EarlyStopping } from '../src/train/early-stopping.ts';
import { mul } from '../src/ops/binary.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

engine.registerBackend(createWasmBackendSync());
engine.useBackend('wasm');
const table = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'));
const opts = { kind: 'ETTh' as const, features: 'M' as const, target: 'OT', seqLen: 48, labelLen: 24, predLen: 24, freq: 'h', file: 'ETTh1' };
const small = () => defaultConfig(7, { seqLen: 48, labelLen: 24, predLen: 24, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32 });

describe('trainer', () => {
  it('a requested stop saves a checkpoint that loads', async () => {
    const ds = new ForecastDataset(table, opts);
    const rng = new Rng(1);
    const model = new Transformer(rng, small());
    const dir = mkdtempSync(join(tmpdir(), 'sc-stop-'));
    let steps = 0;
    const tr = new Trainer(model, ds, rng, {
      epochs: 1, patience: 3, batchSize: 32, learningRate: 1e-3, lradj: 'type1', seed: 1, maxTrainBatches: 10,
      checkpointPath: join(dir, 'ck.safetensors'), shouldStop: () => ++steps === 3,
    });
    const r = await tr.fit();
    expect(r.interrupted).toBe(true);
    const ck = loadCheckpoint(join(dir, 'ck.safetensors'));
    expect((ck.state as { step: number }).step).toBe(3);
    expect(ck.tensors.has('model.decoder.projection.weight')).toBe(true);
    tr.dispose();
    model.dispose();
  });

  it('a NaN loss stops training, names the step, and keeps the last good checkpoint', async () => {
    const ds = new ForecastDataset(table, opts);
    const rng = new Rng(2);
    const inner = new Transformer(rng, small());
    let calls = 0;
    // Poison the 5th forward pass.
    const model = Object.assign(Object.create(Object.getPrototypeOf(inner)) as Forecaster, inner, {
      forward(a: Tensor, b: Tensor | null, c: Tensor, d: Tensor | null) {
        const y = inner.forward(a, b, c, d);
        return ++calls === 5 ? mul(y, NaN) : y;
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'sc-nan-'));
    const path = join(dir, 'ck.safetensors');
    const tr = new Trainer(model, ds, rng, {
      epochs: 1, patience: 3, batchSize: 32, learningRate: 1e-3, lradj: 'type1', seed: 1, maxTrainBatches: 10,
      checkpointPath: path, checkpointEvery: 2,
    });
    let error: unknown = null;
    try {
      await tr.fit();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/loss is NaN at epoch 1, step 5;.*last good checkpoint is .*ck\.safetensors/);
    const ck = loadCheckpoint(path);
    expect((ck.state as { step: number }).step).toBe(4);
    for (const [, t] of ck.tensors) expect(Array.from(t.data as Float32Array).every(Number.isFinite)).toBe(true);
    tr.dispose();
    inner.dispose();
  });

  it('TSLib learning-rate schedules', () => {
    expect([1, 2, 3, 4].map((e) => adjustedLearningRate('type1', 1e-4, e))).toEqual([1e-4, 5e-5, 2.5e-5, 1.25e-5]);
    expect([1, 2, 3, 4].map((e) => adjustedLearningRate('type2', 1e-4, e))).toEqual([null, 5e-5, null, 1e-5]);
  });

  it('early stopping counts epochs without strict improvement', () => {
    const es = new EarlyStopping(2);
    expect(es.step(1.0)).toBe(true);
    expect(es.step(1.1)).toBe(false);
    expect(es.step(0.9)).toBe(true);
    expect(es.step(0.95)).toBe(false);
    expect(es.stop).toBe(false);
    expect(es.step(0.95)).toBe(false);
    expect(es.stop).toBe(true);
  });
});
