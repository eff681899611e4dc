/**
 * Deno runner for the wasm thread pool (test/shared/threads-check.ts: module Workers from a blob URL, 2 threads
 * against one, bit for bit). Prints one JSON line {runtime, threads, checks, mismatches};
 * test/wasm-threads.test.ts runs it:
 *
 *     npx deno run --no-prompt --no-config test/deno/threads.ts
 */
import { threadsCheck } from '../shared/threads-check.ts';

declare const Deno: { version: { deno: string } };

const r = await threadsCheck();
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, ...r }));
