// The PALS controller and the sparse-training baselines, against exact expectations derived from the
// reference implementation's rules (shared/PALS-REFERENCE.md).
import { runCli } from './shared/cli.ts';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { PalsRule, pruneCount, regrowCount } from '../src/sparse/pals.ts';
import { magnitudeDeath, gradientGrowth, kthSmallest } from '../src/sparse/criteria.ts';
import { cosineZeta, cubicDensity } from '../src/sparse/schedules.ts';
import { inUpdateWindow, updateLayer } from '../src/sparse/controller.ts';
import { palsDecisionCount } from '../src/sparse/pals-controller.ts';
import { palsDecisionWarning, runData, specFromArgs } from '../src/cli/train-command.ts';
import { parseCommandArgs } from '../src/cli/flags.ts';
import { TRAIN } from '../src/cli/commands.ts';
import { allocateDensities } from '../src/sparse/density.ts';
import { Masking } from '../src/sparse/masking.ts';
import { Module } from '../src/nn/module.ts';
import { tensor } from '../src/ops/creation.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

engine.registerBackend(createWasmBackendSync());
engine.useBackend('wasm');

const rule = () => new PalsRule({ lambda: 1.1, sMin: 0.2, sMax: 0.9, initDensity: 1 });

describe('PALS decision rule', () => {
  it('shrinks below the 0.2 floor whatever the loss', () => {
    const r = rule();
    expect(r.decide(5, 0.0024)).toBe('shrink');
    expect(r.decide(500, 0.19)).toBe('shrink'); // loss far above λ·L_best, still the floor wins
  });

  it('shrinks while the loss stays within λ·L_best and below the cap; the cap is checked before the update', () => {
    const r = rule();
    r.decide(1.0, 0.1); // L_best = 1.0, S_best = 0.1
    expect(r.decide(1.1, 0.5)).toBe('shrink'); // L = λ·L_best exactly: ≤ holds
    expect(r.decide(1.05, 0.8999)).toBe('shrink'); // just under the cap: one more shrink may overshoot 0.9
    expect(r.decide(1.05, 0.9)).toBe('stable'); // at the cap, not above S_best condition for expand → stable
  });

  it('expands when the loss exceeds λ·L_best and sparsity is above S_best, else stays', () => {
    const r = rule();
    r.decide(1.0, 0.3); // L_best 1.0 at S 0.3
    expect(r.decide(1.2, 0.5)).toBe('expand');
    expect(r.decide(1.2, 0.3)).toBe('stable'); // S = S_best: not above
    expect(r.decide(1.2, 0.25)).toBe('stable');
  });

  it('updates L_best and S_best after the decision, only on strict improvement', () => {
    const r = rule();
    expect(r.decide(2.0, 0.3)).toBe('shrink'); // 2.0 ≤ 1.1·10000
    expect(r.state()).toEqual({ bestLoss: 2.0, bestSparsity: 0.3 });
    // The decision at S = 0.5 is taken against the OLD best (2.0): 2.3 > 2.2 and 0.5 > 0.3 → expand,
    expect(r.decide(2.3, 0.5)).toBe('expand');
    expect(r.state()).toEqual({ bestLoss: 2.0, bestSparsity: 0.3 });
    // then an improvement moves both, S_best to the sparsity at which it happened.
    expect(r.decide(1.5, 0.45)).toBe('shrink');
    expect(r.state()).toEqual({ bestLoss: 1.5, bestSparsity: 0.45 });
    expect(r.decide(1.5, 0.6)).toBe('shrink'); // equal loss is no improvement
    expect(r.state()).toEqual({ bestLoss: 1.5, bestSparsity: 0.45 });
  });

  it('the no-expand ablation turns expand into stable', () => {
    const r = new PalsRule({ lambda: 1.1, sMin: 0.2, sMax: 0.9, initDensity: 1, noExpand: true });
    r.decide(1.0, 0.3);
    expect(r.decide(1.2, 0.5)).toBe('stable');
  });

  it('starts from L_best = 10000 and S_best = 1 − D_init', () => {
    expect(new PalsRule({ lambda: 1.1, sMin: 0.2, sMax: 0.9, initDensity: 0.5 }).state()).toEqual({ bestLoss: 10000, bestSparsity: 0.5 });
  });
});

