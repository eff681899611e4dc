// `sparsecast bench sparsity --train` end to end: one JSON line per execution mode, each with the batch and the
// batch-1 inference figures (field presence only: timings belong in bench/RESULTS.md, never in assertions), and
// --structure: which format each mode ran (not how fast).
import { describe, expect, it } from 'vitest';
import { runCli } from './shared/cli.ts';

describe('bench sparsity --train', () => {
  it('prints a line per mode with infer_ms and infer_b1_ms', () => {
    // Batch 2 and the fewest runs keep it light; the fields are the same at batch 32.
    const r = runCli(['bench', 'sparsity', '--train', '--json', '--runs', '3', '--batch', '2']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.mode)).toEqual(['dense', 'sparse', 'sparse-dw', 'auto']);
    for (const l of lines) {
      expect(l.bench).toBe('sparsity-train');
      expect(l.batch).toBe(2);
      for (const k of ['step_ms', 'infer_ms', 'infer_cpu_ms', 'infer_b1_ms', 'infer_b1_cpu_ms']) expect(l[k], `${l.mode} ${k}`).toBeGreaterThan(0);
      expect(Number.isInteger(l.csr_layers_infer)).toBe(true);
    }
  }, 300_000);

  it('--structure block: static 4×4-block masks, the sparse line through BSR, auto with its guard verdicts', () => {
    const r = runCli(['bench', 'sparsity', '--train', '--json', '--runs', '3', '--batch', '2', '--structure', 'block']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.mode, l.format, l.structure])).toEqual([
      ['dense', 'dense', 'block'], ['sparse', 'bsr', 'block'], ['sparse-dw', 'bsr', 'block'], ['auto', 'auto', 'block'],
    ]);
    expect(lines[0].sparse_layers_infer).toEqual({});
    expect(lines[1].sparse_layers_infer).toEqual({ bsr: lines[1].layers });
    const auto = lines[3];
    expect(auto.guard.map((g: { pass: string }) => g.pass)).toEqual(['training', 'forward', 'forward']);
    for (const g of auto.guard) expect(typeof g.fell_back).toBe('boolean');
    expect(auto.trials).toBeGreaterThan(0);
    const bad = runCli(['bench', 'sparsity', '--train', '--structure', 'blocks']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--structure/);
  }, 300_000);
});
