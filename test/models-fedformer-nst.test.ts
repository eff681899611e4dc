// FEDformer (Fourier) and Non-stationary Transformer: TSLib state-dict names and shapes, forward shapes,
// gradient coverage, determinism, memory, the Fourier blocks and DSAttention against host references written
// from TSLib's definitions, and a short training run on ETTh1 that must beat the repeat-last baseline.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, noGrad, tidy } from '../src/tensor/engine.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { Adam } from '../src/train/adam.ts';
import { Trainer } from '../src/train/trainer.ts';
import { parseCsv } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, type ForecastConfig } from '../src/models/index.ts';
import { FEDformer } from '../src/models/fedformer.ts';
import { NSTransformer } from '../src/models/nstransformer.ts';
import { FourierBlock, FourierCrossAttention, frequencyModes } from '../src/nn/fourier-blocks.ts';
import { DSAttention } from '../src/nn/ds-attention.ts';
import { Projector } from '../src/nn/projector.ts';
import type { Module } from '../src/nn/module.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

const SMALL: Partial<ForecastConfig> = {
  dModel: 16, nHeads: 2, eLayers: 2, dLayers: 1, dFf: 32, seqLen: 32, labelLen: 16, predLen: 24, pHiddenDims: [16, 16],
};
const smallCfg = (over: Partial<ForecastConfig> = {}) => defaultConfig(7, { ...SMALL, ...over });

type Forecaster = FEDformer | NSTransformer;
const MODELS = ['FEDformer', 'NSTransformer'] as const;

function inputs(rng: Rng, cfg: ForecastConfig, B: number) {
  const { seqLen, labelLen, predLen, encIn } = cfg;
  return {
    x: op.tensor(rng.normal(B * seqLen * encIn), [B, seqLen, encIn]),
    xm: op.tensor(rng.uniform(B * seqLen * 4).map((u) => u - 0.5), [B, seqLen, 4]),
    xd: op.tensor(rng.normal(B * (labelLen + predLen) * encIn), [B, labelLen + predLen, encIn]),
    ym: op.tensor(rng.uniform(B * (labelLen + predLen) * 4).map((u) => u - 0.5), [B, labelLen + predLen, 4]),
    y: op.tensor(rng.normal(B * predLen * encIn), [B, predLen, encIn]),
  };
}

function run(model: Forecaster, cfg: ForecastConfig, seed = 11, B = 2): Float32Array {
  return tidy(() => {
    const d = inputs(new Rng(seed), cfg, B);
    return Float32Array.from(model.forward(d.x, d.xm, d.xd, d.ym).dataSync() as Float32Array);
  });
}

// ---- TSLib's state-dict keys, written from its module structure ------------------------------------------

const PROJ = ['query', 'key', 'value', 'out'].flatMap((n) => [`${n}_projection.weight`, `${n}_projection.bias`]);
const embKeys = (p: string) => [`${p}.value_embedding.tokenConv.weight`, `${p}.position_embedding.pe`, `${p}.temporal_embedding.embed.weight`];
const prefixed = (p: string, keys: string[]) => keys.map((k) => `${p}.${k}`);

/** TSLib FEDformer (version fourier) state_dict keys in PyTorch's order. */
function tslibFedformerKeys(eLayers: number, dLayers: number): string[] {
  const acl = (p: string) => prefixed(p, ['inner_correlation.weights1', 'inner_correlation.weights2', ...PROJ]);
  return [
    ...embKeys('enc_embedding'),
    ...embKeys('dec_embedding'),
    ...Array.from({ length: eLayers }, (_, l) => [
      ...acl(`encoder.attn_layers.${l}.attention`),
      `encoder.attn_layers.${l}.conv1.weight`, `encoder.attn_layers.${l}.conv2.weight`,
    ]).flat(),
    'encoder.norm.layernorm.weight', 'encoder.norm.layernorm.bias',
    ...Array.from({ length: dLayers }, (_, l) => [
      ...acl(`decoder.layers.${l}.self_attention`),
      ...acl(`decoder.layers.${l}.cross_attention`),
      `decoder.layers.${l}.conv1.weight`, `decoder.layers.${l}.conv2.weight`, `decoder.layers.${l}.projection.weight`,
    ]).flat(),
    'decoder.norm.layernorm.weight', 'decoder.norm.layernorm.bias',
    'decoder.projection.weight', 'decoder.projection.bias',
  ];
}

