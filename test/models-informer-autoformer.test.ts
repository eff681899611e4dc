// Informer and Autoformer (Time-Series-Library definitions) on js and wasm: shapes, gradients, TSLib
// state-dict keys, determinism, memory, number-for-number agreement with TSLib run in PyTorch (fixture), and
// a short ETTh1 training run that must beat the naive repeat-last forecast.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { createModel, defaultConfig, modelNames, type ForecastConfig } from '../src/models/index.ts';
import { Informer } from '../src/models/informer.ts';
import { Autoformer } from '../src/models/autoformer.ts';
import { ProbAttention, probSampleCount, probSampleIndices } from '../src/nn/prob-attention.ts';
import { parseCsv } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { Trainer, type Forecaster } from '../src/train/trainer.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

type Name = 'Informer' | 'Autoformer';
const NAMES: Name[] = ['Informer', 'Autoformer'];

/** The small test configuration: 3 channels, seq 32 / label 16 / pred 24, d_model 16, 2 heads. */
function tiny(over: Partial<ForecastConfig> = {}): ForecastConfig {
  return defaultConfig(3, { seqLen: 32, labelLen: 16, predLen: 24, dModel: 16, nHeads: 2, dFf: 32, factor: 1, ...over });
}

interface Inputs {
  xEnc: Float32Array;
  xMarkEnc: Float32Array;
  xDec: Float32Array;
  xMarkDec: Float32Array;
}

function makeInputs(cfg: ForecastConfig, b: number, seed: number): Inputs {
  const r = new Rng(seed);
  const yl = cfg.labelLen + cfg.predLen;
  return {
    xEnc: r.normal(b * cfg.seqLen * cfg.encIn),
    xMarkEnc: r.normal(b * cfg.seqLen * 4),
    xDec: r.normal(b * yl * cfg.decIn),
    xMarkDec: r.normal(b * yl * 4),
  };
}

function run(m: Forecaster, cfg: ForecastConfig, b: number, x: Inputs): Tensor {
  const yl = cfg.labelLen + cfg.predLen;
  return m.forward(
    op.tensor(x.xEnc, [b, cfg.seqLen, cfg.encIn]), op.tensor(x.xMarkEnc, [b, cfg.seqLen, 4]),
    op.tensor(x.xDec, [b, yl, cfg.decIn]), op.tensor(x.xMarkDec, [b, yl, 4]),
  );
}

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

// ---- TSLib state-dict keys (PyTorch state_dict() order), written from TSLib's module structure ----------

const lin = (p: string): string[] => [`${p}.weight`, `${p}.bias`];
const ln = lin;
/** AttentionLayer / AutoCorrelationLayer: the inner attention has no state, then four projections. */
const attnLayer = (p: string): string[] =>
  ['query_projection', 'key_projection', 'value_projection', 'out_projection'].flatMap((n) => lin(`${p}.${n}`));
/** DataEmbedding and DataEmbedding_wo_pos: TokenEmbedding conv (no bias), PE buffer, timeF Linear (no bias). */
const embedding = (p: string): string[] => [
  `${p}.value_embedding.tokenConv.weight`, `${p}.position_embedding.pe`, `${p}.temporal_embedding.embed.weight`,
];

const INFORMER_KEYS: string[] = [
  ...embedding('enc_embedding'),
  ...embedding('dec_embedding'),
  ...[0, 1].flatMap((i) => {
    const p = `encoder.attn_layers.${i}`;
    return [...attnLayer(`${p}.attention`), ...lin(`${p}.conv1`), ...lin(`${p}.conv2`), ...ln(`${p}.norm1`), ...ln(`${p}.norm2`)];
  }),
  'encoder.conv_layers.0.downConv.weight', 'encoder.conv_layers.0.downConv.bias',
  'encoder.conv_layers.0.norm.weight', 'encoder.conv_layers.0.norm.bias',
  'encoder.conv_layers.0.norm.running_mean', 'encoder.conv_layers.0.norm.running_var',
  'encoder.conv_layers.0.norm.num_batches_tracked',
  ...ln('encoder.norm'),
  ...attnLayer('decoder.layers.0.self_attention'),
  ...attnLayer('decoder.layers.0.cross_attention'),
  ...lin('decoder.layers.0.conv1'), ...lin('decoder.layers.0.conv2'),
  ...ln('decoder.layers.0.norm1'), ...ln('decoder.layers.0.norm2'), ...ln('decoder.layers.0.norm3'),
  ...ln('decoder.norm'),
  ...lin('decoder.projection'),
];

