/** Backend start-up for the CLI: js always, plus the requested one. */
import { engine } from '../tensor/engine.ts';
import '../tensor/tensor.ts';
import { createJsBackend } from '../backend/js/backend.ts';
import { createWasmBackend } from '../backend/wasm/backend.ts';

export async function initBackend(name: string): Promise<void> {
  if (!engine.hasBackend('js')) engine.registerBackend(createJsBackend());
  if (name === 'wasm' && !engine.hasBackend('wasm')) engine.registerBackend(await createWasmBackend());
  if (name === 'webgpu' && !engine.hasBackend('webgpu')) {
    const mod = await import('../backend/webgpu/backend.ts' as string);
    engine.registerBackend(await mod.createWebGpuBackend());
  }
  if (!['js', 'wasm', 'webgpu'].includes(name)) throw new Error(`sparsecast: unknown --backend '${name}' (js, wasm or webgpu)`);
  engine.useBackend(name);
}
