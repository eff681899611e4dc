/**
 * The inference kernels (build/kernels-infer.wasm: forward kernels only) embedded as base64 (the generated
 * copy in src/backend/wasm/generated/), compiled on demand. Built as its own file (dist/infer-wasm.js) so the
 * inference entry loads it only when no `wasmModule` is passed.
 */
import { WASM_BASE64 } from '../backend/wasm/generated/kernels-infer.bytes.ts';

export function embeddedWasmModule(): Promise<WebAssembly.Module> {
  const bin = globalThis.atob(WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return WebAssembly.compile(bytes);
}