const AUTOFORMER_KEYS: string[] = [
  // decomp (series_decomp) has no state.
  ...embedding('enc_embedding'),
  ...[0, 1].flatMap((i) => {
    const p = `encoder.attn_layers.${i}`;
    return [...attnLayer(`${p}.attention`), `${p}.conv1.weight`, `${p}.conv2.weight`]; // bias=False; decomp1/2 stateless
  }),
  ...ln('encoder.norm.layernorm'),
  ...embedding('dec_embedding'),
  ...attnLayer('decoder.layers.0.self_attention'),
  ...attnLayer('decoder.layers.0.cross_attention'),
  'decoder.layers.0.conv1.weight', 'decoder.layers.0.conv2.weight',
  'decoder.layers.0.projection.weight', // Conv1d(d_model, c_out, 3, circular, bias=False)
  ...ln('decoder.norm.layernorm'),
  ...lin('decoder.projection'),
];

const BUFFER = /(\.pe|running_mean|running_var|num_batches_tracked)$/;
const EXPECTED_KEYS: Record<Name, string[]> = { Informer: INFORMER_KEYS, Autoformer: AUTOFORMER_KEYS };

/**
 * Parameters whose gradient is exactly zero in exact arithmetic although TSLib's forward uses them:
 * - attention key biases: adding one vector to every key shifts each score row by a constant (softmax-invariant);
 * - Informer: encoder layer 0's norm2 bias and the distilling conv's bias are per-channel constants that the
 *   following BatchNorm (batch statistics) subtracts;
 * - Autoformer: Auto-Correlation query/key biases add a delay-independent constant to the correlation (softmax-
 *   invariant) — except the cross-attention key bias, which the zero padding of the keys makes delay-dependent;
 *   my_Layernorm's bias is removed by its own subtraction of the time mean.
 */
const ANALYTICALLY_ZERO: Record<Name, string[]> = {
  Informer: [
    'encoder.attn_layers.0.attention.key_projection.bias',
    'encoder.attn_layers.0.norm2.bias',
    'encoder.attn_layers.1.attention.key_projection.bias',
    'encoder.conv_layers.0.downConv.bias',
    'decoder.layers.0.self_attention.key_projection.bias',
    'decoder.layers.0.cross_attention.key_projection.bias',
  ],
  Autoformer: [
    'encoder.attn_layers.0.attention.query_projection.bias',
    'encoder.attn_layers.0.attention.key_projection.bias',
    'encoder.attn_layers.1.attention.query_projection.bias',
    'encoder.attn_layers.1.attention.key_projection.bias',
    'encoder.norm.layernorm.bias',
    'decoder.layers.0.self_attention.query_projection.bias',
    'decoder.layers.0.self_attention.key_projection.bias',
    'decoder.layers.0.cross_attention.query_projection.bias',
    'decoder.norm.layernorm.bias',
  ],
};

describe('model registry', () => {
  it('lists Informer and Autoformer', () => {
    expect(modelNames()).toEqual(expect.arrayContaining(['Transformer', 'Informer', 'Autoformer']));
    engine.useBackend('js');
    const cfg = tiny();
    const i = createModel('Informer', new Rng(1), cfg);
    const a = createModel('Autoformer', new Rng(1), cfg);
    expect(i).toBeInstanceOf(Informer);
    expect(a).toBeInstanceOf(Autoformer);
    i.dispose();
    a.dispose();
  });

  it('ProbSparse sample counts follow factor·⌈ln L⌉ capped at L', () => {
    expect(probSampleCount(5, 96)).toBe(25);
    expect(probSampleCount(1, 32)).toBe(4);
    expect(probSampleCount(5, 17)).toBe(15);
    expect(probSampleCount(10, 8)).toBe(8);
    const idx = probSampleIndices(new Rng(4), 40, 17, 3);
    expect(idx.length).toBe(120);
    expect(Math.min(...idx)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...idx)).toBeLessThan(17);
  });
});

