/**
 * Model file sizes (src/io/model-file.ts, encodings in src/io/sparse-encoding.ts), lossless: every f32 value
 * kept exact.
 *
 * - Issue 6's target: a 90%-sparse file is at most 20% of the dense file, on the small and full presets'
 *   Transformer (ETTh1's 7 channels) with random masks.
 * - Issue 14's: the small preset's Transformer at 50, 60, 70 and 90% sparsity with unstructured, fan_in and
 *   block (4×4) masks (src/sparse/structure.ts's initial masks, static): the writer stores each masked weight
 *   in the smallest encoding — checked against whole files with every masked weight forced into each other
 *   encoding that applies, and the byte formulas against the bytes each weight's parts really take — and the
 *   file-to-dense ratios are the README's ("Model file size"). The target, a file ≤ 50% of the dense one at
 *   PALS's sparsity, holds from about 52–54% sparsity on: at 50% the values alone are half the dense bytes, and
 *   the masks cost 1 bit per weight (1/32 of the dense bytes) for unstructured and fan_in, 1/16 bit for block,
 *   plus the header.
 * Sparsity is the reference's: 1 − Σnnz / all trainable parameters, biases and norms included (dense).
 */
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createModel, defaultConfig } from '../src/models/index.ts';
import { PRESETS } from '../src/models/config.ts';
import { structuredInitMask, type StructureKind } from '../src/sparse/structure.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { readModelFile, writeModelFile, type ModelConfigInput, type WeightEncoding, type WeightInput } from '../src/io/model-file.ts';
import { encodingCosts } from '../src/io/sparse-encoding.ts';
import { readmeSection } from './shared/readme.ts';

engine.registerBackend(createJsBackend());
engine.useBackend('js');

const config = (cfg: ModelConfigInput['cfg']): ModelConfigInput => ({
  model: 'Transformer', cfg: { ...cfg }, features: 'M', target: 'OT',
  scaler: { mean: Array(7).fill(0), std: Array(7).fill(1), columns: ['a', 'b', 'c', 'd', 'e', 'f', 'OT'] },
  timeFeatures: { encoding: 'timeF', freq: 'h', count: 4 },
});

/** The preset's Transformer with every weight matrix masked so that the reference sparsity is about `sparsity`. */
function maskedModel(preset: 'small' | 'full', kind: StructureKind, sparsity: number): { cfg: ModelConfigInput['cfg']; weights: WeightInput[]; sparsity: number } {
  const cfg = defaultConfig(7, { ...PRESETS[preset] });
  const model = createModel('Transformer', new Rng(1), cfg);
  const params = model.namedParameters();
  const all = params.reduce((a, [, p]) => a + p.size, 0);
  const masked = params.filter(([, p]) => p.rank >= 2).reduce((a, [, p]) => a + p.size, 0);
  // Density of the masked weights that leaves Σnnz = (1 − sparsity) of all trainable parameters.
  const density = ((1 - sparsity) * all - (all - masked)) / masked;
  const rng = new Rng(2);
  let nnz = all - masked;
  const weights: WeightInput[] = params.map(([name, p]) => {
    const data = Float32Array.from(p.dataSync() as Float32Array);
    if (p.rank < 2) return { name, shape: [...p.shape], data };
    const mask = kind === 'unstructured'
      ? Uint8Array.from(rng.uniform(p.size), (u) => (u < density ? 1 : 0))
      : structuredInitMask({ kind, blockSize: 4, ablation: 0 }, rng, [...p.shape], density);
    for (let i = 0; i < data.length; i++) if (!mask[i]) data[i] = 0;
    nnz += mask.reduce((a, v) => a + v, 0);
    return { name, shape: [...p.shape], data, mask };
  });
  model.dispose();
  return { cfg, weights, sparsity: 1 - nnz / all };
}

describe.each(['small', 'full'] as const)('model file size at 90 percent sparsity, %s preset Transformer', (preset) => {
  it('the sparse file is at most 20% of the dense file', () => {
    const { cfg, weights, sparsity } = maskedModel(preset, 'unstructured', 0.9);
    const sparseFile = writeModelFile(config(cfg), weights);
    const denseFile = writeModelFile(config(cfg), weights, { csrThreshold: 0 });
    const ratio = sparseFile.length / denseFile.length;
    console.log(`${preset}: sparsity ${sparsity.toFixed(4)}, dense file ${denseFile.length} B, sparse file ${sparseFile.length} B, ratio ${ratio.toFixed(4)}`);
    expect(Math.abs(sparsity - 0.9)).toBeLessThan(0.002);
    expect(readModelFile(sparseFile).csr.size).toBeGreaterThan(0);
    expect(readModelFile(denseFile).csr.size).toBe(0);
    expect(ratio).toBeLessThanOrEqual(0.2);
  }, 120_000);
});

