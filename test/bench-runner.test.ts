// The developers' benchmark runner (`npm run bench -- <name>`): a flag its benchmark does not read, a typo or a
// bad number is refused with exit 2 before anything runs, instead of running something other than what was asked.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

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
    [['nonesuch'], /unknown benchmark 'nonesuch' \(choose: matmul, .*attention\)/],
    [['matmul', 'block'], /one benchmark at a time/],
  ])('%j is refused', (args, message) => {
    const r = bench(...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help prints the benchmarks and exits 0 without running one', () => {
    const r = bench('sparsity', '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^`npm run bench -- <name>/);
    expect(r.stdout).toMatch(/bsr-backward {2}the BSR 4×4 gradient products/);
  });
});