describe.each(['js', 'wasm'])('ProbSparse query selection on %s', (backend) => {
  it('scores only the sampled keys (duplicates counted) and picks the same top-u queries as the dense definition', () => {
    engine.useBackend(backend);
    const [b, h, lq, lk, e] = [2, 3, 11, 9, 5];
    const r = new Rng(41);
    const qd = r.normal(b * h * lq * e);
    const kd = r.normal(b * h * lk * e);
    const sampleK = 6;
    const sample = probSampleIndices(new Rng(7), lq, lk, sampleK);
    // Force duplicates in some rows, as torch.randint with replacement produces.
    sample[0] = sample[1]!;
    sample[sampleK * 3] = sample[sampleK * 3 + 2] = sample[sampleK * 3 + 4]!;
    const u = 4;
    const attn = new ProbAttention(new Rng(1), false, 1);
    const got = tidy(() => [...(attn.selectQueries(op.tensor(qd, [b, h, lq, e]), op.tensor(kd, [b, h, lk, e]), sample, sampleK, u).dataSync() as Int32Array)]);
    // Reference, straight from TSLib's definition in float64: M = max_s q·k_s − Σ_s q·k_s / L_K, top-u by M.
    const want: number[] = [];
    for (let g = 0; g < b * h; g++) {
      const m: number[] = [];
      for (let i = 0; i < lq; i++) {
        let mx = -Infinity;
        let sum = 0;
        for (let s = 0; s < sampleK; s++) {
          const j = sample[i * sampleK + s]!;
          let dot = 0;
          for (let t = 0; t < e; t++) dot += qd[(g * lq + i) * e + t]! * kd[(g * lk + j) * e + t]!;
          mx = Math.max(mx, dot);
          sum += dot;
        }
        m.push(mx - sum / lk);
      }
      want.push(...m.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]).slice(0, u).map(([, i]) => i));
    }
    expect(got).toEqual(want);
    // A backend without sddmm (the inference-only wasm module) takes the Q·Kᵀ path: same queries.
    const be = engine.getBackend(backend) as { supports?: (k: string) => boolean };
    const own = Object.getOwnPropertyDescriptor(be, 'supports');
    be.supports = (k: string) => k !== 'sddmm';
    try {
      const dense = tidy(() => [...(attn.selectQueries(op.tensor(qd, [b, h, lq, e]), op.tensor(kd, [b, h, lk, e]), sample, sampleK, u).dataSync() as Int32Array)]);
      expect(dense).toEqual(want);
    } finally {
      if (own) Object.defineProperty(be, 'supports', own);
      else delete be.supports;
    }
    attn.dispose();
  });
});

