/**
 * Deno runner: the conformance suite (js vs js, wasm vs js) and the tiny training run (js, wasm), straight from the
 * TypeScript sources. Prints one JSON line: {runtime, rows, summary, tiny}. Needs no permissions:
 *
 *     npx deno run --no-prompt test/deno/run.ts
 */
import { runSuite } from '../shared/suite.ts';

declare const Deno: { version: { deno: string; v8: string } };

const result = await runSuite(`deno ${Deno.version.deno}`);
console.log(JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
