/** Backend start-up for the CLI: js always, plus the requested one. */
import { engine } from '../tensor/engine.ts';
import '../tensor/tensor.ts';
import { createJsBackend } from '../backend/js/backend.ts';
import { createWasmBackend } from '../backend/wasm/backend.ts';
import { numberFlag, type ParsedArgs } from './args.ts';

export interface InitOptions {
  /** Threads for the wasm kernels when this call creates the wasm backend (default 1). */
  threads?: number;
}

/** `--threads N` (an integer ≥ 1, default 1). */
export function threadsFlag(args: ParsedArgs): number {
  const t = numberFlag(args, 'threads', 1, true);
  if (t < 1) throw new Error(`sparsecast: --threads must be at least 1, got ${t}`);
  return t;
}

/**
 * The warning for a `--threads` the user gave to a backend that has no use for it: the threads are the wasm
 * kernels' (js runs on the main thread, webgpu on the GPU); undefined when none is due.
 */
export function threadsIgnoredWarning(args: ParsedArgs, backend: string): string | undefined {
  if (!args.flags.has('threads') || backend === 'wasm') return undefined;
  return `--threads ${args.flags.get('threads')} sets the wasm kernels' threads; --backend ${backend} runs the same without it (--backend wasm uses them)`;
}

export async function initBackend(name: string, opts: InitOptions = {}): Promise<void> {
  if (!engine.hasBackend('js')) engine.registerBackend(createJsBackend());
  if (name === 'wasm' && !engine.hasBackend('wasm')) engine.registerBackend(await createWasmBackend({ threads: opts.threads ?? 1 }));
  if (name === 'webgpu' && !engine.hasBackend('webgpu')) {
    const mod = await import('../backend/webgpu/backend.ts' as string);
    engine.registerBackend(await mod.createWebGpuBackend());
  }
  if (!['js', 'wasm', 'webgpu'].includes(name)) throw new Error(`sparsecast: unknown --backend '${name}' (js, wasm or webgpu)`);
  engine.useBackend(name);
}
