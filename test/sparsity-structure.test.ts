// Mask structure (src/sparse/structure.ts) under every sparse method: the invariants hold after every prune /
// grow, the PALS decisions are those of the unstructured run on the same losses, neuron ablation follows its
// exact rule, and structured training through the Trainer learns.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { tensor } from '../src/ops/creation.ts';
import { assignInPlace } from '../src/tensor/assign.ts';
import { Module } from '../src/nn/module.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Masking } from '../src/sparse/masking.ts';
import { updateLayer, type SparseStepContext, type SparsityController, type UpdateRecord } from '../src/sparse/controller.ts';
import { countActive } from '../src/sparse/criteria.ts';
import { pruneCount, regrowCount } from '../src/sparse/pals.ts';
import { createController, DEFAULT_SPARSE, structureOf, type SparseOptions } from '../src/sparse/methods.ts';
import { fanInOf, structuredInitMask, structuredUpdate, structureViolation, type MaskStructure, type StructureKind } from '../src/sparse/structure.ts';
import { defaultConfig } from '../src/models/config.ts';
import { Transformer } from '../src/models/transformer.ts';

engine.registerBackend(createWasmBackendSync());
engine.useBackend('wasm');

const FAN_IN: MaskStructure = { kind: 'fan_in', blockSize: 4, ablation: 0.3 };
const BLOCK: MaskStructure = { kind: 'block', blockSize: 4, ablation: 0.3 };

class Holder extends Module {
  readonly w: Tensor;
  constructor(values: Float32Array, shape: number[]) {
    super();
    this.w = this.param('w', tensor(values, shape));
    this.param('b', tensor(new Float32Array(shape[0]!)));
  }
}

/** [4, 10] layer: rows 0–2 large (|w| = 10(r+1) + j), row 3 tiny; active inputs cols 0..5 in every row. */
function ablationLayer(): { shape: number[]; w: Float32Array; mask: Uint8Array; grad: Float32Array } {
  const shape = [4, 10];
  const w = new Float32Array(40);
  const mask = new Uint8Array(40);
  const grad = new Float32Array(40);
  for (let r = 0; r < 4; r++) {
    for (let j = 0; j < 10; j++) {
      const e = r * 10 + j;
      mask[e] = j < 6 ? 1 : 0;
      w[e] = mask[e] ? (r < 3 ? 10 * (r + 1) + j : 0.01 * (j + 1)) : 0;
      grad[e] = r < 3 ? 1 + 0.1 * j : 0.001;
    }
  }
  return { shape, w, mask, grad };
}

const rowOf = (mask: Uint8Array, r: number, C = 10) => Array.from(mask.slice(r * C, (r + 1) * C));

