/**
 * `npm run bench -- <name> [--json] [--backend wasm|js] [--runs N]`
 *   matmul  GEMM GFLOP/s: sparsecast wasm (default and relaxed builds), tfjs-backend-wasm, plain JS
 *   block   one Transformer encoder block training step, sparsecast vs tfjs-backend-wasm
 *   train   training step and eval batch of each forecasting model (ETTh1, small or full preset)
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
    await benchMatmul({ json, backend });
    break;
  case 'block': {
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
  default:
    console.error(`bench: unknown benchmark '${name ?? ''}' (choose: matmul, block, train)`);
    process.exit(2);
}
