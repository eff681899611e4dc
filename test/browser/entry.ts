/**
 * Chromium entry: the same suite as the Deno runner (conformance of js, wasm and webgpu — SwiftShader's adapter
 * under --enable-unsafe-webgpu — and the tiny run on each), bundled by
 * esbuild at test time. The result lands in `window.__results` (or `{ error }` when the suite itself throws).
 */
import { runSuite, type SuiteResult } from '../shared/suite.ts';

declare global {
  interface Window {
    __results?: SuiteResult | { error: string };
  }
}

const ua = navigator.userAgent.match(/(?:Headless)?Chrome\/([\d.]+)/);
const runtime = `chromium ${ua ? ua[1] : navigator.userAgent}`;

runSuite(runtime, { webgpu: true }).then(
  (r) => {
    window.__results = r;
    document.body.textContent = `done: ${r.summary.ok}/${r.summary.kernels} rows ok`;
  },
  (e: unknown) => {
    window.__results = { error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) };
    document.body.textContent = 'failed';
  },
);
