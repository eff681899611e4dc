/**
 * `npm run bench -- <name> [--json] [--backend wasm|js|webgpu] [--runs N]`
 *   matmul  GEMM GFLOP/s: sparsecast wasm (default and relaxed builds), tfjs-backend-wasm, plain JS
 *   block   one Transformer encoder block training step, sparsecast vs tfjs-backend-wasm
 *   train   training step and eval batch of each forecasting model (ETTh1, small or full preset)
 *   sparsity  CSR vs dense-masked GEMM swept over density for the presets' layer shapes (bench/sparsity.ts;
 *             `--preset small|full|all`, `--svg PATH`), with the crossover and an SVG plot; with `--train`
 *             a Transformer training step and inference at `--density` (default 0.1), dense vs CSR execution
 *   attention  fused vs unfused attention, forward and forward+backward, at the Transformer's shapes
 *             (bench/attention.ts; `--preset small|full|all`, `--backend wasm|js|webgpu`)
 * `--backend webgpu` (matmul, block: bench/webgpu.ts) adds the adapter to each line; block takes `--small` /
 * `--full`, and on a software adapter runs a reduced shape unless `--full` is given.
 * Prints one JSON object per line with --json. Node runs with --experimental-wasm-relaxed-simd (see
 * package.json) so the relaxed build can be measured.
 */
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { createWasmBackend, relaxedSimdSupported } from '../src/backend/wasm/backend.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { benchBlock } from './block.ts';
import { benchMatmul } from './matmul.ts';
import { benchTrain } from './train.ts';

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('--'));
const json = args.includes('--json');
const flag = (f: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = flag('--runs') ? Number(flag('--runs')) : undefined;
const backend = flag('--backend');

engine.registerBackend(createJsBackend());
engine.registerBackend(await createWasmBackend());
engine.useBackend('wasm');

switch (name) {
  case 'matmul':
    if (backend === 'webgpu') {
      const { benchMatmulWebGpu } = await import('./webgpu.ts');
      await benchMatmulWebGpu({ json, runs });
      process.exit(0); // a GPU device can keep the event loop alive
    }
    await benchMatmul({ json, backend });
    break;
  case 'block': {
    if (backend === 'webgpu') {
      const { benchBlockWebGpu } = await import('./webgpu.ts');
      await benchBlockWebGpu({ json, runs, small: args.includes('--small'), full: args.includes('--full') });
      process.exit(0);
    }
    const impls = backend && backend !== 'wasm' ? [`sparsecast-${backend}`] : ['sparsecast-wasm', 'tfjs-backend-wasm'];
    await benchBlock({ json, runs, impls });
    if (!backend || backend === 'wasm') {
      if (relaxedSimdSupported()) {
        engine.registerBackend(await createWasmBackend({ relaxed: true }));
        await benchBlock({ json, runs, impls: ['sparsecast-wasm-relaxed'] });
      } else if (!json) {
        console.log('relaxed SIMD not supported by this runtime; skipping the relaxed build');
      }
    }
    break;
  }
  case 'train': {
    const preset = flag('--preset') as 'small' | 'full' | undefined;
    const models = flag('--models')?.split(',');
    await benchTrain({ json, backend, preset, models, runs });
    break;
  }
  case 'sparsity': {
    const { benchSparsity } = await import('./sparsity.ts');
    if (args.includes('--train')) {
      const { benchSparseTraining } = await import('./sparsity.ts');
      const density = flag('--density') ? Number(flag('--density')) : undefined;
      await benchSparseTraining({ json, backend, runs, density, preset: flag('--preset') as 'small' | 'full' | undefined, batch: flag('--batch') ? Number(flag('--batch')) : undefined });
      break;
    }
    await benchSparsity({ json, backend, runs, preset: flag('--preset'), svg: flag('--svg'), densities: flag('--densities')?.split(',').map(Number) });
    break;
  }
  case 'attention': {
    const { benchAttention } = await import('./attention.ts');
    if (backend === 'webgpu') {
      const { createWebGpuBackend } = await import('../src/backend/webgpu/backend.ts');
      engine.registerBackend(await createWebGpuBackend());
    }
    await benchAttention({ json, backend, runs, preset: flag('--preset') as 'small' | 'full' | 'all' | undefined });
    if (backend === 'webgpu') process.exit(0);
    break;
  }
  default:
    console.error(`bench: unknown benchmark '${name ?? ''}' (choose: matmul, block, train, sparsity, attention)`);
    process.exit(2);
}
