/**
 * Kernel conformance in Node: every contract kernel on `wasm` against the `js` reference (and `js` against a
 * second `js` instance, which checks that every case runs and is deterministic). Prints the worst error per
 * kernel; the metric and tolerances are documented in test/conformance/run.ts.
 */
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES } from '../src/backend/kernels.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { conformanceRowNames } from './conformance/cases.ts';
import { baseKernel } from './conformance/cases.ts';
import { runConformance, type Row } from './conformance/run.ts';

const runtime = `node ${process.version}`;

function report(title: string, rows: Row[]): void {
  const table: Record<string, { cases: number; maxRelErr: string; limit: string; ok: string; worst: string }> = {};
  for (const r of rows) {
    table[r.kernel] = {
      cases: r.cases,
      maxRelErr: r.maxRelErr === 0 ? '0' : r.maxRelErr.toExponential(2),
      limit: r.limit === undefined ? '' : r.limit === 0 ? 'exact' : r.limit.toExponential(1),
      ok: r.ok ? 'ok' : 'FAIL',
      worst: r.ok ? (r.maxRelErr > 0 ? (r.worst ?? '') : '') : (r.error ?? ''),
    };
  }
  console.log(`conformance: ${title} (${runtime})`);
  console.table(table);
}

const failures = (rows: Row[]): string[] => rows.filter((r) => !r.ok).map((r) => `${r.backend}:${r.kernel}: ${r.error}`);

describe('kernel conformance', () => {
  it('covers every kernel of the contract, and every op variant', () => {
    const names = conformanceRowNames();
    expect([...new Set(names.map(baseKernel))].sort()).toEqual([...KERNEL_NAMES].sort());
    for (const [family, ops] of Object.entries({
      unary: ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'gelu', 'elu', 'sin', 'cos', 'erf', 'square', 'reciprocal', 'floor'],
      binary: ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min'],
      compare: ['eq', 'ne', 'lt', 'le', 'gt', 'ge'],
      reduce: ['sum', 'mean', 'max', 'min'],
    })) {
      for (const op of ops) expect(names).toContain(`${family}:${op}`);
    }
  });

  it('js matches a second js instance (every case runs, deterministically)', () => {
    const rows = runConformance(createJsBackend(), createJsBackend(), runtime);
    report('js vs js', rows);
    expect(rows.map((r) => r.kernel).sort()).toEqual(conformanceRowNames().sort());
    expect(failures(rows)).toEqual([]);
    for (const r of rows) expect(r.maxRelErr, r.kernel).toBe(0);
  });

  it('wasm matches js within tolerance', () => {
    const rows = runConformance(createWasmBackendSync(), createJsBackend(), runtime);
    report('wasm vs js', rows);
    expect(new Set(rows.map((r) => baseKernel(r.kernel)))).toEqual(new Set(KERNEL_NAMES));
    expect(failures(rows)).toEqual([]);
  });
});
