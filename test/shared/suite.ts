/**
 * The cross-runtime suite: conformance of `js` (against a second `js`) and `wasm` (against `js`), and the tiny
 * training run on both. Runtime-neutral (no node: imports); test/deno/run.ts and test/browser/entry.ts call it,
 * and the Node tests compare their output with the same functions run in Node.
 *
 * With `{ webgpu: true }` (Deno, Chromium) the `webgpu` backend is added: its conformance rows through the async
 * runner and its tiny run (whose losses the Node side compares with wasm's within 1e-4 relative: GPU arithmetic
 * is not bit-identical to the CPU backends). The shader map (src/backend/webgpu/generated, from
 * scripts/build-shaders.mjs) must exist; the Node test drivers generate it first.
 */
import type { Backend } from '../../src/backend/kernels.ts';
import { createJsBackend } from '../../src/backend/js/backend.ts';
import { createWasmBackend, relaxedSimdSupported } from '../../src/backend/wasm/backend.ts';
import { runConformance, runConformanceAsync, summarize, type Row } from '../conformance/run.ts';
import { tinyRun, type TinyRunResult } from './tiny-run.ts';

export interface TinyRunOutcome {
  backend: string;
  result?: TinyRunResult;
  error?: string;
}

export interface SuiteResult {
  runtime: string;
  rows: Row[];
  summary: ReturnType<typeof summarize>;
  tiny: TinyRunOutcome[];
  /**
   * Whether this runtime accepts relaxed-SIMD wasm; when it does, the opt-in relaxed build is checked too (rows
   * with backend `wasm-relaxed`: within tolerance, not bit-identical, since FMA contraction is allowed to vary).
   */
  relaxedSimd: boolean;
  /** Set when the suite itself could not run (e.g. a backend failed to load). */
  error?: string;
  /** With `webgpu: true`: the adapter used (or why none could be had), and how long its rows took. */
  webgpu?: { adapter?: string; error?: string; ms?: number };
}

export interface SuiteOptions {
  /** Also run the webgpu backend (conformance rows and the tiny run). */
  webgpu?: boolean;
}

const message = (e: unknown): string => (e instanceof Error ? `${e.message}` : String(e));

async function makeBackend(name: 'js' | 'wasm'): Promise<Backend> {
  return name === 'js' ? createJsBackend() : createWasmBackend();
}

export async function runSuite(runtime: string, opts: SuiteOptions = {}): Promise<SuiteResult> {
  const rows: Row[] = [];
  const tiny: TinyRunOutcome[] = [];
  const names = ['js', 'wasm'] as const;
  for (const name of names) {
    let backend: Backend;
    try {
      backend = await makeBackend(name);
    } catch (e) {
      rows.push({ kernel: '(backend)', backend: name, runtime, cases: 0, maxRelErr: 0, ok: false, error: `cannot create backend: ${message(e)}` });
      tiny.push({ backend: name, error: `cannot create backend: ${message(e)}` });
      continue;
    }
    rows.push(...runConformance(backend, createJsBackend(), runtime));
    try {
      tiny.push({ backend: name, result: await tinyRun(await makeBackend(name)) });
    } catch (e) {
      tiny.push({ backend: name, error: message(e) });
    }
  }
  const relaxedSimd = relaxedSimdSupported();
  const backends: string[] = [...names];
  if (relaxedSimd) {
    backends.push('wasm-relaxed');
    try {
      const relaxed = await createWasmBackend({ relaxed: true });
      rows.push(...runConformance(relaxed, createJsBackend(), runtime, undefined, 'wasm-relaxed'));
    } catch (e) {
      rows.push({ kernel: '(backend)', backend: 'wasm-relaxed', runtime, cases: 0, maxRelErr: 0, ok: false, error: `cannot create backend: ${message(e)}` });
    }
  }
  let webgpu: SuiteResult['webgpu'];
  if (opts.webgpu) {
    backends.push('webgpu');
    webgpu = await runWebGpu(runtime, rows, tiny);
  }
  return { runtime, rows, summary: summarize(rows, runtime, backends), tiny, relaxedSimd, ...(webgpu ? { webgpu } : {}) };
}

async function runWebGpu(runtime: string, rows: Row[], tiny: TinyRunOutcome[]): Promise<NonNullable<SuiteResult['webgpu']>> {
  const t0 = Date.now();
  let backend: Backend & { rt: { description: string }; destroy(): void };
  try {
    const { createWebGpuBackend } = await import('../../src/backend/webgpu/backend.ts');
    backend = await createWebGpuBackend({ tuneMatmul: false });
  } catch (e) {
    const error = `cannot create backend: ${message(e)}`;
    rows.push({ kernel: '(backend)', backend: 'webgpu', runtime, cases: 0, maxRelErr: 0, ok: false, error });
    tiny.push({ backend: 'webgpu', error });
    return { error };
  }
  try {
    rows.push(...(await runConformanceAsync(backend, createJsBackend(), runtime)));
    try {
      tiny.push({ backend: 'webgpu', result: await tinyRun(backend) });
    } catch (e) {
      tiny.push({ backend: 'webgpu', error: message(e) });
    }
    return { adapter: backend.rt.description, ms: Date.now() - t0 };
  } finally {
    backend.destroy();
  }
}
