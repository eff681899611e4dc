/**
 * Deno runner for the wasm thread pool (test/shared/threads-check.ts: Deno's node:worker_threads, 2 threads
 * against one, bit for bit), then leaves a pool open to show it does not keep Deno alive. Prints one JSON line
 * {runtime, threads, checks, mismatches}; test/wasm-threads.test.ts runs it:
 *
 *     npx deno run --no-prompt --no-config test/deno/threads.ts
 */
import { threadsCheck } from '../shared/threads-check.ts';
import { createWasmBackend } from '../../src/backend/wasm/backend.ts';

declare const Deno: { version: { deno: string } };

const r = await threadsCheck();
// A second pool that is never disposed: the process must still exit (the caller's time-out catches a hang).
const leftOpen = await createWasmBackend({ threads: 2, threadSplitAll: true });
const x = leftOpen.upload(new Float32Array(100));
leftOpen.free(leftOpen.kernels.unary('exp', x));
leftOpen.free(x);
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, ...r }));
