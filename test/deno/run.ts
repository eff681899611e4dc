/**
 * Deno runner: the conformance suite (js vs js, wasm vs js, webgpu vs js through navigator.gpu) and the tiny
 * training run (js, wasm, webgpu), straight from the TypeScript sources. Prints one JSON line:
 * {runtime, rows, summary, tiny, webgpu}. Needs no permissions (the webgpu shader map must have been generated
 * with `node scripts/build-shaders.mjs`):
 *
 *     npx deno run --no-prompt test/deno/run.ts
 */
import { runSuite } from '../shared/suite.ts';

declare const Deno: { version: { deno: string; v8: string } };

const result = await runSuite(`deno ${Deno.version.deno}`, { webgpu: true });
console.log(JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
