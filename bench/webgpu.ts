/**
 * The webgpu benches (`npm run bench -- matmul --backend webgpu [--json]`, `npm run bench -- block --backend webgpu
 * [--json] [--small|--full]`): the same JSON lines as the CPU benches (`bench/matmul.ts`, `bench/block.ts`) with
 * impl `sparsecast-webgpu` and the adapter's description added (`"adapter":"mesa / software / llvmpipe …"`).
 *
 * Timing: a run records the work and waits for the GPU to finish it (`sync()`: submit + onSubmittedWorkDone), so
 * GPU time is counted, not just recording. The matmul tile is chosen by the backend's measured trial first.
 *
 * Software adapters (lavapipe/llvmpipe, SwiftShader, WARP: a few GFLOP/s) get reduced work, and the lines say so:
 * - matmul: the CPU benches' shapes, but 4096³ (the issue's real-GPU target shape) only on hardware adapters;
 *   `--shapes` (as the CPU bench's) runs exactly the shapes given;
 * - block: a reduced shape (batch 8, seq 48, d_model 128, 4 heads, d_ff 512) instead of the full one (batch 32,
 *   seq 96, d_model 512, 8 heads, d_ff 2048, ≈ 60 GFLOP a step). `--small` forces the reduced shape, `--full`
 *   the full one, whatever the adapter.
 */
import { engine } from '../src/tensor/engine.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { parseShapes } from './matmul.ts';
import { FULL_BLOCK, blockFlops, sparsecastStep, type BlockShape } from './block.ts';
import { emit, medianMs, random } from './stats.ts';

export const SMALL_BLOCK: BlockShape = { batch: 8, seq: 48, dModel: 128, heads: 4, dFf: 512 };

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|cpu/i;

export function isSoftwareAdapter(description: string): boolean {
  return SOFTWARE.test(description);
}

/** The webgpu backend, created and registered once (also for `bench train --backend webgpu`). */
export async function gpuBackend(): Promise<WebGpuBackend> {
  if (engine.hasBackend('webgpu')) return engine.getBackend('webgpu') as WebGpuBackend;
  // The shader map is generated from shaders/*.wgsl (git-ignored); make sure it exists and is current. A bundle
  // (scripts/gpu/bundle.mjs) already holds the map it was built with and has no build script beside it.
  if (process.env.SPARSECAST_BUNDLED !== '1') {
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [new URL('../scripts/build-shaders.mjs', import.meta.url).pathname], { stdio: 'ignore' });
  }
  const be = await createWebGpuBackend();
  if (!engine.hasBackend('webgpu')) engine.registerBackend(be);
  return be;
}

function tileName(be: WebGpuBackend): string {
  const t = be.matmul.tile;
  return `${t.BM}x${t.BN}x${t.BK}/${t.TM}x${t.TN}`;
}

/** `shapes`: the CPU bench's `--shapes` list (m×n×k, `:tA` / `:tB`), run as given; default as described above. */
export async function benchMatmulWebGpu(opts: { json: boolean; runs?: number; shapes?: string }): Promise<void> {
  const be = await gpuBackend();
  const adapter = be.rt.description;
  const software = isSoftwareAdapter(adapter);
  const shapes = parseShapes(opts.shapes);
  const skipped4096 = !opts.shapes && software;
  if (!opts.shapes && !software) shapes.push({ m: 4096, n: 4096, k: 4096, transA: false, transB: false });
  try {
    for (const { m, n, k, transA, transB } of shapes) {
      const a = be.upload(random(m * k, 1));
      const b = be.upload(random(k * n, 2));
      const aShape = transA ? [k, m] : [m, k];
      const bShape = transB ? [n, k] : [k, n];
      const run = async () => {
        be.free(be.kernels.matmul({ a, b, aShape, bShape, transA, transB }));
        await be.sync();
      };
      const ms = await medianMs(run, { warmup: software ? 1 : 3, runs: opts.runs ?? (software ? 5 : 15) });
      be.free(a);
      be.free(b);
      const flops = 2 * m * n * k;
      emit(opts.json, {
        bench: 'matmul', impl: 'sparsecast-webgpu', m, n, k, ...(transA || transB ? { transA, transB } : {}),
        ms: +ms.toFixed(3), gflops: +(flops / ms / 1e6).toFixed(2),
        adapter, tile: tileName(be), ...(skipped4096 ? { note: 'software adapter: 4096³ not run' } : {}),
      });
    }
  } finally {
    be.destroy();
  }
}

export async function benchBlockWebGpu(opts: { json: boolean; runs?: number; small?: boolean; full?: boolean }): Promise<void> {
  const be = await gpuBackend();
  const adapter = be.rt.description;
  const software = isSoftwareAdapter(adapter);
  const reduced = opts.small === true || (software && opts.full !== true);
  const s = reduced ? SMALL_BLOCK : FULL_BLOCK;
  const why = opts.small ? 'reduced shape (--small)' : 'reduced shape (software adapter; --full forces the full shape)';
  engine.useBackend('webgpu');
  const runner = sparsecastStep(s, 'webgpu');
  let loss = 0;
  try {
    const ms = await medianMs(async () => {
      loss = await runner.step();
      await be.sync();
    }, { warmup: 1, runs: opts.runs ?? 5 });
    emit(opts.json, {
      bench: 'block', impl: 'sparsecast-webgpu', ms: +ms.toFixed(1), gflops: +(blockFlops(s) / ms / 1e6).toFixed(2),
      loss: +loss.toFixed(6), ...s, adapter, ...(reduced ? { shape: why } : { shape: 'full' }),
    });
  } finally {
    runner.dispose();
    be.destroy();
  }
}
