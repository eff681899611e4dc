/**
 * The cross-runtime suite: conformance of `js` (against a second `js`) and `wasm` (against `js`), and the tiny
 * training run on both. Runtime-neutral (no node: imports); test/deno/run.ts and test/browser/entry.ts call it,
 * and the Node tests compare their output with the same functions run in Node.
 */
import type { Backend } from '../../src/backend/kernels.ts';
import { createJsBackend } from '../../src/backend/js/backend.ts';
import { createWasmBackend, relaxedSimdSupported } from '../../src/backend/wasm/backend.ts';
import { runConformance, summarize, type Row } from '../conformance/run.ts';
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
}

const message = (e: unknown): string => (e instanceof Error ? `${e.message}` : String(e));

async function makeBackend(name: 'js' | 'wasm'): Promise<Backend> {
  return name === 'js' ? createJsBackend() : createWasmBackend();
}

export async function runSuite(runtime: string): Promise<SuiteResult> {
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
  return { runtime, rows, summary: summarize(rows, runtime, backends), tiny, relaxedSimd };
}
