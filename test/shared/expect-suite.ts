/**
 * Node-side checks shared by test/deno.test.ts and test/browser.test.ts: a suite result from another runtime must
 * have every conformance row ok, cover the whole contract, and give kernel outputs (per-row hashes) and tiny-run
 * results bit-identical to the same suite run in this Node process.
 */
import { expect, it } from 'vitest';
import { KERNEL_NAMES } from '../../src/backend/kernels.ts';
import { baseKernel } from '../conformance/cases.ts';
import { runSuite, type SuiteResult } from './suite.ts';

/** The same suite in this Node process: the baseline other runtimes must match bit for bit. */
export function nodeSuite(): Promise<SuiteResult> {
  return runSuite(`node ${process.version}`);
}

export function printRows(result: SuiteResult): void {
  const table: Record<string, Record<string, string>> = {};
  for (const r of result.rows) {
    const e = typeof r.maxRelErr === 'number' ? r.maxRelErr : Number(r.maxRelErr);
    (table[r.kernel] ??= {})[r.backend] = r.ok ? (e === 0 ? '0' : e.toExponential(2)) : `FAIL: ${r.error ?? ''}`.slice(0, 80);
  }
  console.log(`conformance in ${result.runtime}: ${result.summary.ok}/${result.summary.kernels} rows ok`);
  console.table(table);
}

export const SUITE_BACKENDS = ['js', 'wasm'] as const;

/** Every row of `backend` ok, and its rows cover the whole contract. */
export function expectRowsOk(result: SuiteResult, backend: string): void {
  expect(result.error, 'suite error').toBeUndefined();
  const rows = result.rows.filter((r) => r.backend === backend);
  const covered = new Set(rows.map((r) => baseKernel(r.kernel)));
  expect([...covered].sort(), `kernels covered on ${backend} in ${result.runtime}`).toEqual([...KERNEL_NAMES].sort());
  const failed = rows.filter((r) => !r.ok).map((r) => `${r.backend}:${r.kernel}: ${r.error}`);
  expect(failed, `failed rows in ${result.runtime}`).toEqual([]);
}

/** The tiny run on `backend` gives the same loss bits and parameter hash as in Node. */
export function expectTinyIdentical(result: SuiteResult, node: SuiteResult, backend: string): void {
  const there = result.tiny.find((t) => t.backend === backend);
  const here = node.tiny.find((t) => t.backend === backend);
  expect(here?.error, `tiny run on ${backend} in Node`).toBeUndefined();
  expect(there?.error, `tiny run on ${backend} in ${result.runtime}`).toBeUndefined();
  const a = there!.result!;
  const b = here!.result!;
  expect(a.leakedTensors, `tiny run on ${backend} in ${result.runtime} leaked tensors`).toBe(0);
  expect(
    { finalLossBits: a.finalLossBits, paramHash: a.paramHash, lossBits: a.lossBits },
    `tiny run on ${backend}: ${result.runtime} vs Node`,
  ).toEqual({ finalLossBits: b.finalLossBits, paramHash: b.paramHash, lossBits: b.lossBits });
}

/**
 * The tiny run on `backend` in `result` (webgpu: not bit-identical to the CPU backends) gives every step's loss
 * within `rel` (relative) of `reference`'s losses in the same result, and leaks no tensor.
 */
export function expectTinyClose(result: SuiteResult, backend: string, reference: string, rel = 1e-4): void {
  const a = result.tiny.find((t) => t.backend === backend);
  const b = result.tiny.find((t) => t.backend === reference);
  expect(a?.error, `tiny run on ${backend} in ${result.runtime}`).toBeUndefined();
  expect(b?.error, `tiny run on ${reference} in ${result.runtime}`).toBeUndefined();
  const la = a!.result!.lossBits.map(bitsToF32);
  const lb = b!.result!.lossBits.map(bitsToF32);
  expect(la.length).toBe(lb.length);
  const bad = la.flatMap((v, i) => (Math.abs(v - lb[i]!) <= rel * Math.abs(lb[i]!) ? [] : [`step ${i}: ${v} vs ${lb[i]}`]));
  expect(bad, `tiny-run losses on ${backend} vs ${reference} in ${result.runtime} (rel ${rel})`).toEqual([]);
  expect(a!.result!.leakedTensors, `tiny run on ${backend} in ${result.runtime} leaked tensors`).toBe(0);
}

function bitsToF32(hex: string): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, parseInt(hex, 16), true);
  return dv.getFloat32(0, true);
}

/** Every kernel row of `backend` produced the same output bytes as in Node (rows that ran in both). */
export function expectSameOutputs(result: SuiteResult, node: SuiteResult, backend: string): void {
  const nodeRows = new Map(node.rows.filter((r) => r.backend === backend).map((r) => [r.kernel, r]));
  const differ: string[] = [];
  for (const r of result.rows.filter((x) => x.backend === backend)) {
    const n = nodeRows.get(r.kernel);
    if (!n || !r.ok || !n.ok) continue;
    if (r.hash !== n.hash) differ.push(`${backend}:${r.kernel}: ${result.runtime} ${r.hash} vs Node ${n.hash}`);
  }
  expect(differ, `kernel outputs on ${backend} that differ between ${result.runtime} and Node`).toEqual([]);
}

/**
 * The checks every other runtime's suite result must pass, as `it` blocks in the caller's describe:
 * `get` returns the result and the Node baseline, or throws the setup error (a failure, never a skip).
 */
export function runtimeChecks(runtime: string, runtimePattern: RegExp, get: () => { result: SuiteResult; node: SuiteResult }): void {
  it(`runs the suite in ${runtime}`, () => {
    expect(get().result.runtime).toMatch(runtimePattern);
  });

  it.each(SUITE_BACKENDS)(`passes every conformance row on %s (against js) in ${runtime}`, (backend) => {
    expectRowsOk(get().result, backend);
  });

  it('passes every conformance row on the relaxed-SIMD wasm build (runs where the runtime supports it)', () => {
    const { result } = get();
    if (result.relaxedSimd) expectRowsOk(result, 'wasm-relaxed');
    else expect(result.rows.filter((r) => r.backend === 'wasm-relaxed')).toEqual([]);
  });

  it.each(SUITE_BACKENDS)('gives kernel outputs on %s bit-identical to Node', (backend) => {
    const { result, node } = get();
    expectSameOutputs(result, node, backend);
  });

  it.each(SUITE_BACKENDS)('gives tiny-run results on %s bit-identical to Node', (backend) => {
    const { result, node } = get();
    expectTinyIdentical(result, node, backend);
  });

  it(`passes every conformance row on webgpu (against js, async runner) in ${runtime}`, () => {
    const { result } = get();
    console.log(`webgpu in ${result.runtime}: adapter ${result.webgpu?.adapter ?? '(none)'}, ${result.webgpu?.ms ?? '?'} ms`);
    expect(result.webgpu?.error, 'webgpu backend').toBeUndefined();
    expectRowsOk(result, 'webgpu');
  });

  it(`trains the tiny run on webgpu with every loss within 1e-4 (relative) of wasm in ${runtime}`, () => {
    expectTinyClose(get().result, 'webgpu', 'wasm', 1e-4);
  });
}
