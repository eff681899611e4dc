/**
 * The wasm kernel families. Each file exports `(rt: WasmRuntime) => Partial<Kernels>`; the backend merges
 * them, and the conformance suite reports any contract kernel that none of them provides.
 */
import type { Kernels } from '../../kernels.ts';
import type { WasmRuntime } from '../runtime.ts';

export type KernelFamily = (rt: WasmRuntime) => Partial<Kernels>;

export const FAMILIES: KernelFamily[] = [];
