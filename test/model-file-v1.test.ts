/**
 * Version-1 model files still load. test/fixtures/infer/synthetic-v1.sc was written by the version-1 writer
 * (commit 084806e, the synthetic model of that time: random 30 % masks, every masked weight below the threshold
 * as CSR). It must read as the same weights, run through the same paths, and forecast the same bits as the
 * version-2 file the current writer makes of those weights (its own encodings: bitmask at 30 % density).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModelFile, writeModelFile, type ModelConfigInput, type WeightInput } from '../src/io/model-file.ts';
import { loadForecaster } from '../src/infer/index.ts';

const v1 = new Uint8Array(readFileSync(new URL('./fixtures/infer/synthetic-v1.sc', import.meta.url)));

describe('model file version 1', () => {
  it('loads, and forecasts what the version-2 file of the same weights forecasts, bit for bit', async () => {
    const old = readModelFile(v1);
    expect(old.config.formatVersion).toBe(1);
    expect(old.csr.size).toBe(21);
    expect([...old.csr.values()].every((c) => c.encoding === 'csr')).toBe(true);
    // The same weights through the current writer: dense ones as they are, CSR ones with their pattern as mask.
    const weights: WeightInput[] = [...old.dense].map(([name, d]) => ({ name, shape: d.shape, data: d.data }));
    for (const [name, c] of old.csr) {
      const data = new Float32Array(c.rows * c.cols);
      const mask = new Uint8Array(c.rows * c.cols);
      for (let r = 0; r < c.rows; r++) {
        for (let p = c.rowPtr[r]!; p < c.rowPtr[r + 1]!; p++) {
          data[r * c.cols + c.colIdx[p]!] = c.values[p]!;
          mask[r * c.cols + c.colIdx[p]!] = 1;
        }
      }
      weights.push({ name, shape: c.shape, data, mask });
    }
    const { format: _f, formatVersion: _v, sparsecast: _s, sparse: _p, csrThreshold, ...rest } = old.config;
    const now = writeModelFile(rest as ModelConfigInput, weights, { csrThreshold });
    const cur = readModelFile(now);
    expect(cur.config.formatVersion).toBe(2);
    expect(now.length, 'the version-2 file is smaller').toBeLessThan(v1.length);
    console.log(`version 1: ${v1.length} B (CSR); version 2: ${now.length} B (${[...cur.csr.values()].map((c) => c.encoding).join(', ')})`);
    for (const [name, c] of old.csr) {
      const d = cur.csr.get(name)!;
      expect([...d.rowPtr], name).toEqual([...c.rowPtr]);
      expect([...d.colIdx], name).toEqual([...c.colIdx]);
      expect(Buffer.from(d.values.buffer).equals(Buffer.from(c.values.buffer)), name).toBe(true);
    }
    const values = Float32Array.from({ length: 16 * 3 }, (_, k) => 2 + Math.sin(k / 2));
    const dates = Array.from({ length: 16 }, (_, k) => `2021-05-0${1 + Math.floor(k / 24)} ${String(k % 24).padStart(2, '0')}:00:00`);
    const a = await loadForecaster(v1);
    const b = await loadForecaster(now);
    const ya = a.forecast({ values, dates });
    const yb = b.forecast({ values, dates });
    // Every weight takes the path it took: below the threshold a weight stays sparse (CSR kernel, or expanded
    // where the model reads it whole), whatever its encoding.
    expect(new Map(b.layers)).toEqual(new Map(a.layers));
    expect(cur.csr.size).toBe(21);
    a.dispose();
    b.dispose();
    expect(ya.every(Number.isFinite)).toBe(true);
    expect(Buffer.from(yb.buffer).equals(Buffer.from(ya.buffer))).toBe(true);
  });
});