/** TSLib Nonstationary_Transformer state_dict keys in PyTorch's order. */
function tslibNsKeys(eLayers: number, dLayers: number, hiddenLayers: number): string[] {
  const wb = (p: string) => [`${p}.weight`, `${p}.bias`];
  const projector = (p: string) => [
    `${p}.series_conv.weight`,
    ...Array.from({ length: hiddenLayers }, (_, i) => wb(`${p}.backbone.${2 * i}`)).flat(),
    `${p}.backbone.${2 * hiddenLayers}.weight`,
  ];
  return [
    ...embKeys('enc_embedding'),
    ...Array.from({ length: eLayers }, (_, l) => {
      const p = `encoder.attn_layers.${l}`;
      return [...prefixed(`${p}.attention`, PROJ), ...['conv1', 'conv2', 'norm1', 'norm2'].flatMap((n) => wb(`${p}.${n}`))];
    }).flat(),
    ...wb('encoder.norm'),
    ...embKeys('dec_embedding'),
    ...Array.from({ length: dLayers }, (_, l) => {
      const p = `decoder.layers.${l}`;
      return [
        ...prefixed(`${p}.self_attention`, PROJ), ...prefixed(`${p}.cross_attention`, PROJ),
        ...['conv1', 'conv2', 'norm1', 'norm2', 'norm3'].flatMap((n) => wb(`${p}.${n}`)),
      ];
    }).flat(),
    ...wb('decoder.norm'),
    ...wb('decoder.projection'),
    ...projector('tau_learner'),
    ...projector('delta_learner'),
  ];
}

const isBuffer = (k: string) => k.endsWith('.pe');

// ---- host references written from TSLib's forward passes ---------------------------------------------------

type C = [number, number];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];

function rfftRef(x: number[]): C[] {
  const n = x.length;
  return Array.from({ length: Math.floor(n / 2) + 1 }, (_, k) => {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      im -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    return [re, im] as C;
  });
}

function irfftRef(z: C[], n: number): number[] {
  return Array.from({ length: n }, (_, t) => {
    let s = z[0]![0];
    for (let k = 1; k < z.length; k++) {
      const nyq = n % 2 === 0 && k === n / 2;
      const term = z[k]![0] * Math.cos((2 * Math.PI * k * t) / n) - z[k]![1] * Math.sin((2 * Math.PI * k * t) / n);
      s += nyq ? z[k]![0] * Math.cos(Math.PI * t) : 2 * term;
    }
    return s / n;
  });
}

/** TSLib FourierBlock.forward on host arrays: q [B, L, H, E] → [B, H, O, L]. */
function fourierBlockRef(q: Float32Array, [B, L, H, E]: [number, number, number, number], w1: Float32Array, w2: Float32Array, O: number, index: number[]): number[] {
  const M = index.length;
  const F = Math.floor(L / 2) + 1;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const xft = Array.from({ length: E }, (_, e) => rfftRef(Array.from({ length: L }, (_, t) => q[((b * L + t) * H + h) * E + e]!)));
      for (let o = 0; o < O; o++) {
        const ft: C[] = Array.from({ length: F }, () => [0, 0] as C);
        index.forEach((i, wi) => {
          if (i >= F || wi >= F) return;
          let acc: C = [0, 0];
          for (let e = 0; e < E; e++) {
            const widx = ((h * E + e) * O + o) * M + wi;
            acc = cadd(acc, cmul(xft[e]![i]!, [w1[widx]!, w2[widx]!]));
          }
          ft[wi] = acc;
        });
        out.push(...irfftRef(ft, L));
      }
    }
  }
  return out;
}

