/**
 * The fused attention op against the unfused path (matmul, scale, mask, softmax, dropout, matmul) on js and
 * wasm (webgpu: test/webgpu.test.ts runs the same comparison): forward outputs and all three gradients agree
 * within the conformance tolerance (error relative to max(|ref|, RMS of ref) ≤ 1e-5·√K); dropout drops exactly
 * the same weights and reserves the same counters; blind rows are refused; a training step with the fused
 * FullAttention leaks nothing.
 */
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { backward } from '../src/autograd/backward.ts';
import * as op from '../src/ops/index.ts';
import { compareOutput } from './conformance/run.ts';
import { attentionCases, runAttentionPaths, runInterleavedHeads, type AttentionCase } from './shared/attention-paths.ts';
import { Transformer } from '../src/models/transformer.ts';
import { defaultConfig } from '../src/models/config.ts';
import { Adam } from '../src/train/adam.ts';
import { useFusedAttention } from '../src/nn/attention.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());

function label(c: AttentionCase): string {
  return `B${c.batch.join('x')} Lq${c.lq} Lk${c.lk} E${c.e} Ev${c.ev}${c.causal ? ' causal' : ''}${c.window !== undefined ? ` w${c.window}` : ''}${c.dropout ? ` p${c.dropout}` : ''}${c.scale ? ` scale${c.scale}` : ''}`;
}

describe.each(['js', 'wasm'])('fused attention on %s', (backend) => {
  it.each(attentionCases().map((c) => [label(c), c] as const))('matches the unfused path: %s', async (_l, c) => {
    engine.useBackend(backend);
    const fused = await runAttentionPaths(c, true);
    const unfused = await runAttentionPaths(c, false);
    const k = Math.max(c.lk, c.e, c.ev, c.lq);
    const limit = 1e-5 * Math.sqrt(k);
    for (const name of ['out', 'dq', 'dk', 'dv'] as const) {
      const r = compareOutput(fused[name], unfused[name], limit);
      expect(r.failure, `${name}: ${r.failure}`).toBeNull();
    }
    expect(fused.rngOffset).toBe(unfused.rngOffset);
  });

  it.each(attentionCases().filter((c) => c.batch.length === 2).map((c) => [label(c), c] as const))(
    'reads interleaved heads in place with the same bits as split heads: %s', async (_l, c) => {
      engine.useBackend(backend);
      const split = await runAttentionPaths(c, true);
      const inter = await runInterleavedHeads(c);
      for (const name of ['out', 'dq', 'dk', 'dv'] as const) expect(Array.from(inter[name]), name).toEqual(Array.from(split[name]));
      expect(inter.rngOffset).toBe(split.rngOffset);
    },
  );

  it('drops exactly the weights the unfused dropout drops (V = identity reads the weights out)', async () => {
    engine.useBackend(backend);
    const [B, L] = [3, 13];
    const data = new Rng(5);
    const q = op.tensor(data.normal(B * L * 8), [B, L, 8]);
    const k = op.tensor(data.normal(B * L * 8), [B, L, 8]);
    const eye = new Float32Array(B * L * L);
    for (let b = 0; b < B; b++) for (let j = 0; j < L; j++) eye[b * L * L + j * L + j] = 1;
    const v = op.tensor(eye, [B, L, L]);
    const opts = { dropout: 0.4, training: true, causal: true } as const;
    const fused = op.scaledDotProductAttention(q, k, v, { ...opts, rng: new Rng(9, 1234), weights: false });
    const unfused = op.scaledDotProductAttention(q, k, v, { ...opts, rng: new Rng(9, 1234) });
    const a = await fused.output.data();
    const w = await unfused.attn.data();
    let zeros = 0;
    for (let i = 0; i < w.length; i++) {
      expect(a[i] === 0, `element ${i}`).toBe(w[i] === 0);
      if (w[i] === 0) zeros++;
    }
    expect(zeros).toBeGreaterThan(w.length / 3); // causal zeros and dropped weights both present
    for (const t of [q, k, v, fused.output, unfused.output, unfused.attn]) t.dispose();
  });

  it('refuses a mask that leaves a query row without keys, on both paths', () => {
    engine.useBackend(backend);
    const q = op.tensor(new Float32Array(2 * 9 * 4), [2, 9, 4]);
    const k = op.tensor(new Float32Array(2 * 5 * 4), [2, 5, 4]);
    for (const weights of [true, false]) {
      expect(() => op.scaledDotProductAttention(q, k, k, { window: 2, weights })).toThrow(
        /scaledDotProductAttention: query row 7 of 9 sees no key \(keys 5, window 2\)/,
      );
    }
    expect(() => op.fusedAttention(q, k, k, { window: 1 })).toThrow(/fusedAttention: query row 6 of 9 sees no key/);
    q.dispose();
    k.dispose();
  });

  it('names the op and the shapes in its errors', () => {
    engine.useBackend(backend);
    const t = (shape: number[]) => op.tensor(new Float32Array(shape.reduce((a, d) => a * d, 1)), shape);
    const [q, k2, v2] = [t([2, 3, 4]), t([1, 3, 4]), t([2, 3, 5])];
    expect(() => op.fusedAttention(q, k2, v2)).toThrow(/fusedAttention: query \[2, 3, 4\], key \[1, 3, 4\] and value \[2, 3, 5\] must have equal batch dimensions/);
    expect(() => op.fusedAttention(q, q, q, { dropout: 0.2, training: true })).toThrow(/fusedAttention: dropout 0.2 in training needs an rng/);
    expect(() => op.fusedAttention(q, q, q, { dropout: 1, training: true, rng: new Rng(1) })).toThrow(/fusedAttention: dropout p must be in \[0, 1\), got 1/);
    expect(() => op.fusedAttention(q, q, q, { window: -2 })).toThrow(/fusedAttention: window must be an integer ≥ 0, got -2/);
    expect(() => op.fusedAttention(q, t([2, 3, 5]), q)).toThrow(/fusedAttention: query \[2, 3, 4\] and key \[2, 3, 5\] differ in the feature dimension/);
    // Broadcast batch dims still work through scaledDotProductAttention (the unfused path).
    const r = op.scaledDotProductAttention(q, k2, t([1, 3, 5]), { weights: false });
    expect(r.output.shape).toEqual([2, 3, 5]);
    expect(r.attn).toBeNull();
    for (const x of [q, k2, v2, r.output]) x.dispose();
  });

  it('a Transformer training step with the fused FullAttention leaves no live tensors or bytes behind', () => {
    engine.useBackend(backend);
    expect(useFusedAttention(engine.getBackend(backend), 8, false)).toBe(true); // the heads below (d_model 16, 2 heads)
    const cfg = defaultConfig(3, { seqLen: 12, labelLen: 6, predLen: 6, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32, dropout: 0.1 });
    const model = new Transformer(new Rng(11), cfg);
    model.train();
    const data = new Rng(12);
    const B = 2;
    const xEnc = op.tensor(data.normal(B * cfg.seqLen * 3), [B, cfg.seqLen, 3]);
    const xDec = op.tensor(data.normal(B * 12 * 3), [B, 12, 3]);
    const y = op.tensor(data.normal(B * cfg.predLen * 3), [B, cfg.predLen, 3]);
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const step = () => {
      tidy(() => {
        const l = op.mseLoss(model.forward(xEnc, null, xDec, null), y);
        backward(l);
      });
      opt.step();
      opt.zeroGrad();
    };
    step(); // the first step creates the Adam moments
    const before = engine.memory().perBackend[backend]!;
    step();
    step();
    const after = engine.memory().perBackend[backend]!;
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    for (const t of [xEnc, xDec, y]) t.dispose();
  });
});