describe('prune / regrow counts', () => {
  it('follow the reference formulas, including int(r·(1/γ))', () => {
    expect(pruneCount('shrink', 100, 0.5, 1.1)).toBe(Math.ceil(0.5 * 100 * 1.1)); // 56
    expect(pruneCount('expand', 100, 0.5, 1.1)).toBe(50);
    expect(pruneCount('stable', 101, 0.5, 1.1)).toBe(51);
    expect(regrowCount('shrink', 33, 1.1)).toBe(30); // int(r/γ) would give 29
    expect(regrowCount('shrink', 56, 1.1)).toBe(50);
    expect(regrowCount('expand', 50, 1.1)).toBe(55);
    expect(regrowCount('stable', 51, 1.1)).toBe(51);
  });

  it('magnitude death removes ties at the threshold together', () => {
    const w = new Float32Array([0, 0.5, -0.1, 0.1, 0.3, 0.2, 0.7, 0]);
    const m = new Uint8Array([0, 1, 1, 1, 1, 1, 1, 0]);
    // zeros = 2, remove 1 → k = 3: sorted |w| = 0,0,0.1,0.1,0.2,… → threshold 0.1 → both 0.1s go.
    const d = magnitudeDeath(w, m, 1);
    expect(Array.from(d.mask)).toEqual([0, 1, 0, 0, 1, 1, 1, 0]);
    expect(d.removed).toBe(2);
  });

  it('gradient growth picks the largest |grad| among inactive positions, ties by lower index', () => {
    const g = new Float32Array([5, -3, 3, 0.1, 9, 3, 0, 0]);
    const m = new Uint8Array([1, 0, 0, 0, 0, 0, 1, 0]);
    expect(Array.from(gradientGrowth(g, m, 3))).toEqual([1, 1, 1, 0, 1, 0, 1, 0]);
  });

  it('kthSmallest agrees with sorting', () => {
    const rng = new Rng(9);
    const v = rng.normal(1001);
    const sorted = Array.from(v).sort((a, b) => a - b);
    for (const k of [1, 2, 500, 1000, 1001]) expect(kthSmallest(v, k)).toBe(sorted[k - 1]);
  });
});

class Holder extends Module {
  readonly w: Tensor;
  readonly b: Tensor;
  constructor(values: Float32Array, shape: number[]) {
    super();
    this.w = this.param('w', tensor(values, shape));
    this.b = this.param('b', tensor(new Float32Array(shape[0]!)));
  }
}

describe('masks on weights', () => {
  it('a shrink step on a hand-built layer: exact counts, zeros, grown weights start at 0, dropped-and-regrown keep their value', async () => {
    // 20 weights, all active; magnitudes 1..20 with the sign alternating.
    const values = Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    const model = new Holder(values, [4, 5]);
    const masking = new Masking(model);
    expect(masking.sparsity()).toBeCloseTo(4 / 24, 12); // biases count in the denominator only
    const l = masking.layers[0]!;
    // Gradient: largest at the smallest weights (indices 0..3), so some just-dropped weights regrow.
    l.param.grad = engine.keep(tensor(Float32Array.from({ length: 20 }, (_, i) => 100 - i), [4, 5]));
    const zeta = 0.25;
    const u = await updateLayer(masking, l, (n) => pruneCount('shrink', n, zeta, 1.1), (r) => regrowCount('shrink', r, 1.1), 'gradient', new Rng(1), null);
    expect(u.pruneNominal).toBe(Math.ceil(0.25 * 20 * 1.1)); // 6 smallest |w| go: values ±1..±6
    expect(u.removed).toBe(6);
    expect(u.regrown).toBe(Math.trunc(6 * (1 / 1.1))); // 5 regrow: the 5 largest |grad| among inactive = indices 0..4
    expect(Array.from(l.mask)).toEqual([1, 1, 1, 1, 1, 0, ...Array(14).fill(1)]);
    masking.apply();
    const w = l.param.dataSync() as Float32Array;
    expect(Math.abs(w[5]!)).toBe(0); // dropped for good (−0 from the multiply, as in the reference)
    expect(Array.from(w.slice(0, 5))).toEqual([1, -2, 3, -4, 5]); // dropped and regrown in one update: kept
    expect(w.filter((x) => x === 0).length).toBe(20 - l.active);
    // A weight inactive before an update regrows at 0: grow index 5 back in a stable step.
    l.param.grad.dispose();
    l.param.grad = engine.keep(tensor(Float32Array.from({ length: 20 }, (_, i) => (i === 5 ? 1000 : 0)), [4, 5]));
    await updateLayer(masking, l, () => 1, (r) => r, 'gradient', new Rng(1), null);
    masking.apply();
    expect(Math.abs((l.param.dataSync() as Float32Array)[5]!)).toBe(0);
    expect(l.mask[5]).toBe(1);
    masking.dispose();
    model.dispose();
  });
});

