/**
 * The webgpu backend for Node test files that run a suite on every backend (gradient checks): generates the
 * shader map (git-ignored, from shaders/*.wgsl) and creates the backend once (Dawn through the npm package
 * `webgpu`; lavapipe without a GPU, see scripts/setup-webgpu.sh). Never throws: a missing adapter comes back as
 * `error`, which the webgpu tests then throw so that they FAIL with the explanation instead of being skipped.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../src/backend/kernels.ts';

let made: Promise<{ backend?: Backend; error?: unknown }> | null = null;

export function nodeWebGpu(): Promise<{ backend?: Backend; error?: unknown }> {
  made ??= (async () => {
    try {
      execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-shaders.mjs', import.meta.url))]);
      const { createWebGpuBackend } = await import('../../src/backend/webgpu/backend.ts');
      return { backend: await createWebGpuBackend({ tuneMatmul: false }) };
    } catch (error) {
      return { error };
    }
  })();
  return made;
}