describe('fan_in: constant fan-in and neuron ablation (exact rule on a hand-made layer)', () => {
  it('a neuron with too few salient weights is removed whole and its budget regrows in the others', () => {
    const { shape, w, mask, grad } = ablationLayer();
    // Stable step with r = 8. Unstructured on the side: death keeps rows 0..2 less row 0's two smallest (16),
    // growth adds 8 by |grad| (row 0..2's cols 9, 8, then col 7 of rows 0 and 1): salient counts 7, 9, 8, 0;
    // mean 6, threshold 0.3·6 = 1.8, so row 3 (0 salient) is ablated: A = 6 weights.
    const u = structuredUpdate(FAN_IN, shape, w, mask, 8, (r) => r, grad);
    expect(u.ablated).toBe(1);
    // r − A = 2 over 3 neurons: d = round(2/3) = 1 each (col 0, the smallest); removed 6 + 3 = 9;
    // regrow(9) = 9 over 3 neurons: g = 3 each, the largest |grad| among inactive: cols 9, 8, 7.
    expect(u.removed).toBe(9);
    expect(u.regrown).toBe(9);
    for (const r of [0, 1, 2]) expect(rowOf(u.mask, r)).toEqual([0, 1, 1, 1, 1, 1, 0, 1, 1, 1]);
    expect(rowOf(u.mask, 3)).toEqual(Array(10).fill(0));
    expect(countActive(u.mask)).toBe(24); // a stable step keeps the count: row 3's 6 went to rows 0..2 (+2 each)
    expect(fanInOf(shape, u.mask)).toEqual({ live: 3, k: 8 });
    expect(structureViolation(FAN_IN, shape, u.mask)).toBeNull();
  });

  it('without ablation (γ_sal = 0) every neuron drops and grows the same count', () => {
    const { shape, w, mask, grad } = ablationLayer();
    const u = structuredUpdate({ ...FAN_IN, ablation: 0 }, shape, w, mask, 8, (r) => r, grad);
    // d = round(8/4) = 2 smallest per neuron (cols 0, 1); g = 2 largest |grad| among inactive per neuron.
    expect(u).toMatchObject({ removed: 8, regrown: 8, ablated: 0 });
    for (const r of [0, 1, 2]) expect(rowOf(u.mask, r)).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 1, 1]);
    expect(rowOf(u.mask, 3)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0]); // equal grads: lower column first (0, 1 back)
    expect(fanInOf(shape, u.mask)).toEqual({ live: 4, k: 6 });
  });

  it('a structure-less threshold is reached at the nearest count: removed = L·round(r/L), regrow fed that count', () => {
    const { shape, w, mask, grad } = ablationLayer();
    const n = countActive(mask); // 24, L = 4, k = 6
    const r = pruneCount('shrink', n, 0.3, 1.1); // ceil(7.92) = 8 → d = 2
    const u = structuredUpdate({ ...FAN_IN, ablation: 0 }, shape, w, mask, r, (x) => regrowCount('shrink', x, 1.1), grad);
    expect(u.removed).toBe(8);
    expect(u.regrown).toBe(4 * Math.round(regrowCount('shrink', 8, 1.1) / 4)); // trunc(8/1.1) = 7 → g = round(1.75) = 2
    expect(fanInOf(shape, u.mask)).toEqual({ live: 4, k: 6 });
  });

  it('init masks: every row the same k = round(density·C), from the seeded generator', () => {
    const m1 = structuredInitMask(FAN_IN, new Rng(3), [8, 12], 0.3);
    const m2 = structuredInitMask(FAN_IN, new Rng(3), [8, 12], 0.3);
    expect(m1).toEqual(m2);
    expect(fanInOf([8, 12], m1)).toEqual({ live: 8, k: 4 });
    expect(fanInOf([8, 12], structuredInitMask(FAN_IN, new Rng(3), [8, 12], 0.01))).toEqual({ live: 8, k: 1 }); // at least one input
  });
});

describe('block: whole B×B blocks with partial edge blocks', () => {
  it('prunes the lowest-mean-|w| blocks to the nearest count (half up) and grows by mean |grad|', () => {
    // [6, 10] with B = 4: tiles 2×3 of sizes 16 16 8 / 8 8 4 (block index row-major).
    const shape = [6, 10];
    const blockOf = (e: number) => Math.floor(Math.floor(e / 10) / 4) * 3 + Math.floor((e % 10) / 4);
    const wOfBlock = [5, 6, 2, 4, 3, 1]; // ascending: block 5 (4), block 2 (8), block 4 (8), block 3 (8), …
    const w = Float32Array.from({ length: 60 }, (_, e) => wOfBlock[blockOf(e)]! * (e % 2 ? -1 : 1));
    const mask = new Uint8Array(60).fill(1);
    // r = 20: take 4 (2·4 ≤ 44), 8 (2·12 ≤ 48), 8 (2·20 ≤ 48), next 8 would give 28: 2·28 > 48 → stop at 20.
    const u = structuredUpdate(BLOCK, shape, w, mask, 20, () => 0, null);
    expect(u.removed).toBe(20);
    for (let e = 0; e < 60; e++) expect(u.mask[e], `e ${e}`).toBe([2, 4, 5].includes(blockOf(e)) ? 0 : 1);
    // r = 22 → 20 + 8 = 28 is 6 away, 20 is 2 away: still 20. r = 24 (tie 4 / 4) → half up: 28.
    expect(structuredUpdate(BLOCK, shape, w, mask, 22, () => 0, null).removed).toBe(20);
    expect(structuredUpdate(BLOCK, shape, w, mask, 24, () => 0, null).removed).toBe(28);
    // Growth: regrow 10 among inactive blocks {2, 4, 5} by mean |grad|: block 4 (8) then block 5 (4): 2·12 ≤ 24.
    const grad = Float32Array.from({ length: 60 }, (_, e) => [0, 0, 1, 0, 3, 2][blockOf(e)]!);
    const g = structuredUpdate(BLOCK, shape, w, u.mask, 0, () => 10, grad);
    expect(g.regrown).toBe(12);
    for (let e = 0; e < 60; e++) expect(g.mask[e]).toBe(blockOf(e) === 2 ? 0 : 1);
    expect(structureViolation(BLOCK, shape, g.mask)).toBeNull();
    // The last live block is never dropped.
    expect(countActive(structuredUpdate(BLOCK, shape, w, mask, 60, () => 0, null).mask)).toBe(16);
  });

  it('the invariant check sees a partly active block', () => {
    const m = structuredInitMask(BLOCK, new Rng(5), [6, 10], 0.5);
    expect(structureViolation(BLOCK, [6, 10], m)).toBeNull();
    m[m.indexOf(1)] = 0;
    expect(structureViolation(BLOCK, [6, 10], m)).toMatch(/partly active/);
  });
});

