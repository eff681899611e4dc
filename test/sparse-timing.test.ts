// The CLI's sparse-execution timing (sparseExecutionTimes in src/cli/train-command.ts): dense and sparse timed in
// the same rounds, and the event loop turned between rounds — a full-size model's rounds take seconds, and a
// worker's lock renewal or a Ctrl-C must not wait for all of them. Fakes stand in for the model: only the order
// of calls and the event loop are under test here (the real paths are tested in sparse-exec / sparse-formats).
import { describe, expect, it } from 'vitest';
import { sparseExecutionTimes, type TimedWorkloads } from '../src/cli/train-command.ts';
import type { ForecastDataset, Batch } from '../src/data/forecast-dataset.ts';
import type { SparseExecution } from '../src/sparse/sparse-exec.ts';

describe('sparseExecutionTimes', () => {
  it('interleaves dense and sparse in every round and turns the event loop between rounds', async () => {
    let mode = 'auto';
    const calls: string[] = [];
    let turns = 0;
    let timing = false;
    // A macrotask queued again and again while the timing runs: how many ran during it.
    const tick = () => {
      if (!timing) return;
      turns++;
      setImmediate(tick);
    };
    const ex = {
      layers: new Map([['w', { opts: { mode: 'auto' } }]]),
      setOptions: (o: { mode: string }) => (mode = o.mode),
      guard: async () => ({ fell_back: false }),
      paths: () => ({ w: 'csr' }),
      sparseLayers: () => ({ csr: 1 }),
      shared: { trialMs: 0, trialCpuMs: 0 },
    } as unknown as SparseExecution;
    const batch = (n: number): Batch => ({ size: n, x: new Float32Array(0), y: new Float32Array(0), xMark: new Float32Array(0), yMark: new Float32Array(0) });
    const ds = { count: () => 64, batch: (_: string, ids: ArrayLike<number>) => batch(ids.length) } as unknown as ForecastDataset;
    const work: TimedWorkloads = {
      sparseExec: ex,
      predict: async (b) => void calls.push(`predict${b.size}:${mode}`),
      lossAndGradients: (b) => void calls.push(`step${b.size}:${mode}`),
    };
    timing = true;
    setImmediate(tick);
    const r = await sparseExecutionTimes(work, ds, 32);
    timing = false;
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['infer_ms_dense', 'infer_ms_sparse', 'infer_b1_ms_dense', 'step_ms_sparse', 'sparse_layers']));
    // 5 + 21 + 5 rounds, each one dense and one sparse call, after a warm-up of each: the event loop turned in each.
    expect(turns).toBeGreaterThanOrEqual(5 + 21 + 5);
    const b1 = calls.filter((c) => c.startsWith('predict1:'));
    expect(b1.filter((c) => c.endsWith(':dense'))).toHaveLength(22);
    expect(b1.filter((c) => c.endsWith(':auto'))).toHaveLength(22);
    expect(mode).toBe('auto'); // the mode it found is restored
  });
});