describe('schedules and windows', () => {
  it('ζ decays by cosine from 0.5 to 0.005', () => {
    expect(cosineZeta(0, 100)).toBe(0.5);
    expect(cosineZeta(50, 100)).toBeCloseTo(0.2525, 12);
    expect(cosineZeta(100, 100)).toBeCloseTo(0.005, 12);
  });

  it('GraNet cubic density values', () => {
    expect(cubicDensity(0, 0, 10, 1, 0.2)).toBe(1);
    expect(cubicDensity(5, 0, 10, 1, 0.2)).toBeCloseTo(0.2 + 0.8 * 0.125, 12);
    expect(cubicDensity(10, 0, 10, 1, 0.2)).toBe(0.2);
    expect(cubicDensity(20, 0, 10, 1, 0.2)).toBe(0.2);
  });

  it('updates happen every ΔT only within floor(2/3·epochs)+1 epochs', () => {
    // 10 epochs of 100 iterations, ΔT = 20: final epoch 7 → final_iter = 35 → last update at t = 680.
    const ok = (t: number) => inUpdateWindow(t, 20, 100, 0, Math.floor((2 / 3) * 10) + 1);
    expect(ok(20)).toBe(true);
    expect(ok(30)).toBe(false);
    expect(ok(680)).toBe(true);
    expect(ok(700)).toBe(false);
  });

  it('decision count of a run, and the warning when PALS would barely act (national_illness at ΔT 20)', () => {
    // national_illness: 19 training batches an epoch, 10 epochs, window of ⌊20/3⌋ + 1 = 7 epochs → final_iter
    // ⌊133 / ΔT⌋, decisions at t = ΔT, 2ΔT, … with ⌊t / ΔT⌋ below it: 5 at ΔT 20 (t = 20 … 100), 25 at ΔT 5.
    expect(palsDecisionCount(20, 19, 10)).toBe(5);
    expect(palsDecisionCount(5, 19, 10)).toBe(25);
    expect(palsDecisionCount(5, 30, 2)).toBe(11); // the end-to-end run below counts its updates: 11
    expect(palsDecisionCount(20, 100, 10)).toBe(34); // t = 20 … 680 (the window test above)
    const spec = (...extra: string[]) => specFromArgs(parseCommandArgs(TRAIN, ['--data', 'data/ETTh1.csv', '--seq_len', '48',
      '--label_len', '24', '--pred_len', '24', '--max_train_batches', '19', '--method', 'pals', ...extra]));
    const at20 = spec();
    const { ds } = runData(at20);
    expect(palsDecisionWarning(at20, ds)).toBe('PALS takes only 5 sparsity decisions in this run (19 training batches an epoch × 10 epochs, ' +
      'one every --update_freq 20 steps within its update window), so it will stay close to dense; --update_freq 5 would take 25 ' +
      "(the reference's national_illness script passes 5)");
    expect(palsDecisionWarning(spec('--update_freq', '5'), ds)).toBeNull();
    expect(palsDecisionWarning(spec('--max_train_batches', '100'), ds)).toBeNull(); // 34 decisions
  });

  it('ERK gives small layers more density and hits the target overall', () => {
    const layers = [{ name: 'a', shape: [512, 512] }, { name: 'b', shape: [512, 7, 3] }, { name: 'c', shape: [2048, 512] }];
    const d = allocateDensities(layers, 0.2, 'erk');
    const total = layers.reduce((a, l) => a + l.shape.reduce((x, y) => x * y, 1), 0);
    const kept = layers.reduce((a, l) => a + d.get(l.name)! * l.shape.reduce((x, y) => x * y, 1), 0);
    expect(kept / total).toBeCloseTo(0.2, 9);
    expect(d.get('b')).toBeGreaterThan(d.get('a')!);
    expect(d.get('a')).toBeGreaterThan(d.get('c')!);
  });
});