// ---- every method × structure on a tiny Transformer, with random gradients and weight drift ----

const cfg = defaultConfig(7, { seqLen: 24, labelLen: 12, predLen: 12, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 24 });

function checkMasks(c: SparsityController, s: MaskStructure, where: string): void {
  const m = c.masking!;
  let nnz = 0;
  for (const l of m.layers) {
    expect(structureViolation(s, l.param.shape, l.mask), `${where} ${l.name}`).toBeNull();
    expect(l.active, `${where} ${l.name} accounting`).toBe(countActive(l.mask));
    nnz += countActive(l.mask);
    const w = l.param.dataSync() as Float32Array;
    for (let i = 0; i < w.length; i++) if (!l.mask[i] && w[i] !== 0) throw new Error(`${where} ${l.name}: masked weight ${i} is ${w[i]}`);
  }
  expect(m.nnz()).toBe(nnz);
}

/** Random gradients for every masked weight and a small random drift of every weight (an "optimizer step"). */
function fakeStep(c: SparsityController, rng: Rng): void {
  for (const l of c.masking!.layers) {
    const n = l.param.size;
    l.param.grad?.dispose();
    l.param.grad = engine.keep(tensor(rng.normal(n), l.param.shape));
    const w = Float32Array.from(l.param.dataSync() as Float32Array);
    const z = rng.normal(n);
    for (let i = 0; i < n; i++) w[i] = w[i]! + 0.02 * z[i]!;
    assignInPlace(l.param, tensor(w, l.param.shape));
  }
}

const ITERS = 6;
const EPOCHS = 3; // update window: floor(2/3·3) + 1 = 3 epochs → every step of the run may update

function ctxAt(step: number, losses: number[] | null, iters = ITERS): SparseStepContext {
  return {
    step, epoch: Math.floor((step - 1) / iters) + 1, itersPerEpoch: iters, totalEpochs: EPOCHS,
    validate: async () => (losses ? losses[step / 2 - 1]! : 1), momentum: () => null,
  };
}

async function drive(o: SparseOptions, steps: number, losses: number[] | null, onEach?: (c: SparsityController, rec: UpdateRecord | null, step: number) => void, iters = ITERS) {
  const model = new Transformer(new Rng(1), cfg);
  const c = createController(model, o, new Rng(7));
  const s = structureOf(o);
  checkMasks(c, s, 'init');
  const rng = new Rng(11);
  const records: UpdateRecord[] = [];
  for (let step = 1; step <= steps; step++) {
    fakeStep(c, rng);
    await c.beforeOptimizerStep(ctxAt(step, losses, iters));
    const rec = await c.afterOptimizerStep(ctxAt(step, losses, iters));
    if (rec) records.push(rec);
    checkMasks(c, s, `step ${step}`);
    onEach?.(c, rec, step);
  }
  for (const l of c.masking!.layers) l.param.grad?.dispose();
  c.dispose();
  model.dispose();
  return records;
}