/** TSLib FourierCrossAttention.forward (tanh) on host arrays: q [B, Lq, H, E], k [B, Lkv, H, E] → [B, H, O, Lq]. */
function fourierCrossRef(
  q: Float32Array, k: Float32Array, [B, Lq, Lkv, H, E]: [number, number, number, number, number], w1: Float32Array, w2: Float32Array, O: number,
  indexQ: number[], indexKv: number[], inC: number, outC: number,
): number[] {
  const Mq = indexQ.length;
  const Mk = indexKv.length;
  const Fq = Math.floor(Lq / 2) + 1;
  const Fk = Math.floor(Lkv / 2) + 1;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const qft = Array.from({ length: E }, (_, e) => rfftRef(Array.from({ length: Lq }, (_, t) => q[((b * Lq + t) * H + h) * E + e]!)));
      const kft = Array.from({ length: E }, (_, e) => rfftRef(Array.from({ length: Lkv }, (_, t) => k[((b * Lkv + t) * H + h) * E + e]!)));
      const qs = qft.map((row) => indexQ.map((j) => (j < Fq ? row[j]! : ([0, 0] as C))));
      const ks = kft.map((row) => indexKv.map((j) => (j < Fk ? row[j]! : ([0, 0] as C))));
      const qk: C[][] = Array.from({ length: Mq }, (_, x) => Array.from({ length: Mk }, (_, y) => {
        let acc: C = [0, 0];
        for (let e = 0; e < E; e++) acc = cadd(acc, cmul(qs[e]![x]!, ks[e]![y]!));
        return [Math.tanh(acc[0]), Math.tanh(acc[1])] as C;
      }));
      const qkv: C[][] = Array.from({ length: E }, (_, e) => Array.from({ length: Mq }, (_, x) => {
        let acc: C = [0, 0];
        for (let y = 0; y < Mk; y++) acc = cadd(acc, cmul(qk[x]![y]!, ks[e]![y]!));
        return acc;
      }));
      for (let o = 0; o < O; o++) {
        const ft: C[] = Array.from({ length: Fq }, () => [0, 0] as C);
        indexQ.forEach((j, x) => {
          if (j >= Fq) return;
          let acc: C = [0, 0];
          for (let e = 0; e < E; e++) {
            const widx = ((h * E + e) * O + o) * Mq + x;
            acc = cadd(acc, cmul(qkv[e]![x]!, [w1[widx]!, w2[widx]!]));
          }
          ft[j] = [acc[0] / inC / outC, acc[1] / inC / outC];
        });
        out.push(...irfftRef(ft, Lq));
      }
    }
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol * Math.max(scale, 1e-6));
}

const values = (t: Tensor) => Float32Array.from(t.dataSync() as Float32Array);

