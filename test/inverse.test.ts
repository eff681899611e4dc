// TSLib's --inverse: the final test metrics on de-normalised values, the data's own units. It was refused here
// ("metrics are on normalised ones as in TSLib"), so a TSLib line with --inverse did not run. The checks: the
// arithmetic against a hand computation (M, and MS's target scale), the real binary's train and eval on one
// channel, where de-normalising multiplies the MSE by exactly that channel's training variance and the MAE by its
// standard deviation (computed here from the file), and the library options refusing a non-boolean.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitScore, denormalize, scoredChannelScale } from '../src/train/metrics.ts';
import { runCliAsync } from './shared/cli.ts';

describe('de-normalised scoring', () => {
  it('maps each channel back through its own scale, in float32 as TSLib\'s inverse_transform does', () => {
    const scale = { mean: [10, -3], std: [2, 0.5] };
    const p = Float32Array.from([0.5, 1, -1, 2]); // two steps × two channels
    const y = Float32Array.from([0, 1, -1.5, 0]);
    expect(Array.from(denormalize(p, scale))).toEqual([11, -2.5, 8, -2]);
    const inv = new SplitScore(scale);
    inv.add(p, y);
    // De-normalised truth 10, -2.5, 7, -3: errors 1, 0, 1, 1.
    expect(inv.result().metrics.mse).toBe(0.75);
    expect(inv.result().metrics.mae).toBe(0.75);
    expect(inv.result().metrics.mape).toBeCloseTo((0.1 + 0 + 1 / 7 + 1 / 3) / 4, 12);
    // MS scores the target alone: its scale is the last channel's.
    expect(scoredChannelScale({ mean: [1, 2, 3], std: [4, 5, 6] }, 'MS')).toEqual({ mean: [3], std: [6] });
    expect(scoredChannelScale(scale, 'M')).toBe(scale);
  });
});

describe('sparsecast train / eval --inverse', () => {
  it('one channel: MSE × its training variance, MAE × its standard deviation; eval --inverse reports what train did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-inverse-'));
    const run = ['train', '--data', 'data/ETTh1.csv', '--features', 'S', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16',
      '--n_heads', '2', '--e_layers', '1', '--d_ff', '32', '--train_epochs', '1', '--max_train_batches', '5'];
    const [plain, inverse] = await Promise.all([
      runCliAsync([...run, '--out', join(dir, 'plain')]),
      runCliAsync([...run, '--inverse', '--out', join(dir, 'inverse')]),
    ]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(inverse.status, inverse.stderr).toBe(0);
    const a = JSON.parse(plain.stdout.trim()) as Record<string, number | boolean>;
    const b = JSON.parse(inverse.stdout.trim()) as Record<string, number | boolean>;
    expect(a.inverse).toBeUndefined();
    expect(b.inverse).toBe(true);
    // ETTh1's OT over its 8640 training rows (ETTh split), population variance as the scaler takes it.
    const ot = readFileSync('data/ETTh1.csv', 'utf8').trim().split('\n').slice(1, 8641).map((l) => Number(l.split(',').at(-1)));
    const mean = ot.reduce((s, v) => s + v, 0) / ot.length;
    const variance = ot.reduce((s, v) => s + (v - mean) ** 2, 0) / ot.length;
    // The same training (--inverse changes only the final scoring), so the ratios are exact up to rounding.
    expect(b.best_val).toBe(a.best_val);
    expect((b.mse as number) / (a.mse as number)).toBeCloseTo(variance, 2);
    expect((b.mae as number) / (a.mae as number)).toBeCloseTo(Math.sqrt(variance), 3);
    expect((b.naive_mse as number) / (a.naive_mse as number)).toBeCloseTo(variance, 2);
    const e = await runCliAsync(['eval', '--checkpoint', join(dir, 'plain'), '--inverse']);
    expect(e.status, e.stderr).toBe(0);
    const c = JSON.parse(e.stdout.trim()) as Record<string, number | boolean>;
    expect([c.mse, c.mae, c.naive_mse, c.inverse]).toEqual([b.mse, b.mae, b.naive_mse, true]);
    expect(readFileSync(join(dir, 'inverse', 'result.json'), 'utf8')).toContain('"inverse":true');
  }, 180_000);
});

describe('the library\'s inverse option', () => {
  it('fit refuses a value that is not a boolean, naming the option', async () => {
    const { checkFitOptions } = await import('../src/train/fit-options.ts');
    // A boolean passes on to the next check (here: the missing data set); anything else stops at inverse.
    expect(() => checkFitOptions({ inverse: true } as never, 'dense')).toThrow(/^fit: data must be a data\.ForecastDataset/);
    expect(() => checkFitOptions({ inverse: 'yes' } as never, 'dense')).toThrow(/inverse/);
  });
});