const METHOD_OPTS: Record<string, Partial<SparseOptions>> = {
  pals: { method: 'pals', initDensity: 1 },
  'pals-sparse-start': { method: 'pals', initDensity: 0.5 },
  granet: { method: 'granet', initDensity: 1, finalDensity: 0.2 },
  rigl: { method: 'rigl', density: 0.3 },
  set: { method: 'set', density: 0.3 },
  static: { method: 'static', density: 0.3 },
};

describe('invariants after every prune / grow, every method', () => {
  for (const structure of ['fan_in', 'block'] as StructureKind[]) {
    for (const [name, mo] of Object.entries(METHOD_OPTS)) {
      it(`${name} with ${structure}`, async () => {
        const o: SparseOptions = { ...DEFAULT_SPARSE, updateFrequency: 2, ...mo, structure };
        let changed = 0;
        let prev: Record<string, Uint8Array> | null = null;
        const recs = await drive(o, 12, null, (c) => {
          const now = Object.fromEntries(c.masking!.layers.map((l) => [l.name, l.mask.slice()]));
          if (prev && Object.keys(now).some((k) => now[k]!.some((v, i) => v !== prev![k]![i]))) changed++;
          prev = now;
        });
        expect(recs.length).toBeGreaterThan(0);
        expect(changed).toBeGreaterThan(0); // the masks really moved
        const last = recs[recs.length - 1]!;
        if (name === 'rigl' || name === 'set') {
          // Fixed density: the structured count moves only by the rounding of the structure.
          expect(Math.abs(last.masked_sparsity - recs[0]!.masked_sparsity)).toBeLessThan(0.03);
        }
        if (name === 'static' || name === 'granet') expect(last.masked_sparsity).toBeGreaterThan(0.5);
        if (name === 'pals') expect(last.sparsity).toBeGreaterThan(0.05); // shrink from dense
      }, 60_000);
    }
  }
});

describe('PALS decisions do not depend on the structure', () => {
  // 8 updates (every 2nd step, γ = 1.5 so each shrink / expand moves the sparsity by ~0.15 and no comparison
  // is marginal for any structure): shrink from dense (a best), shrink (a better best), stable at the cap
  // (s_max 0.35, loss within λ·L_best), a rise: expand twice while S > S_best, then stable once S ≤ S_best,
  // a new best: shrink, then stable at the cap again. Recorded unstructured sparsity after each update:
  // 0.313 0.485 0.485 0.362 0.211 0.211 0.387 0.387; fan_in and block stay within 0.04 of it.
  const losses = [1.0, 0.9, 0.95, 1.2, 1.2, 1.2, 0.8, 0.85];
  it('fan_in and block take the unstructured run\'s decisions on the same losses', async () => {
    const run = async (structure: StructureKind) => {
      const o: SparseOptions = { ...DEFAULT_SPARSE, method: 'pals', updateFrequency: 2, initDensity: 1, sMin: 0, sMax: 0.35, gamma: 1.5, zeta: 0.5, structure };
      const recs = await drive(o, 2 * losses.length, losses, undefined, 20);
      return { decisions: recs.map((r) => r.decision), sparsity: recs.map((r) => r.sparsity) };
    };
    const base = await run('unstructured');
    expect(new Set(base.decisions)).toEqual(new Set(['shrink', 'expand', 'stable']));
    for (const s of ['fan_in', 'block'] as StructureKind[]) {
      const r = await run(s);
      expect(r.decisions, s).toEqual(base.decisions);
      // Same counts up to the structure's rounding: the sparsity paths stay close, yet the masks differ.
      for (let i = 0; i < r.sparsity.length; i++) expect(Math.abs(r.sparsity[i]! - base.sparsity[i]!), `${s} update ${i}`).toBeLessThan(0.04);
    }
  }, 120_000);

  it('the unstructured path is untouched: updateLayer on a default Masking gives the reference counts', async () => {
    const values = Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));
    const model = new Holder(values, [4, 5]);
    const masking = new Masking(model);
    expect(masking.structure.kind).toBe('unstructured');
    const l = masking.layers[0]!;
    l.param.grad = engine.keep(tensor(Float32Array.from({ length: 20 }, (_, i) => 100 - i), [4, 5]));
    const u = await updateLayer(masking, l, (n) => pruneCount('shrink', n, 0.25, 1.1), (r) => regrowCount('shrink', r, 1.1), 'gradient', new Rng(1), null);
    expect(u).toEqual({ pruneNominal: 6, removed: 6, regrown: 5 });
    l.param.grad.dispose();
    masking.dispose();
    model.dispose();
  });
});

