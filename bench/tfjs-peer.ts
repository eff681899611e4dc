/**
 * The peer library for benchmarks: @tensorflow/tfjs-backend-wasm, forced to its single-threaded SIMD build
 * so the comparison is one core against one core. Loaded lazily (dev dependency only).
 *
 * tfjs-core's Node bundle registers no gradients (the union package does that), so the peer is bundled at
 * first use with esbuild from tfjs-core's ES modules plus its `register_all_gradients` and the wasm backend,
 * sharing one tfjs-core instance.
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Tf = typeof import('@tensorflow/tfjs-core');

let ready: Promise<{ tf: Tf; binary: string; threads: number }> | null = null;

export function loadTfjsWasm(): Promise<{ tf: Tf; binary: string; threads: number }> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
    const dir = mkdtempSync(join(tmpdir(), 'sparsecast-tfjs-'));
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, [
      "export * from '@tensorflow/tfjs-core';",
      "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
      "export * as wasm from '@tensorflow/tfjs-backend-wasm';",
    ].join('\n'));
    const out = join(dir, 'tfjs.mjs');
    await build({
      entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'error',
      mainFields: ['module', 'main'], nodePaths: [join(process.cwd(), 'node_modules')],
      // The Emscripten glue is CommonJS: give it require and __dirname (its own folder, for locating files).
      banner: { js: `import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url); const __dirname = ${JSON.stringify(join(dist, 'wasm-out'))}; const __filename = __dirname + '/tfjs-backend-wasm.js';` },
    });
    const tf = (await import(pathToFileURL(out).href)) as Tf & { wasm: typeof import('@tensorflow/tfjs-backend-wasm') };
    // Rule out the threaded build: the flag makes tfjs pick tfjs-backend-wasm-simd.wasm.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    tf.wasm.setThreadsCount(1);
    tf.wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': join(dist, 'tfjs-backend-wasm.wasm'),
      'tfjs-backend-wasm-simd.wasm': join(dist, 'tfjs-backend-wasm-simd.wasm'),
      'tfjs-backend-wasm-threaded-simd.wasm': join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'),
    });
    await tf.setBackend('wasm');
    await tf.ready();
    return { tf, binary: 'tfjs-backend-wasm-simd.wasm', threads: tf.wasm.getThreadsCount() };
  })();
  return ready;
}
