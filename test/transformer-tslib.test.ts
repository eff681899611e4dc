// The Transformer against Time-Series-Library's own models/Transformer.py run in PyTorch with the same weights
// and inputs (fixture: test/fixtures/transformer-tslib.json, made once from TSLib at 4e938a1 and torch 2.13):
// state-dict keys and order, the forecast, and every parameter's gradient norm.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { Transformer } from '../src/models/transformer.ts';
import { defaultConfig } from '../src/models/config.ts';
import { backward } from '../src/autograd/backward.ts';
import * as op from '../src/ops/index.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());
const ref = JSON.parse(readFileSync('test/fixtures/transformer-tslib.json', 'utf8')) as { out: number[]; gradNorm: number[]; stateDictKeys: string[] };

describe.each(['js', 'wasm'])('Transformer vs TSLib in PyTorch on %s', (backend) => {
  it('same state-dict keys in the same order, same forecast, same gradients', () => {
    engine.useBackend(backend);
    const cfg = defaultConfig(3, { seqLen: 12, labelLen: 6, predLen: 6, dModel: 8, nHeads: 2, eLayers: 2, dLayers: 1, dFf: 16, dropout: 0 });
    const m = new Transformer(new Rng(5), cfg);
    expect([...m.stateDict().keys()]).toEqual(ref.stateDictKeys);
    const rng = new Rng(9);
    // Drawn in the order the fixture's inputs were: x_enc, x_mark_enc, x_dec, x_mark_dec.
    const xEnc = rng.normal(2 * 12 * 3);
    const xMarkEnc = rng.uniform(2 * 12 * 4).map((v) => v - 0.5);
    const xDec = rng.normal(2 * 12 * 3);
    const xMarkDec = rng.uniform(2 * 12 * 4).map((v) => v - 0.5);
    tidy(() => {
      const y = m.forward(op.tensor(xEnc, [2, 12, 3]), op.tensor(xMarkEnc, [2, 12, 4]), op.tensor(xDec, [2, 12, 3]), op.tensor(xMarkDec, [2, 12, 4]));
      const out = y.dataSync();
      expect(out.length).toBe(ref.out.length);
      ref.out.forEach((v, i) => expect(Math.abs(out[i]! - v), `output ${i}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v)));
      backward(op.mean(op.square(y)));
    });
    m.parameters().forEach((p, i) => {
      const g = p.grad!.dataSync() as Float32Array;
      const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      expect(Math.abs(norm - ref.gradNorm[i]!), `${p.name} gradient norm`).toBeLessThanOrEqual(1e-6 + 1e-3 * ref.gradNorm[i]!);
    });
    m.dispose();
  });
});
