// The developers' benchmark runner (`npm run bench -- <name>`): a flag its benchmark does not read, a typo or a
// bad number is refused with exit 2 before anything runs, instead of running something other than what was asked.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', 'bench/run.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench runner flags', () => {
  it.each([
    [['matmul', '--svg', 'x.svg'], /'matmul' does not read --svg \(it reads .*--shapes/],
    [['sparsity', '--densitie', '0.1'], /Unknown option '--densitie'/],
    [['sparsity', '--runs', '0'], /--runs expects a positive integer, got '0'/],
    [['sparsity', '--densities', '0.5,2'], /--densities expects densities in \(0, 1\], got '2'/],
    [['fan-in', '--m', 'x'], /--m expects a positive integer, got 'x'/],
    [['block', '--full'], /--small \/ --full choose the GPU block shape: they go with --backend webgpu/],
    [['nonesuch'], /unknown benchmark 'nonesuch' \(choose: matmul, .*attention, infer\)/],
    [['matmul', 'block'], /one benchmark at a time/],
  ])('%j is refused', (args, message) => {
    const r = bench(...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it("the README's list of benchmarks is the runner's", () => {
    const listed = /`npm run bench -- ((?:[a-z-]+\|)+[a-z-]+)\s+--json`/.exec(readFileSync('README.md', 'utf8'))?.[1]?.split('|');
    const known = /\(choose: ([a-z, -]+)\)/.exec(bench('nonesuch').stderr)?.[1]?.split(', ');
    expect(listed?.sort()).toEqual(known?.sort());
  });

  it('--help prints the benchmarks and exits 0 without running one', () => {
    const r = bench('sparsity', '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^`npm run bench -- <name>/);
    expect(r.stdout).toMatch(/bsr-backward {2}the BSR 4×4 gradient products/);
  });

  it('infer: one JSON line per file through sparsecast/infer and the library, the peer said unavailable without torch', () => {
    const r = bench('infer', '--json', '--runs', '5', '--densities', '0.1');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ours = lines.filter((l) => String(l.impl).startsWith('sparsecast-infer'));
    expect(ours.map((l) => l.density)).toEqual([1, 0.1]);
    for (const l of ours) {
      expect(l).toMatchObject({ bench: 'infer', model: 'Transformer', preset: 'small', batch: 1, runs: 5 });
      expect(l.ms).toBeGreaterThan(0);
    }
    // The masked file is smaller and runs its sparse layers through the CSR kernel.
    expect(ours[1]!.file_bytes as number).toBeLessThan((ours[0]!.file_bytes as number) / 3);
    expect((ours[1]!.layers as Record<string, number>).csr).toBeGreaterThan(0);
    expect(lines.some((l) => l.impl === 'sparsecast-library (RunForecaster)')).toBe(true);
    expect(lines.filter((l) => l.impl === 'pytorch')).toHaveLength(1);
  }, 120_000);
});