/** The README's "Model file size" table: structure → [sparsity %, ratio][]. */
function readmeRatios(): Map<string, Map<number, number>> {
  const section = readmeSection('Model file size');
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const head = lines[0]!.split('|').map((c) => c.trim()).filter(Boolean);
  const sparsities = head.slice(1).map((h) => Number(h.replace('%', '')));
  const out = new Map<string, Map<number, number>>();
  for (const l of lines.slice(2)) {
    const cells = l.split('|').map((c) => c.trim()).filter(Boolean);
    out.set(cells[0]!.replace(/`/g, ''), new Map(sparsities.map((s, i) => [s, Number(cells[i + 1])])));
  }
  return out;
}

describe('structured export: the small preset Transformer at 50 to 90 percent sparsity', () => {
  const rows: Array<Record<string, unknown>> = [];
  const stated = readmeRatios();

  it.each(['unstructured', 'fan_in', 'block'] as const)('%s masks: the smallest encoding per weight, the ratios the README states', (kind) => {
    for (const target of [0.5, 0.6, 0.7, 0.9]) {
      const { cfg, weights, sparsity } = maskedModel('small', kind, target);
      expect(Math.abs(sparsity - target), `${kind} ${target}: sparsity ${sparsity}`).toBeLessThan(0.006);
      const file = writeModelFile(config(cfg), weights);
      const dense = writeModelFile(config(cfg), weights, { csrThreshold: 0 });
      const read = readModelFile(file);
      const header = readSafetensors(file).tensors;
      const counts: Record<string, number> = {};
      for (const w of weights.filter((x) => x.mask)) {
        const costs = encodingCosts(w.shape, w.mask!, w.name.length);
        const stored: WeightEncoding = read.csr.get(w.name)?.encoding ?? 'dense';
        counts[stored] = (counts[stored] ?? 0) + 1;
        const chosen = costs.find((c) => c.encoding === stored)!;
        // The cheapest that applies (these weights are all sparse enough that dense is never cheaper).
        for (const c of costs) expect(chosen.cost, `${kind} ${target} ${w.name}: ${stored} vs ${c.encoding}`).toBeLessThanOrEqual(c.cost);
        // The formula is the bytes the parts take.
        const bytes = [...header].filter(([k]) => k === w.name || k.startsWith(`${w.name}.${stored}.`)).reduce((a, [, t]) => a + t.data.byteLength, 0);
        expect(bytes, `${kind} ${target} ${w.name}: ${stored} bytes`).toBe(chosen.dataBytes);
      }
      // Whole files: every masked weight forced into each other encoding that applies to all of them is larger.
      const alternatives = (['dense', 'csr', 'bitmask', 'fan_in', 'block'] as const).filter((e) => weights.every((w) => !w.mask || encodingCosts(w.shape, w.mask, 0).some((c) => c.encoding === e)));
      const forced: Record<string, number> = {};
      for (const e of alternatives) {
        const bytes = writeModelFile(config(cfg), weights.map((w) => (w.mask ? { ...w, encoding: e } : w)));
        forced[e] = bytes.length;
        expect(bytes.length, `${kind} ${target}: all ${e}`).toBeGreaterThanOrEqual(file.length);
      }
      const ratio = file.length / dense.length;
      const row = { structure: kind, target, sparsity: +sparsity.toFixed(4), dense_bytes: dense.length, file_bytes: file.length, ratio: +ratio.toFixed(4), encodings: counts, all_forced_bytes: forced };
      rows.push(row);
      console.log(JSON.stringify(row));
      const readme = stated.get(kind)?.get(Math.round(target * 100));
      expect(readme, `README "Model file size" states ${kind} at ${target * 100}%`).toBeDefined();
      expect(Math.abs(readme! - ratio), `${kind} ${target}: README ${readme}, measured ${ratio.toFixed(3)}`).toBeLessThanOrEqual(0.005);
      // Issue 14's target, where the encoding can meet it (see the module comment): at 60% sparsity and above.
      if (target >= 0.6) expect(ratio, `${kind} ${target}`).toBeLessThanOrEqual(0.5);
    }
  }, 240_000);

  it('the structures the encodings are for are chosen: bitmask or fan_in for fan_in masks, block for block masks', () => {
    expect(rows.length).toBe(12);
    for (const r of rows) {
      const enc = r.encodings as Record<string, number>;
      if (r.structure === 'block') expect(enc, JSON.stringify(r)).toEqual({ block: 27 });
      if (r.structure === 'fan_in' && r.target === 0.9) expect(enc.fan_in ?? 0, JSON.stringify(r)).toBeGreaterThan(enc.bitmask ?? 0);
      if (r.structure === 'unstructured') expect(enc.fan_in ?? 0).toBe(0);
    }
  });
});
