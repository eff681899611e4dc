// DLinear and the LSTM forecaster: shapes, TSLib/PyTorch parameter names, gradient to every parameter.
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { DLinear } from '../src/models/dlinear.ts';
import { LstmForecaster } from '../src/models/lstm.ts';
import { defaultConfig } from '../src/models/config.ts';
import { backward } from '../src/autograd/backward.ts';
import * as op from '../src/ops/index.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

describe.each(['js', 'wasm'])('DLinear and LSTM on %s', (backend) => {
  const cfg = defaultConfig(3, { seqLen: 24, labelLen: 12, predLen: 8, dModel: 16, movingAvg: 5 });
  const inputs = () => {
    const rng = new Rng(4);
    return [op.tensor(rng.normal(2 * 24 * 3), [2, 24, 3]), op.tensor(rng.uniform(2 * 24 * 4), [2, 24, 4])] as const;
  };

  it('DLinear: names, init, shape, gradients', () => {
    engine.useBackend(backend);
    const m = new DLinear(new Rng(1), cfg);
    expect(m.namedParameters().map(([k]) => k)).toEqual(['Linear_Seasonal.weight', 'Linear_Seasonal.bias', 'Linear_Trend.weight', 'Linear_Trend.bias']);
    expect(Array.from(m.linearTrend.weight.dataSync()).every((v) => v === Math.fround(1 / 24))).toBe(true);
    tidy(() => {
      const [x] = inputs();
      const y = m.forward(x);
      expect(y.shape).toEqual([2, 8, 3]);
      backward(op.mean(op.square(y)));
    });
    for (const p of m.parameters()) expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0), p.name).toBe(true);
    m.dispose();
  });

  it('LSTM: PyTorch names, shape, gradients, no leaks', () => {
    engine.useBackend(backend);
    const m = new LstmForecaster(new Rng(1), cfg);
    expect(m.namedParameters().map(([k]) => k)).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0', 'projection.weight', 'projection.bias']);
    expect(m.lstm.weightIh.shape).toEqual([64, 7]);
    const before = engine.memory().tensors;
    tidy(() => {
      const [x, xm] = inputs();
      const y = m.forward(x, xm);
      expect(y.shape).toEqual([2, 8, 3]);
      backward(op.mean(op.square(y)));
    });
    for (const p of m.parameters()) {
      expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0), p.name).toBe(true);
      p.grad!.dispose();
      p.grad = null;
    }
    expect(engine.memory().tensors).toBe(before);
    m.dispose();
  });
});