describe('structured training through the Trainer (ETTh1, tiny config)', () => {
  // unstructured first: the baseline of the controller seconds printed per structure.
  for (const structure of ['unstructured', 'fan_in', 'block'] as StructureKind[]) {
    it(`PALS with ${structure} lowers the loss and keeps the invariant`, async () => {
      const { parseCsv } = await import('../src/data/csv.ts');
      const { ForecastDataset } = await import('../src/data/forecast-dataset.ts');
      const { Trainer } = await import('../src/train/trainer.ts');
      const table = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'));
      const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 24, labelLen: 12, predLen: 12, freq: 'h', file: 'ETTh1' });
      const rng = new Rng(1);
      const model = new Transformer(rng, cfg);
      const sparseRng = new Rng(99);
      const o: SparseOptions = { ...DEFAULT_SPARSE, method: 'pals', updateFrequency: 3, structure };
      const controller = createController(model, o, sparseRng);
      const tr = new Trainer(model, ds, rng, {
        epochs: 2, patience: 3, batchSize: 16, learningRate: 1e-3, lradj: 'type1', seed: 1, maxTrainBatches: 12,
        controller, sparseRng, valBatches: 2,
      });
      const before = (await tr.evaluate('val', 4)).loss;
      const t0 = performance.now();
      const res = await tr.fit();
      const after = (await tr.evaluate('val', 4)).loss;
      const s = structureOf(o);
      for (const l of controller.masking!.layers) expect(structureViolation(s, l.param.shape, l.mask), l.name).toBeNull();
      expect(controller.masking!.sparsity()).toBeGreaterThan(0.05);
      expect(after).toBeLessThan(before);
      console.log(`[structure ${structure}] val ${before.toFixed(4)} → ${after.toFixed(4)}, sparsity ${controller.masking!.sparsity().toFixed(4)}, `
        + `controller ${controller.seconds.toFixed(3)} s of ${((performance.now() - t0) / 1000).toFixed(2)} s, ${res.steps} steps`);
      tr.dispose();
      controller.dispose();
      model.dispose();
    }, 180_000);
  }
});

describe('checkpoints', () => {
  it('masks saved under one structure load under it; another structure\'s masks are refused, nothing changed', () => {
    const model = new Transformer(new Rng(1), cfg);
    const fan = createController(model, { ...DEFAULT_SPARSE, method: 'rigl', density: 0.3, structure: 'fan_in' }, new Rng(7));
    const saved = new Map(Object.entries(fan.masking!.state()).map(([k, v]) => [k, v.slice()]));
    expect(() => fan.masking!.load(saved)).not.toThrow();
    const block = createController(model, { ...DEFAULT_SPARSE, method: 'rigl', density: 0.3, structure: 'block' }, new Rng(7));
    const before = block.masking!.state();
    const snapshot = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.slice()]));
    expect(() => block.masking!.load(saved)).toThrow(/is not block .*--sparsity_structure/);
    expect(block.masking!.state()).toEqual(snapshot);
    expect(() => createController(model, { ...DEFAULT_SPARSE, method: 'pals', structure: 'diagonal' as StructureKind }, new Rng(1))).toThrow(/unknown --sparsity_structure 'diagonal'/);
    expect(() => createController(model, { ...DEFAULT_SPARSE, method: 'pals', structure: 'block', blockSize: 0 }, new Rng(1))).toThrow(/--block_size/);
    expect(() => createController(model, { ...DEFAULT_SPARSE, method: 'pals', structure: 'fan_in', fanInAblation: 1.5 }, new Rng(1))).toThrow(/--fan_in_ablation/);
    fan.dispose();
    block.dispose();
    model.dispose();
  });
});