describe('end to end', () => {
  const run = (method: string, extra: string[]) => {
    const out = mkdtempSync(join(tmpdir(), `sc-${method}-`));
    // --update_freq for the methods that update a topology, --val_batches for PALS's decisions only: train refuses
    // a flag its method does not read.
    const perMethod = method === 'pals' ? ['--update_freq', '5', '--val_batches', '4'] : method === 'dense' ? [] : ['--update_freq', '5'];
    const r = runCli(['train', '--data', 'data/ETTh1.csv', '--model', 'Transformer',
      '--backend', 'wasm', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2', '--e_layers', '1',
      '--d_ff', '32', '--train_epochs', '2', '--max_train_batches', '30', ...perMethod, '--method', method, ...extra, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const updates = readFileSync(join(out, 'sparsity.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return { json, updates, out };
  };

  it('PALS for 2 epochs changes the sparsity and writes a valid sparsity.jsonl', () => {
    const { json, updates, out } = run('pals', []);
    expect(json.method).toBe('pals');
    // 2 epochs × 30 iterations, ΔT 5, final epoch floor(4/3)+1 = 2 → final_iter 12; the reference's strict
    // `curr_prune_iter < final_iter` leaves out t = 60, so 11 updates.
    expect(updates.length).toBe(11);
    for (const u of updates) {
      expect(Object.keys(u).sort()).toEqual(['L_best', 'S_best', 'decision', 'epoch', 'layers', 'masked_sparsity', 'sparsity', 'step', 'val_loss', 'zeta'].sort());
      expect(['shrink', 'expand', 'stable']).toContain(u.decision);
    }
    expect(updates[0].decision).toBe('shrink'); // starts dense: below the 0.2 floor
    expect(json.sparsity).toBeGreaterThan(0.2);
    expect(json.sparsity).toBeCloseTo(1 - json.nnz / json.params, 5);
    expect(json.flops_sparse).toBeLessThan(json.flops_dense);
    expect(json.controller_seconds).toBeGreaterThan(0);
    // Sparse vs dense-masked execution of the trained model: inference (a batch and one window) and a training
    // step's forward + backward.
    for (const k of ['infer_ms_dense', 'infer_ms_sparse', 'infer_b1_ms_dense', 'infer_b1_ms_sparse', 'step_ms_dense', 'step_ms_sparse']) expect(json[k], k).toBeGreaterThan(0);
    expect(Number.isInteger(json.csr_layers)).toBe(true);
    expect(readFileSync(join(out, 'sparsity.svg'), 'utf8')).toContain('<svg');
  }, 300_000);

  it('RigL keeps its density constant; dense reports the reference sparsity of its unmasked parameters', () => {
    const rigl = run('rigl', ['--density', '0.3', '--density_init', 'uniform']);
    const s = rigl.updates.map((u: { masked_sparsity: number }) => u.masked_sparsity);
    expect(Math.max(...s) - Math.min(...s)).toBeLessThan(1e-9);
    expect(rigl.json.masked_sparsity).toBeCloseTo(0.7, 2);
    const dense = run('dense', []);
    expect(dense.updates).toEqual([]);
    expect(dense.json.nnz).toBeLessThan(dense.json.params);
    expect(dense.json.masked_sparsity).toBe(0);
  }, 300_000);
});