describe('fused attention on wasm: the dropout record', () => {
  it('the backward pass reading the forward pass\'s keep bits equals the one drawing them again, bit for bit', () => {
    const be = engine.getBackend('wasm');
    const shape = { batch: 6, lq: 37, lk: 29, e: 16, ev: 12, heads: 3 };
    const data = new Rng(5);
    const up = (n: number) => be.upload(data.normal(n));
    const [q, k, v, dO] = [up(6 * 37 * 16), up(6 * 29 * 16), up(6 * 29 * 12), up(6 * 37 * 12)];
    for (const causal of [false, true]) {
      const attrs = { scale: 0.25, causal, dropout: { p: 0.3, seed: 9, counter: 123 } };
      const f = be.kernels.attention(q, k, v, shape, attrs);
      expect(f.keep, 'wasm keeps the draws').toBeDefined();
      const kept = be.kernels.attentionBackward(dO, q, k, v, f.out, f.logSumExp, shape, attrs, f.keep);
      const drawn = be.kernels.attentionBackward(dO, q, k, v, f.out, f.logSumExp, shape, attrs);
      for (const name of ['dq', 'dk', 'dv'] as const) {
        expect(Array.from(be.readSync!(kept[name]) as Float32Array), `${name} causal ${causal}`).toEqual(Array.from(be.readSync!(drawn[name]) as Float32Array));
      }
      for (const s of [f.out, f.rowMax, f.logSumExp, f.keep!, kept.dq, kept.dk, kept.dv, drawn.dq, drawn.dk, drawn.dv]) be.free(s);
    }
    for (const s of [q, k, v, dO]) be.free(s);
  });
});