describe.each(['js', 'wasm'])('FEDformer and NSTransformer on %s', (backend) => {
  const use = () => engine.useBackend(backend);

  it('frequency modes: low is 0…m−1, random is a seeded sorted subset of 0…L/2−1', () => {
    expect(frequencyModes(32, 8, 'low', new Rng(1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(frequencyModes(10, 32, 'low', new Rng(1))).toEqual([0, 1, 2, 3, 4]);
    const r = frequencyModes(96, 32, 'random', new Rng(4));
    expect(r).toHaveLength(32);
    expect(new Set(r).size).toBe(32);
    expect([...r].sort((a, b) => a - b)).toEqual(r);
    expect(r.every((i) => i >= 0 && i < 48)).toBe(true);
    expect(frequencyModes(96, 32, 'random', new Rng(4))).toEqual(r);
    expect(frequencyModes(96, 32, 'random', new Rng(5))).not.toEqual(r);
  });

  it('FourierBlock matches TSLib (bins written at slot wi, skipped modes, [B,H,O,L] output)', () => {
    use();
    // Built for length 32 with 5 random modes out of 0…15, run at length 32 and at length 12 (F = 7: modes
    // ≥ 7 skipped; the results go to slots 0…4, not to the modes' own bins).
    const blk = new FourierBlock(new Rng(3), 8, 8, 2, 32, { modes: 5, modeSelect: 'random' });
    expect(blk.index).toHaveLength(5);
    expect(blk.index).not.toEqual([0, 1, 2, 3, 4]);
    expect(blk.index.some((i) => i >= 7)).toBe(true);
    expect(blk.weights1.shape).toEqual([2, 4, 4, 5]);
    expect(blk.weights2.shape).toEqual([2, 4, 4, 5]);
    const w = values(blk.weights1);
    expect(Math.max(...w)).toBeLessThan(1 / 64);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
    for (const L of [32, 12]) {
      const shape: [number, number, number, number] = [2, L, 2, 4];
      const q = new Rng(9).normal(2 * L * 8);
      const got = tidy(() => values(blk.forward(op.tensor(q, shape))));
      expectClose(got, fourierBlockRef(q, shape, values(blk.weights1), values(blk.weights2), 4, blk.index), 1e-4);
    }
    blk.dispose();
  });

  it('FourierCrossAttention matches TSLib (tanh on both parts, bins written back at index_q, 1/(in·out))', () => {
    use();
    const blk = new FourierCrossAttention(new Rng(5), 8, 8, 12, 16, { modes: 4, modeSelect: 'random', numHeads: 2 });
    expect(blk.weights1.shape).toEqual([2, 4, 4, 4]);
    for (const Lq of [12, 7]) {
      const shape: [number, number, number, number, number] = [2, Lq, 16, 2, 4];
      const q = new Rng(1).normal(2 * Lq * 8).map((v) => v * 3);
      const k = new Rng(2).normal(2 * 16 * 8).map((v) => v * 3);
      const got = tidy(() => values(blk.forward(op.tensor(q, [2, Lq, 2, 4]), op.tensor(k, [2, 16, 2, 4]))));
      const ref = fourierCrossRef(q, k, shape, values(blk.weights1), values(blk.weights2), 4, blk.indexQ, blk.indexKv, 8, 8);
      expectClose(got, ref, 1e-4);
    }
    blk.dispose();
  });

  it('DSAttention: softmax(scale·((Q·Kᵀ)·τ + Δ)) with the causal mask', () => {
    use();
    const att = new DSAttention(new Rng(1), true, 0);
    const [B, H, L, E] = [2, 2, 3, 4];
    const r = new Rng(8);
    const q = r.normal(B * H * L * E);
    const k = r.normal(B * H * L * E);
    const v = r.normal(B * H * L * E);
    const tau = [0.5, 2];
    const delta = r.normal(B * L);
    const got = tidy(() => values(att.forward(
      op.tensor(q, [B, H, L, E]), op.tensor(k, [B, H, L, E]), op.tensor(v, [B, H, L, E]), null,
      op.tensor(tau, [B, 1]), op.tensor(delta, [B, L]),
    )));
    const ref: number[] = [];
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let l = 0; l < L; l++) {
      const s = Array.from({ length: L }, (_, j) => {
        if (j > l) return -Infinity;
        let dot = 0;
        for (let e = 0; e < E; e++) dot += q[((b * H + h) * L + l) * E + e]! * k[((b * H + h) * L + j) * E + e]!;
        return (dot * tau[b]! + delta[b * L + j]!) / Math.sqrt(E);
      });
      const mx = Math.max(...s);
      const p = s.map((x) => Math.exp(x - mx));
      const z = p.reduce((a, c) => a + c, 0);
      for (let e = 0; e < E; e++) ref.push(p.reduce((a, pj, j) => a + (pj / z) * v[((b * H + h) * L + j) * E + e]!, 0));
    }
    expectClose(got, ref, 1e-5);
  });

  it('Projector: circular series_conv over the variables, [conv, stats] flattened, ReLU MLP', () => {
    use();
    const [B, S, E] = [2, 5, 3];
    const p = new Projector(new Rng(2), E, S, [6, 4], 2, 2);
    const keys = p.namedParameters().map(([k, t]) => `${k}:${t.shape.join('x')}`);
    expect(keys).toEqual(['series_conv.weight:1x5x3', 'backbone.0.weight:6x6', 'backbone.0.bias:6', 'backbone.2.weight:4x6', 'backbone.2.bias:4', 'backbone.4.weight:2x4']);
    const r = new Rng(3);
    const x = r.normal(B * S * E);
    const st = r.normal(B * E);
    const got = tidy(() => values(p.forward(op.tensor(x, [B, S, E]), op.tensor(st, [B, 1, E]))));
    const [cw, w0, b0, w1, b1, w2] = p.namedParameters().map(([, t]) => values(t));
    const ref: number[] = [];
    for (let b = 0; b < B; b++) {
      const feat: number[] = [];
      for (let e = 0; e < E; e++) {
        let s = 0;
        for (let c = 0; c < S; c++) for (let j = 0; j < 3; j++) s += cw![c * 3 + j]! * x[(b * S + c) * E + ((e + j - 1 + E) % E)]!;
        feat.push(s);
      }
      for (let e = 0; e < E; e++) feat.push(st[b * E + e]!);
      const lin = (inp: number[], w: Float32Array, bias: Float32Array | null, n: number) =>
        Array.from({ length: n }, (_, o) => inp.reduce((a, v, i) => a + v * w[o * inp.length + i]!, bias ? bias[o]! : 0));
      const h1 = lin(feat, w0!, b0!, 6).map((v) => Math.max(0, v));
      const h2 = lin(h1, w1!, b1!, 4).map((v) => Math.max(0, v));
      ref.push(...lin(h2, w2!, null, 2));
    }
    expectClose(got, ref, 1e-5);
    p.dispose();
  });

  for (const name of MODELS) {
    it(`${name}: output [B, pred_len, c_out] for the small config`, () => {
      use();
      const cfg = smallCfg();
      const m = createModel(name, new Rng(1), cfg) as Forecaster;
      tidy(() => {
        const d = inputs(new Rng(2), cfg, 3);
        const y = m.forward(d.x, d.xm, d.xd, d.ym);
        expect(y.shape).toEqual([3, 24, 7]);
        expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      });
      m.dispose();
    });

    it(`${name}: deterministic (same seed → same init, modes, dropout and output)`, () => {
      use();
      const cfg = smallCfg();
      const a = createModel(name, new Rng(7), cfg) as Forecaster;
      const b = createModel(name, new Rng(7), cfg) as Forecaster;
      expect(run(a, cfg)).toEqual(run(b, cfg)); // training mode: dropout masks from the same stream
      a.eval();
      b.eval();
      expect(run(a, cfg)).toEqual(run(b, cfg));
      a.dispose();
      b.dispose();
    });

    it(`${name}: state dict round trip reproduces the output`, () => {
      use();
      const cfg = smallCfg();
      const a = createModel(name, new Rng(7), cfg) as Forecaster;
      const b = createModel(name, new Rng(8), cfg) as Forecaster;
      a.eval();
      b.eval();
      if (a instanceof FEDformer && b instanceof FEDformer) {
        // Mode indices are not in a TSLib state dict: build b with a's.
        b.dispose();
        const b2 = new FEDformer(new Rng(8), cfg, {
          encoderIndex: a.encoderSelfAtt.index, decoderIndex: a.decoderSelfAtt.index,
          crossIndexQ: a.decoderCrossAtt.indexQ, crossIndexKv: a.decoderCrossAtt.indexKv,
        });
        b2.eval();
        expect(run(b2, cfg)).not.toEqual(run(a, cfg));
        b2.loadStateDict(new Map([...a.stateDict()].map(([k, t]) => [k, values(t)])));
        expect(run(b2, cfg)).toEqual(run(a, cfg));
        b2.dispose();
      } else {
        expect(run(b, cfg)).not.toEqual(run(a, cfg));
        b.loadStateDict(new Map([...a.stateDict()].map(([k, t]) => [k, values(t)])));
        expect(run(b, cfg)).toEqual(run(a, cfg));
        b.dispose();
      }
      a.dispose();
    });

    it(`${name}: a training step leaves the live-tensor count unchanged`, () => {
      use();
      const cfg = smallCfg();
      const m = createModel(name, new Rng(1), cfg) as Forecaster;
      const adam = new Adam(m.parameters(), { lr: 1e-3 });
      const step = () => tidy(() => {
        const d = inputs(new Rng(2), cfg, 2);
        const loss = op.mseLoss(m.forward(d.x, d.xm, d.xd, d.ym), d.y);
        backward(loss);
        adam.step();
        adam.zeroGrad();
        return (loss.dataSync() as Float32Array)[0]!;
      });
      const first = step();
      const before = engine.memory();
      let last = first;
      for (let i = 0; i < 3; i++) last = step();
      const after = engine.memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.perBackend[backend]).toEqual(before.perBackend[backend]);
      expect(last).toBeLessThan(first);
      adam.dispose();
      m.dispose();
    });
  }

  it('FEDformer: state-dict keys and shapes are TSLib\'s; the encoder Fourier block is shared as in TSLib', () => {
    use();
    const cfg = smallCfg();
    const m = new FEDformer(new Rng(1), cfg);
    const sd = m.stateDict();
    const expected = tslibFedformerKeys(2, 1);
    expect([...sd.keys()].filter((k) => !isBuffer(k))).toEqual(expected.filter((k) => !isBuffer(k)));
    expect([...sd.keys()].sort()).toEqual([...expected].sort());
    const shape = (k: string) => sd.get(k)!.shape;
    // Encoder modes: min(32, 32/2) = 16; decoder/cross: min(32, (32/2 + 24)/2) = 20.
    expect(shape('encoder.attn_layers.0.attention.inner_correlation.weights1')).toEqual([2, 8, 8, 16]);
    expect(shape('encoder.attn_layers.0.attention.inner_correlation.weights2')).toEqual([2, 8, 8, 16]);
    expect(shape('decoder.layers.0.self_attention.inner_correlation.weights1')).toEqual([2, 8, 8, 20]);
    expect(shape('decoder.layers.0.cross_attention.inner_correlation.weights2')).toEqual([2, 8, 8, 20]);
    expect(shape('encoder.attn_layers.0.conv1.weight')).toEqual([32, 16, 1]);
    expect(shape('decoder.layers.0.projection.weight')).toEqual([7, 16, 3]);
    expect(shape('decoder.projection.weight')).toEqual([7, 16]);
    expect(shape('enc_embedding.value_embedding.tokenConv.weight')).toEqual([16, 7, 3]);
    expect(sd.get('encoder.attn_layers.0.attention.inner_correlation.weights1')).toBe(sd.get('encoder.attn_layers.1.attention.inner_correlation.weights1'));
    // named_parameters lists the shared tensors once, under their first key.
    const names = m.namedParameters().map(([k]) => k);
    expect(names).toEqual(expected.filter((k) => !isBuffer(k) && !k.startsWith('encoder.attn_layers.1.attention.inner_correlation.')));
    expect(m.parameters()).toHaveLength(names.length);
    m.dispose();
  });

  it('NSTransformer: state-dict keys and shapes are TSLib\'s', () => {
    use();
    const cfg = smallCfg({ pHiddenDims: [24, 24] });
    const m = new NSTransformer(new Rng(1), cfg);
    const sd = m.stateDict();
    const expected = tslibNsKeys(2, 1, 2);
    expect([...sd.keys()].filter((k) => !isBuffer(k))).toEqual(expected.filter((k) => !isBuffer(k)));
    expect([...sd.keys()].sort()).toEqual([...expected].sort());
    const shape = (k: string) => sd.get(k)!.shape;
    expect(shape('tau_learner.series_conv.weight')).toEqual([1, 32, 3]);
    expect(shape('tau_learner.backbone.0.weight')).toEqual([24, 14]);
    expect(shape('tau_learner.backbone.2.weight')).toEqual([24, 24]);
    expect(shape('tau_learner.backbone.4.weight')).toEqual([1, 24]);
    expect(shape('delta_learner.backbone.4.weight')).toEqual([32, 24]);
    expect(sd.has('tau_learner.backbone.4.bias')).toBe(false);
    expect(shape('encoder.attn_layers.0.conv1.weight')).toEqual([32, 16, 1]);
    m.dispose();
    // TSLib defaults: p_hidden_dims [128, 128], p_hidden_layers 2.
    const d = new NSTransformer(new Rng(1), defaultConfig(7));
    expect(d.stateDict().get('delta_learner.backbone.2.weight')!.shape).toEqual([128, 128]);
    expect(d.stateDict().get('delta_learner.backbone.4.weight')!.shape).toEqual([96, 128]);
    d.dispose();
  });

  it('gradients reach every parameter (FEDformer: all but the projections TSLib\'s Fourier blocks ignore)', () => {
    use();
    const cfg = smallCfg();
    const ignored = new Set([
      ...[0, 1].flatMap((l) => ['key', 'value'].flatMap((p) => ['weight', 'bias'].map((w) => `encoder.attn_layers.${l}.attention.${p}_projection.${w}`))),
      ...['key', 'value'].flatMap((p) => ['weight', 'bias'].map((w) => `decoder.layers.0.self_attention.${p}_projection.${w}`)),
      'decoder.layers.0.cross_attention.value_projection.weight', 'decoder.layers.0.cross_attention.value_projection.bias',
    ]);
    for (const name of MODELS) {
      const m = createModel(name, new Rng(1), cfg) as Forecaster;
      tidy(() => {
        const d = inputs(new Rng(2), cfg, 2);
        backward(op.mseLoss(m.forward(d.x, d.xm, d.xd, d.ym), d.y));
      });
      const named = m.namedParameters();
      const withGrad = named.filter(([, p]) => p.grad !== null).map(([k]) => k);
      const expected = named.map(([k]) => k).filter((k) => name !== 'FEDformer' || !ignored.has(k));
      expect(withGrad).toEqual(expected);
      for (const [k, p] of named) {
        if (!p.grad) continue;
        const g = values(p.grad);
        expect(g.every(Number.isFinite), k).toBe(true);
        // (Some biases have an exactly-zero gradient in exact arithmetic, in TSLib too: a constant that
        // my_Layernorm or a series decomposition removes. Weights never do.)
        if (p.rank >= 2) expect(g.some((v) => v !== 0), `${k} has an all-zero gradient`).toBe(true);
        p.grad.dispose();
        p.grad = null;
      }
      m.dispose();
    }
  });

  it('NSTransformer de-normalises: outputs follow the input window\'s scale and level', () => {
    use();
    const cfg = smallCfg();
    const m = new NSTransformer(new Rng(1), cfg);
    m.eval();
    const out = tidy(() => {
      const d = inputs(new Rng(2), cfg, 2);
      const shifted = op.add(op.mul(d.x, 10), 100);
      return values(m.forward(shifted, d.xm, d.xd, d.ym));
    });
    expect(out.every(Number.isFinite)).toBe(true);
    const avg = out.reduce((a, v) => a + v, 0) / out.length;
    expect(Math.abs(avg - 100)).toBeLessThan(30);
    m.dispose();
  });

  it('FEDformer decoder init ignores x_dec (TSLib builds it from x_enc)', () => {
    use();
    const cfg = smallCfg();
    const m = new FEDformer(new Rng(1), cfg);
    m.eval();
    const [a, b] = tidy(() => {
      const d = inputs(new Rng(2), cfg, 2);
      return [values(m.forward(d.x, d.xm, d.xd, d.ym)), values(m.forward(d.x, d.xm, op.mul(d.xd, 0), d.ym))];
    });
    expect(a).toEqual(b);
    m.dispose();
  });
});

describe('js and wasm agree', () => {
  for (const name of MODELS) {
    it(`${name}: same seed, same forecast on js and wasm (eval mode) and the same gradients`, () => {
      const outs: Float32Array[] = [];
      const grads: Float32Array[][] = [];
      for (const backend of ['js', 'wasm']) {
        engine.useBackend(backend);
        const cfg = smallCfg();
        const m = createModel(name, new Rng(3), cfg) as Forecaster;
        m.eval();
        outs.push(run(m, cfg));
        tidy(() => {
          const d = inputs(new Rng(2), cfg, 2);
          backward(op.mseLoss(m.forward(d.x, d.xm, d.xd, d.ym), d.y));
        });
        grads.push(m.parameters().filter((p) => p.grad).map((p) => values(p.grad!)));
        m.dispose();
      }
      expectClose(outs[1]!, outs[0]!, 1e-4);
      expect(grads[1]!.length).toBe(grads[0]!.length);
      // Some gradients are zero in exact arithmetic (e.g. biases whose constant the decomposition or
      // my_Layernorm removes) and hold only rounding noise: compare against the model-wide gradient scale.
      let top = 0;
      for (const g of grads[0]!) for (const v of g) top = Math.max(top, Math.abs(v));
      grads[0]!.forEach((g, i) => {
        const w = grads[1]![i]!;
        for (let j = 0; j < g.length; j++) expect(Math.abs(w[j]! - g[j]!)).toBeLessThanOrEqual(1e-3 * Math.abs(g[j]!) + 1e-5 * top);
      });
    });
  }
});

// ---- learns something: the small preset on ETTh1 vs. the repeat-last baseline (wasm) -------------------------

describe('FEDformer and NSTransformer learn on ETTh1 (wasm)', () => {
  const table = parseCsv(readFileSync(new URL('../data/ETTh1.csv', import.meta.url), 'utf8'));
  const opts = { kind: 'ETTh' as const, features: 'M' as const, target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1' };

  function naiveMse(ds: ForecastDataset): number {
    const { seqLen, labelLen, predLen } = opts;
    const C = ds.channels;
    let se = 0;
    let n = 0;
    for (const ids of ds.batches('test', 32, null)) {
      const b = ds.batch('test', ids);
      for (let i = 0; i < b.size; i++) for (let t = 0; t < predLen; t++) for (let c = 0; c < C; c++) {
        const last = b.x[(i * seqLen + seqLen - 1) * C + c]!;
        se += (last - b.y[(i * (labelLen + predLen) + labelLen + t) * C + c]!) ** 2;
        n++;
      }
    }
    return se / n;
  }

  for (const name of MODELS) {
    it(`${name} (d_model 64): 2 epochs × 20 batches beat repeat-last on the test windows`, async () => {
      engine.useBackend('wasm');
      const ds = new ForecastDataset(table, opts);
      const rng = new Rng(2021);
      const model = createModel(name, rng, defaultConfig(ds.channels, { seqLen: 96, labelLen: 48, predLen: 96 }));
      const tr = new Trainer(model, ds, rng, { epochs: 2, patience: 3, batchSize: 32, learningRate: 1e-4, lradj: 'type1', seed: 2021 });
      const dataRng = new Rng(7);
      for (let epoch = 0; epoch < 2; epoch++) {
        for (const ids of ds.batches('train', 32, dataRng).slice(0, 20)) await tr.trainStep(ds.batch('train', ids));
      }
      const { metrics } = await tr.evaluate('test');
      const naive = naiveMse(ds);
      console.log(`${name}: test MSE ${metrics.mse.toFixed(4)} vs repeat-last ${naive.toFixed(4)}`);
      expect(metrics.mse).toBeLessThan(naive);
      tr.adam.dispose();
      (model as Module).dispose();
    }, 300_000);
  }
});
