/**
 * `npm run conformance -- [--json] [--backend wasm|js|wasm-relaxed|webgpu|all]`: the kernel conformance suite
 * in Node. `all` is the CPU backends (js, wasm, and wasm-relaxed where supported); `webgpu` (Dawn in Node,
 * lavapipe without a GPU; scripts/setup-webgpu.sh) runs through async reads and only when asked for.
 * `wasm-relaxed` is the opt-in relaxed-SIMD build (Node 20: node --experimental-wasm-relaxed-simd
 * --import tsx scripts/conformance.ts --backend wasm-relaxed);
 * `all` includes it when the runtime supports relaxed SIMD.
 * Each backend is compared against a fresh `js` backend (the reference; `js` against itself is a sanity check
 * that every case runs). With --json: one JSON object per (kernel, backend) per line, then a summary line
 * {"summary":true,"runtime","backends","kernels","ok","failed"}; without it, a readable table.
 * Exit code 1 when any row failed.
 */
import type { Backend } from '../src/backend/kernels.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync, relaxedSimdSupported } from '../src/backend/wasm/backend.ts';
import { conformanceRowNames } from '../test/conformance/cases.ts';
import {
  rowToJson, runConformance, runConformanceAsync, summarize, uncoveredKernels, type Row,
} from '../test/conformance/run.ts';

function usage(msg?: string): never {
  if (msg) console.error(`conformance: ${msg}`);
  console.error('usage: npm run conformance -- [--json] [--backend wasm|js|wasm-relaxed|webgpu|all]');
  process.exit(2);
}

const args = process.argv.slice(2);
let json = false;
let which = 'all';
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--json') json = true;
  else if (a === '--backend') which = args[++i] ?? usage('--backend needs a value');
  else if (a.startsWith('--backend=')) which = a.slice('--backend='.length);
  else if (a === '--help' || a === '-h') usage();
  else usage(`unknown argument ${a}`);
}
if (!['wasm', 'js', 'wasm-relaxed', 'webgpu', 'all'].includes(which)) usage(`unknown backend '${which}'`);

const runtime = `node ${process.version}`;
const backends: Array<[string, () => Backend | Promise<Backend>]> = [];
if (which === 'js' || which === 'all') backends.push(['js', () => createJsBackend()]);
if (which === 'wasm' || which === 'all') backends.push(['wasm', () => createWasmBackendSync()]);
if (which === 'wasm-relaxed' || (which === 'all' && relaxedSimdSupported())) {
  backends.push(['wasm-relaxed', () => {
    if (!relaxedSimdSupported()) {
      throw new Error('this runtime rejects relaxed-SIMD wasm (Node 20: node --experimental-wasm-relaxed-simd --import tsx scripts/conformance.ts --backend wasm-relaxed)');
    }
    return createWasmBackendSync({ relaxed: true });
  }]);
}

if (which === 'webgpu') {
  backends.push(['webgpu', async () => {
    // Generated shader map (git-ignored) first, as test/webgpu.test.ts does; a bundle (scripts/gpu/bundle.mjs)
    // already holds the map it was built with.
    if (process.env.SPARSECAST_BUNDLED !== '1') {
      const { execFileSync } = await import('node:child_process');
      execFileSync(process.execPath, [new URL('./build-shaders.mjs', import.meta.url).pathname], { stdio: 'ignore' });
    }
    const { createWebGpuBackend } = await import('../src/backend/webgpu/backend.ts');
    return createWebGpuBackend();
  }]);
}

const rows: Row[] = [];
for (const [name, make] of backends) {
  let backend: Backend;
  try {
    backend = await make();
  } catch (e) {
    rows.push({ kernel: '(backend)', backend: name, runtime, cases: 0, maxRelErr: 0, ok: false, error: `cannot create backend: ${(e as Error).message}` });
    continue;
  }
  if (backend.readSync) {
    rows.push(...runConformance(backend, createJsBackend(), runtime, undefined, name));
  } else {
    rows.push(...(await runConformanceAsync(backend, createJsBackend(), runtime, undefined, name)));
    (backend as { destroy?: () => void }).destroy?.();
  }
}

const uncovered = uncoveredKernels(conformanceRowNames());
const summary = summarize(rows, runtime, backends.map(([n]) => n));
if (uncovered.length > 0) summary.failed.push(...uncovered.map((k) => `uncovered:${k}`));

if (json) {
  for (const r of rows) console.log(rowToJson(r));
  console.log(JSON.stringify(summary));
} else {
  const fmtErr = (e: number) => (e === 0 ? '0' : e.toExponential(2));
  const table = rows.map((r) => ({
    kernel: r.kernel,
    backend: r.backend,
    cases: r.cases,
    maxRelErr: fmtErr(r.maxRelErr),
    limit: r.limit === undefined ? '' : r.limit === 0 ? 'exact' : r.limit.toExponential(1),
    ok: r.ok ? 'ok' : 'FAIL',
    note: r.ok ? (r.maxRelErr > 0 ? `worst: ${r.worst ?? ''}` : '') : (r.error ?? ''),
  }));
  const cols = ['kernel', 'backend', 'cases', 'maxRelErr', 'limit', 'ok', 'note'] as const;
  const width = cols.map((c) => Math.max(c.length, ...table.map((t) => String(t[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === cols.length - 1 ? v : v.padEnd(width[i]!))).join('  ');
  console.log(line([...cols]));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const t of table) console.log(line(cols.map((c) => String(t[c]))));
  console.log();
  console.log(`${runtime}: ${summary.ok}/${summary.kernels} rows ok over backends ${summary.backends.join(', ')}`);
  if (summary.failed.length > 0) console.log(`failed: ${summary.failed.join(', ')}`);
}
// Exit explicitly: a GPU device can keep the event loop alive.
process.exit(summary.failed.length > 0 ? 1 : 0);