describe.each(['js', 'wasm'])('Informer / Autoformer on %s', (backend) => {
  describe.each(NAMES)('%s', (name) => {
    it('maps inputs to [B, pred_len, c_out] in train and eval mode (distil on and off)', () => {
      engine.useBackend(backend);
      for (const over of [{}, { distil: false, cOut: 3, eLayers: 3 }] as Partial<ForecastConfig>[]) {
        const cfg = tiny(over);
        const m = createModel(name, new Rng(3), cfg);
        const x = makeInputs(cfg, 2, 1);
        tidy(() => {
          expect(run(m, cfg, 2, x).shape).toEqual([2, 24, 3]);
          m.eval();
          const y = run(m, cfg, 2, x);
          expect(y.shape).toEqual([2, 24, 3]);
          expect([...(y.dataSync() as Float32Array)].every(Number.isFinite)).toBe(true);
        });
        m.dispose();
      }
    });

    it('has TSLib state-dict keys, order and shapes', () => {
      engine.useBackend(backend);
      const cfg = tiny();
      const m = createModel(name, new Rng(3), cfg);
      const expected = EXPECTED_KEYS[name];
      expect(m.namedParameters().map(([k]) => k)).toEqual(expected.filter((k) => !BUFFER.test(k)));
      const sd = m.stateDict();
      expect([...sd.keys()].sort()).toEqual([...expected].sort());
      const shape = (k: string) => [...sd.get(k)!.shape];
      expect(shape('enc_embedding.value_embedding.tokenConv.weight')).toEqual([16, 3, 3]);
      expect(shape('enc_embedding.temporal_embedding.embed.weight')).toEqual([16, 4]);
      expect(shape('enc_embedding.position_embedding.pe')).toEqual([1, 5000, 16]);
      expect(shape('encoder.attn_layers.0.conv1.weight')).toEqual([32, 16, 1]);
      expect(shape('decoder.projection.weight')).toEqual([3, 16]);
      if (name === 'Informer') {
        expect(shape('encoder.conv_layers.0.downConv.weight')).toEqual([16, 16, 3]);
        expect(shape('encoder.conv_layers.0.norm.running_var')).toEqual([16]);
        expect(shape('encoder.conv_layers.0.norm.num_batches_tracked')).toEqual([]);
      } else {
        expect(shape('decoder.layers.0.projection.weight')).toEqual([3, 16, 3]);
        expect(shape('encoder.norm.layernorm.weight')).toEqual([16]);
      }
      m.dispose();
    });

    it('sends a gradient to every parameter (the analytically zero ones get ~0)', () => {
      engine.useBackend(backend);
      const cfg = tiny();
      const m = createModel(name, new Rng(5), cfg);
      const x = makeInputs(cfg, 3, 2);
      const sizes = tidy(() => {
        const out = run(m, cfg, 3, x);
        backward(op.mean(op.square(out)));
        return m.namedParameters().map(([k, p]) => [k, p.grad ? maxAbs(p.grad.dataSync() as Float32Array) : 0] as const);
      });
      const top = Math.max(...sizes.map(([, g]) => g));
      // Measured: the analytically zero ones sit below 4e-8·top (rounding), every other one above 1.5e-4·top.
      const zero = sizes.filter(([, g]) => g <= 1e-6 * top).map(([k]) => k);
      expect(zero.sort()).toEqual([...ANALYTICALLY_ZERO[name]].sort());
      for (const [k, g] of sizes) if (!zero.includes(k)) expect(g, k).toBeGreaterThan(1e-5 * top);
      for (const p of m.parameters()) {
        p.grad?.dispose();
        p.grad = null;
      }
      m.dispose();
    });

    it('is deterministic: same seed, same output (dropout and ProbSparse sampling included)', () => {
      engine.useBackend(backend);
      const cfg = tiny({ dropout: 0.1 });
      const x = makeInputs(cfg, 2, 3);
      const outputs = [0, 1].map(() => {
        const m = createModel(name, new Rng(9), cfg);
        const y = tidy(() => [run(m, cfg, 2, x).dataSync() as Float32Array, run(m, cfg, 2, x).dataSync() as Float32Array]);
        m.dispose();
        return y;
      });
      expect(outputs[1]![0]).toEqual(outputs[0]![0]);
      expect(outputs[1]![1]).toEqual(outputs[0]![1]);
      // The second call draws new dropout masks (and ProbSparse samples): a different output.
      expect(outputs[0]![1]).not.toEqual(outputs[0]![0]);
    });

    it('training steps and predictions leave the live-tensor count and bytes unchanged', async () => {
      engine.useBackend(backend);
      const table = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'));
      const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 32, labelLen: 16, predLen: 24, freq: 'h', file: 'ETTh1' });
      const cfg = tiny({ encIn: 7, decIn: 7, cOut: 7 });
      const rng = new Rng(12);
      const m = createModel(name, rng, cfg);
      const tr = new Trainer(m, ds, rng, { epochs: 1, patience: 3, batchSize: 4, learningRate: 1e-3, lradj: 'type1', seed: 1 });
      const ids = ds.batches('train', 4, new Rng(2));
      await tr.trainStep(ds.batch('train', ids[0]!));
      await tr.predict(ds.batch('test', ids[0]!));
      const before = engine.memory();
      for (let i = 1; i <= 3; i++) expect(Number.isFinite(await tr.trainStep(ds.batch('train', ids[i]!)))).toBe(true);
      await tr.predict(ds.batch('test', ids[1]!));
      const after = engine.memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.perBackend[backend]).toEqual(before.perBackend[backend]);
      tr.dispose();
      m.dispose();
    });
  });

  describe('agreement with TSLib in PyTorch (fixture)', () => {
    const ref = JSON.parse(readFileSync('test/fixtures/informer-autoformer-tslib.json', 'utf8')) as Record<
      Name, Record<'train' | 'eval', { out: number[]; gradNorm?: number[]; runningMean?: number[] }>
    >;
    const cfg = tiny({ dropout: 0, movingAvg: 5 });
    const x = makeInputs(cfg, 2, 3);
    const close = (a: ArrayLike<number>, b: number[], abs: number, rel: number) => {
      expect(a.length).toBe(b.length);
      for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(abs + rel * Math.abs(b[i]!));
    };

    it.each(NAMES.flatMap((n) => (['train', 'eval'] as const).map((mode) => [n, mode] as const)))('%s in %s mode', (name, mode) => {
      engine.useBackend(backend);
      const m = createModel(name, new Rng(11), cfg);
      if (mode === 'eval') m.eval();
      const r = ref[name][mode];
      tidy(() => {
        const out = run(m, cfg, 2, x);
        close(out.dataSync() as Float32Array, r.out, 1e-5, 1e-4);
        if (r.gradNorm) {
          backward(op.mean(op.square(out)));
          const norms = m.parameters().map((p) => Math.sqrt((p.grad!.dataSync() as Float32Array).reduce((s, v) => s + v * v, 0)));
          close(norms, r.gradNorm, 1e-6, 1e-3);
        }
        if (r.runningMean) close(m.stateDict().get('encoder.conv_layers.0.norm.running_mean')!.dataSync() as Float32Array, r.runningMean, 1e-6, 1e-4);
      });
      for (const p of m.parameters()) {
        p.grad?.dispose();
        p.grad = null;
      }
      m.dispose();
    });
  });
});

