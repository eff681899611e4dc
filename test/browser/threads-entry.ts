/**
 * The page side of the browser thread-pool check (test/browser-threads.test.ts): on the page's main thread,
 * asking for 2 threads must fall back to one with a single console.warn (the main thread may not block); in a
 * Worker of the cross-origin-isolated page the pool must run 2 threads bit-identical to one. Publishes
 * window.__threads = { isolated, mainThreads, warnings, worker }.
 */
import { createWasmBackend } from '../../src/backend/wasm/backend.ts';

declare global {
  interface Window {
    __threads?: unknown;
  }
}

const warnings: string[] = [];
const warn = console.warn;
console.warn = (...a: unknown[]) => {
  warnings.push(a.map(String).join(' '));
  warn(...a);
};
const main = await createWasmBackend({ threads: 2 });
await createWasmBackend({ threads: 2 });
console.warn = warn;
const worker = await new Promise<unknown>((resolve) => {
  const w = new Worker('./threads-worker.js', { type: 'module' });
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ error: e.message });
});
window.__threads = { isolated: globalThis.crossOriginIsolated, mainThreads: main.threads, warnings, worker };
