// Issue 6's memory target: a 90%-sparse model file (CSR) is at most 20% of the dense file's size. Measured on
// the small and full presets' Transformer (ETTh1's 7 channels) with random masks whose density puts the
// reference sparsity (1 − Σnnz / all trainable parameters, biases and norms included) at exactly 0.9.
import { describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createModel, defaultConfig } from '../src/models/index.ts';
import { PRESETS } from '../src/models/config.ts';
import { readModelFile, writeModelFile, type ModelConfigInput, type WeightInput } from '../src/io/model-file.ts';

engine.registerBackend(createJsBackend());
engine.useBackend('js');

describe.each(['small', 'full'] as const)('model file size at 90 percent sparsity, %s preset Transformer', (preset) => {
  it('the CSR file is at most 20% of the dense file', () => {
    const cfg = defaultConfig(7, { ...PRESETS[preset] });
    const model = createModel('Transformer', new Rng(1), cfg);
    const params = model.namedParameters();
    const all = params.reduce((a, [, p]) => a + p.size, 0);
    const masked = params.filter(([, p]) => p.rank >= 2).reduce((a, [, p]) => a + p.size, 0);
    // Density of the masked weights that leaves Σnnz = 10% of all trainable parameters.
    const density = (0.1 * all - (all - masked)) / masked;
    const rng = new Rng(2);
    let nnz = all - masked;
    const weights: WeightInput[] = params.map(([name, p]) => {
      const data = Float32Array.from(p.dataSync() as Float32Array);
      if (p.rank < 2) return { name, shape: [...p.shape], data };
      const mask = Uint8Array.from(rng.uniform(p.size), (u) => (u < density ? 1 : 0));
      for (let i = 0; i < data.length; i++) if (!mask[i]) data[i] = 0;
      nnz += mask.reduce((a, v) => a + v, 0);
      return { name, shape: [...p.shape], data, mask };
    });
    const config: ModelConfigInput = {
      model: 'Transformer', cfg: { ...cfg }, features: 'M', target: 'OT',
      scaler: { mean: Array(7).fill(0), std: Array(7).fill(1), columns: ['a', 'b', 'c', 'd', 'e', 'f', 'OT'] },
      timeFeatures: { encoding: 'timeF', freq: 'h', count: 4 },
    };
    const sparseFile = writeModelFile(config, weights);
    const denseFile = writeModelFile(config, weights, { csrThreshold: 0 });
    const sparsity = 1 - nnz / all;
    const ratio = sparseFile.length / denseFile.length;
    console.log(`${preset}: sparsity ${sparsity.toFixed(4)}, dense file ${denseFile.length} B, CSR file ${sparseFile.length} B, ratio ${ratio.toFixed(4)}`);
    expect(Math.abs(sparsity - 0.9)).toBeLessThan(0.002);
    expect(readModelFile(sparseFile).csr.size).toBeGreaterThan(0);
    expect(readModelFile(denseFile).csr.size).toBe(0);
    expect(ratio).toBeLessThanOrEqual(0.2);
    model.dispose();
  }, 120_000);
});