describe('learns ETTh1 on wasm (small preset, 2 × 30 batches)', () => {
  it.each(NAMES)('%s beats the repeat-last forecast on the test windows', async (name) => {
    engine.useBackend('wasm');
    const seqLen = 96;
    const labelLen = 48;
    const predLen = 96;
    const table = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'));
    const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen, labelLen, predLen, freq: 'h', file: 'ETTh1' });
    const rng = new Rng(2021);
    const m = createModel(name, rng, defaultConfig(ds.channels, { seqLen, labelLen, predLen }));
    const batchSize = 32;
    const tr = new Trainer(m, ds, rng, { epochs: 2, patience: 3, batchSize, learningRate: 1e-4, lradj: 'type1', seed: 1 });
    // Two epochs of 30 shuffled batches (Trainer.trainStep; no per-epoch validation to keep CI time down).
    const dataRng = new Rng(77);
    for (let epoch = 0; epoch < 2; epoch++) {
      for (const ids of ds.batches('train', batchSize, dataRng).slice(0, 30)) {
        expect(Number.isFinite(await tr.trainStep(ds.batch('train', ids)))).toBe(true);
      }
    }
    const test = (await tr.evaluate('test')).metrics.mse;
    // Naive: the last observed step repeated over the horizon, on exactly the windows evaluate() scores.
    let se = 0;
    let n = 0;
    const C = ds.channels;
    const yl = labelLen + predLen;
    for (const ids of ds.batches('test', batchSize, null)) {
      const b = ds.batch('test', ids);
      for (let i = 0; i < b.size; i++) {
        for (let t = 0; t < predLen; t++) {
          for (let c = 0; c < C; c++) {
            se += (b.x[(i * seqLen + seqLen - 1) * C + c]! - b.y[(i * yl + labelLen + t) * C + c]!) ** 2;
            n++;
          }
        }
      }
    }
    const naive = se / n;
    console.log(`${name}: test MSE ${test.toFixed(4)} after 60 steps; naive repeat-last ${naive.toFixed(4)}`);
    expect(test).toBeLessThan(naive);
    tr.dispose();
    m.dispose();
  }, 400_000);
});

describe('Informer in eval mode', () => {
  it('forecasts one window twice with one answer, and eval passes leave the training draws alone', () => {
    engine.useBackend('wasm');
    const cfg = tiny({ dropout: 0.1 });
    const x = makeInputs(cfg, 2, 5);
    const m = createModel('Informer', new Rng(9), cfg);
    const twin = createModel('Informer', new Rng(9), cfg);
    try {
      m.eval();
      const [a, b] = tidy(() => [run(m, cfg, 2, x).dataSync() as Float32Array, run(m, cfg, 2, x).dataSync() as Float32Array]);
      expect(b).toEqual(a);
      // A training forward after eval passes draws what it would have drawn without them.
      m.train();
      const after = tidy(() => run(m, cfg, 2, x).dataSync() as Float32Array);
      const plain = tidy(() => run(twin, cfg, 2, x).dataSync() as Float32Array);
      expect(after).toEqual(plain);
    } finally {
      m.dispose();
      twin.dispose();
    }
  });
});
