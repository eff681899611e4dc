/**
 * The peer library for benchmarks: @tensorflow/tfjs-backend-wasm, forced to its single-threaded SIMD build
 * so the comparison is one core against one core. Loaded lazily (dev dependency only).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs-core');

let ready: Promise<{ tf: Tf; binary: string; threads: number }> | null = null;

export function loadTfjsWasm(): Promise<{ tf: Tf; binary: string; threads: number }> {
  ready ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
    // Rule out the threaded build: the flag makes tfjs pick tfjs-backend-wasm-simd.wasm.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    wasm.setThreadsCount(1);
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': join(dist, 'tfjs-backend-wasm.wasm'),
      'tfjs-backend-wasm-simd.wasm': join(dist, 'tfjs-backend-wasm-simd.wasm'),
      'tfjs-backend-wasm-threaded-simd.wasm': join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'),
    });
    await tf.setBackend('wasm');
    await tf.ready();
    return { tf, binary: 'tfjs-backend-wasm-simd.wasm', threads: wasm.getThreadsCount() };
  })();
  return ready;
}
