/**
 * The `wasm` backend: AssemblyScript SIMD kernels in one module. Loads from the embedded bytes (works
 * anywhere, no file access), from a precompiled `WebAssembly.Module` (edge runtimes that forbid compiling
 * from bytes import build/kernels.wasm as a module), or from bytes the caller supplies.
 */
import type { AnyTypedArray, Backend, DType, Kernels, Storage } from '../kernels.ts';
import { WasmRuntime } from './runtime.ts';
import { FAMILIES } from './kernels/index.ts';
import { WASM_BASE64 } from './generated/kernels.bytes.ts';
import { WASM_BASE64 as RELAXED_BASE64 } from './generated/kernels-relaxed.bytes.ts';

export interface WasmBackendOptions {
  /** Use the relaxed-SIMD FMA build (faster, not bit-reproducible across CPUs). Default false. */
  relaxed?: boolean;
  /** A compiled module (e.g. `import mod from 'sparsecast/kernels.wasm'` on edge runtimes). */
  module?: WebAssembly.Module;
  /** Raw module bytes. */
  bytes?: Uint8Array<ArrayBuffer>;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = globalThis.atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let relaxedSupport: boolean | undefined;

/** Whether this runtime accepts relaxed-SIMD wasm (validates the relaxed build itself). */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport === undefined) {
    try {
      relaxedSupport = WebAssembly.validate(decodeBase64(RELAXED_BASE64));
    } catch {
      relaxedSupport = false;
    }
  }
  return relaxedSupport;
}

export function wasmBytes(relaxed = false): Uint8Array<ArrayBuffer> {
  return decodeBase64(relaxed ? RELAXED_BASE64 : WASM_BASE64);
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly kernels: Kernels;

  constructor(readonly rt: WasmRuntime) {
    const merged: Partial<Kernels> = {};
    for (const family of FAMILIES) Object.assign(merged, family(rt));
    this.kernels = merged as Kernels;
  }

  alloc(size: number, dtype: DType): Storage {
    return this.rt.alloc(size, dtype, true);
  }

  free(s: Storage): void {
    this.rt.free(s);
  }

  upload(data: AnyTypedArray): Storage {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u8';
    const s = this.rt.alloc(data.length, dtype, false);
    this.rt.write(s, data);
    return s;
  }

  async read(s: Storage): Promise<AnyTypedArray> {
    return this.rt.read(s);
  }

  readSync(s: Storage): AnyTypedArray {
    return this.rt.read(s);
  }

  bytesInUse(): number {
    return this.rt.bytesInUse;
  }
}

function instantiateSync(module: WebAssembly.Module): WasmRuntime {
  return new WasmRuntime(new WebAssembly.Instance(module, {}));
}

/** Create the wasm backend (async: browsers refuse synchronous compilation of large modules). */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  if (opts.relaxed && !opts.module && !opts.bytes && !relaxedSimdSupported()) {
    throw new Error(
      'wasm: the relaxed-SIMD build is not supported by this runtime (Node 20 needs --experimental-wasm-relaxed-simd); use the default build',
    );
  }
  const module = opts.module ?? (await WebAssembly.compile(opts.bytes ?? wasmBytes(opts.relaxed)));
  const instance = await WebAssembly.instantiate(module, {});
  return new WasmBackend(new WasmRuntime(instance));
}

/** Synchronous variant for Node, Deno and workers. */
export function createWasmBackendSync(opts: WasmBackendOptions = {}): WasmBackend {
  const module = opts.module ?? new WebAssembly.Module(opts.bytes ?? wasmBytes(opts.relaxed));
  return new WasmBackend(instantiateSync(module));
}
