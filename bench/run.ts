/**
 * The benchmarks' runner: `npm run bench -- <name> [flags]` (HELP below is the usage; `--help` prints it).
 * Performance lives here, never as a timed assertion in a test: JSON lines, medians, the peer in the same run.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { createWasmBackend, relaxedSimdSupported } from '../src/backend/wasm/backend.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { benchBlock } from './block.ts';
import { benchMatmul } from './matmul.ts';
import { benchTrain } from './train.ts';

const HELP = `\`npm run bench -- <name> [--json] [--backend wasm|js|webgpu] [--runs N]\`
  matmul  GEMM GFLOP/s: sparsecast wasm (default and relaxed builds), tfjs-backend-wasm, plain JS; the CPU
          and our blocking per shape; \`--tune\` prints each shape's blocking trial and adds the untuned default
          build, \`--tune-table FILE\` saves the tuned blocking table (bench/matmul.ts)
  block   one Transformer encoder block training step, sparsecast vs tfjs-backend-wasm
  train   training step and eval batch of each forecasting model (ETTh1, small or full preset); \`--epoch\`
          adds one measured epoch of the Transformer, ours and the PyTorch peer's
  sparsity  CSR vs dense-masked GEMM swept over density for the presets' layer shapes (bench/sparsity.ts;
            \`--preset small|full|all\`, \`--svg PATH\`, \`--densities\`, \`--shapes\`, \`--pass forward|backward\`;
            block-4×4 masks also through the BSR kernel), with the crossover and an SVG plot; with \`--train\`
            a Transformer training step and inference at \`--density\` (default 0.1) in static masks of
            \`--structure unstructured|fan_in|block\`, dense vs the structure's format vs auto execution
            (\`--modes dense,sparse,sparse-dw,auto\` picks some; \`--infer-only\` skips the training step)
  fan-in  the constant fan-in forward product (denseFanInT) vs dense-masked GEMM and denseCsrT on the same
            fan-in masks, densities 0.5 / 0.25 / 0.1, the presets' layer shapes (bench/fan-in.ts; \`--preset\`,
            \`--densities\`, \`--m\` to change the batch rows; \`--pass backward|both\`: the gradient products
            fanInDense / fanInSddmm vs GEMM and CSR)
  bsr-backward  the BSR 4×4 gradient products (bsrSddmm; dX by denseBsrT of the transposed blocks) vs dense
            GEMM and the CSR kernels on the same block masks (bench/bsr-backward.ts; \`--preset\`, \`--densities\`)
  csr-update  keeping a layer's CSR pair current: value refresh (gather vs dense-to-CSR) and topology
            updates (incremental vs full rebuild) — bench/csr-update.ts
  threads the wasm thread pool vs one thread: GEMMs (1024³, the block's shapes) and the block step side by
          side with the speedup (bench/threads.ts; \`--threads N\`, default 2; \`--only matmul|block\`; \`--sweep\`
          for the size thresholds; \`--model\` estimates the speedup on a machine without an idle core)
  gemm-blocking  our GEMM at each of the blocking tuner's candidates, full size, interleaved, against the
            choice of the tuner's short trial (bench/gemm-blocking.ts; \`--shapes\`, \`--relaxed\`)
  infer   one forecast (batch 1) of the Transformer through sparsecast/infer (dist/infer.js when built) beside
          the PyTorch peer's eval forward at batch 1 and the library's RunForecaster (bench/infer.ts; \`--preset\`,
          \`--densities\` adds static masks exported as sparsecast export writes them, \`--structure
          unstructured,block\` their shapes (block: whole 4×4 blocks, run by denseBsrT), \`--no-peer\`)
  attention  fused vs unfused attention, forward and forward+backward, at the Transformer's shapes
            (bench/attention.ts; \`--preset small|full|all\`, \`--backend wasm|js|webgpu\`)
\`--threads N\` (other benches): the registered wasm backend runs its kernels on N threads (default 1).
\`--backend webgpu\` (matmul, block, train: bench/webgpu.ts) adds the adapter to each line; block takes \`--small\` /
\`--full\`, and on a software adapter runs a reduced shape unless \`--full\` is given.
\`--no-peer\` (train): skip the PyTorch peer (a GPU run measures ours only; the peer is one CPU thread).
Prints one JSON object per line with --json. Node runs with --experimental-wasm-relaxed-simd (see
package.json) so the relaxed build can be measured.`;

/**
 * Flags by benchmark: each one reads only its own, and a flag it would not read is refused (a typo or a flag of
 * another benchmark would otherwise run something other than what was asked, silently). node:util's parseArgs
 * does the reading; the table says which benchmark reads what.
 */
const OPTIONS = {
  json: { type: 'boolean' }, help: { type: 'boolean' }, backend: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' },
  shapes: { type: 'string' }, tune: { type: 'boolean' }, 'tune-table': { type: 'string' }, small: { type: 'boolean' }, full: { type: 'boolean' },
  preset: { type: 'string' }, models: { type: 'string' }, 'no-peer': { type: 'boolean' }, epoch: { type: 'boolean' }, train: { type: 'boolean' },
  density: { type: 'string' }, batch: { type: 'string' }, structure: { type: 'string' }, modes: { type: 'string' }, 'infer-only': { type: 'boolean' },
  svg: { type: 'string' }, densities: { type: 'string' }, pass: { type: 'string' }, m: { type: 'string' }, only: { type: 'string' },
  sweep: { type: 'boolean' }, model: { type: 'boolean' }, relaxed: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];
type Flag = keyof typeof OPTIONS;
const COMMON: Flag[] = ['json', 'help', 'runs', 'threads'];
const READS: Record<string, Flag[]> = {
  matmul: ['backend', 'shapes', 'tune', 'tune-table'],
  block: ['backend', 'small', 'full'],
  train: ['backend', 'preset', 'models', 'no-peer', 'epoch'],
  sparsity: ['backend', 'preset', 'svg', 'densities', 'shapes', 'pass', 'train', 'density', 'batch', 'structure', 'modes', 'infer-only'],
  'fan-in': ['preset', 'densities', 'm', 'pass'],
  'bsr-backward': ['preset', 'densities', 'm'],
  'csr-update': [],
  threads: ['only', 'sweep', 'model'],
  'gemm-blocking': ['shapes', 'relaxed'],
  attention: ['backend', 'preset'],
  infer: ['preset', 'densities', 'structure', 'no-peer'],
};

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
try {
  parsed = parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true });
} catch (e) {
  fail(`${(e as Error).message} (npm run bench -- --help lists the benchmarks and their flags)`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const name = positionals[0];
if (name === undefined || !(name in READS)) fail(`unknown benchmark '${name ?? ''}' (choose: ${Object.keys(READS).join(', ')})`);
if (positionals.length > 1) fail(`one benchmark at a time; got ${positionals.map((p) => `'${p}'`).join(', ')}`);
const allowed = new Set<string>([...COMMON, ...READS[name]!]);
for (const k of Object.keys(values)) if (!allowed.has(k)) fail(`'${name}' does not read --${k} (it reads ${[...allowed].map((f) => `--${f}`).join(', ')})`);
if (values.small || values.full) if (values.backend !== 'webgpu') fail('--small / --full choose the GPU block shape: they go with --backend webgpu');

const json = values.json === true;
/** A positive integer flag, or undefined when absent. */
const count = (f: 'runs' | 'threads' | 'batch' | 'm') => {
  const v = values[f];
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) fail(`--${f} expects a positive integer, got '${v}'`);
  return Number(v);
};
const args = { has: (f: Flag) => values[f] === true };
const flag = (f: Flag) => values[f] as string | undefined;
/** A density in (0, 1]. */
const fraction = (f: string, v: string) => {
  const x = Number(v);
  if (!(x > 0 && x <= 1)) fail(`--${f} expects densities in (0, 1], got '${v}'`);
  return x;
};
const density = flag('density') === undefined ? undefined : fraction('density', flag('density')!);
const densities = flag('densities')?.split(',').map((v) => fraction('densities', v));
const runs = count('runs');
const backend = flag('backend');
const threads = count('threads');

engine.registerBackend(createJsBackend());
engine.registerBackend(await createWasmBackend({ threads: name === 'threads' ? 1 : threads }));
engine.useBackend('wasm');

switch (name) {
  case 'matmul':
    if (backend === 'webgpu') {
      const { benchMatmulWebGpu } = await import('./webgpu.ts');
      await benchMatmulWebGpu({ json, runs, shapes: flag('shapes') });
      process.exit(0); // a GPU device can keep the event loop alive
    }
    await benchMatmul({ json, backend, runs, threads, shapes: flag('shapes'), tune: args.has('tune'), tuneTable: flag('tune-table') });
    break;
  case 'block': {
    if (backend === 'webgpu') {
      const { benchBlockWebGpu } = await import('./webgpu.ts');
      await benchBlockWebGpu({ json, runs, small: args.has('small'), full: args.has('full') });
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
    const preset = flag('preset') as 'small' | 'full' | undefined;
    const models = flag('models')?.split(',');
    const peer = !args.has('no-peer');
    if (backend === 'webgpu') {
      const { gpuBackend } = await import('./webgpu.ts');
      const adapter = (await gpuBackend()).rt.description;
      await benchTrain({ json, backend, preset, models, runs, epoch: args.has('epoch'), peer, tags: { adapter } });
      process.exit(0); // a GPU device can keep the event loop alive
    }
    await benchTrain({ json, backend, preset, models, runs, epoch: args.has('epoch'), peer });
    break;
  }
  case 'sparsity': {
    const { benchSparsity } = await import('./sparsity.ts');
    if (args.has('train')) {
      const { benchSparseTraining } = await import('./sparsity.ts');
      await benchSparseTraining({
        json, backend, runs, density, preset: flag('preset') as 'small' | 'full' | undefined, batch: count('batch'),
        structure: flag('structure') as 'unstructured' | 'fan_in' | 'block' | undefined, modes: flag('modes')?.split(','), inferOnly: args.has('infer-only'),
      });
      break;
    }
    await benchSparsity({ json, backend, runs, preset: flag('preset'), svg: flag('svg'), densities, shapes: flag('shapes'), pass: flag('pass') });
    break;
  }
  case 'fan-in': {
    const { benchFanIn } = await import('./fan-in.ts');
    await benchFanIn({ json, runs, preset: flag('preset'), densities, m: count('m'), pass: flag('pass') });
    break;
  }
  case 'bsr-backward': {
    const { benchBsrBackward } = await import('./bsr-backward.ts');
    await benchBsrBackward({ json, runs, preset: flag('preset'), densities, m: count('m') });
    break;
  }
  case 'csr-update': {
    const { benchCsrUpdate } = await import('./csr-update.ts');
    await benchCsrUpdate({ json, runs });
    break;
  }
  case 'threads': {
    const { benchThreads } = await import('./threads.ts');
    await benchThreads({ json, runs, threads, only: flag('only'), sweep: args.has('sweep'), model: args.has('model') });
    break;
  }
  case 'gemm-blocking': {
    const { benchGemmBlocking } = await import('./gemm-blocking.ts');
    await benchGemmBlocking({ json, runs, shapes: flag('shapes'), relaxed: args.has('relaxed') });
    break;
  }
  case 'attention': {
    const { benchAttention } = await import('./attention.ts');
    if (backend === 'webgpu') {
      const { createWebGpuBackend } = await import('../src/backend/webgpu/backend.ts');
      engine.registerBackend(await createWebGpuBackend());
    }
    await benchAttention({ json, backend, runs, preset: flag('preset') as 'small' | 'full' | 'all' | undefined });
    if (backend === 'webgpu') process.exit(0);
    break;
  }
  case 'infer': {
    const { benchInfer } = await import('./infer.ts');
    const preset = flag('preset');
    if (preset !== undefined && preset !== 'small' && preset !== 'full') fail(`--preset must be small or full, got '${preset}'`);
    const structures = (flag('structure') ?? 'unstructured').split(',');
    const bad = structures.filter((x) => x !== 'unstructured' && x !== 'block');
    if (bad.length) fail(`--structure must be unstructured, block or both (comma-separated) for infer, got '${bad.join(',')}'`);
    await benchInfer({ json, runs, preset, densities, structures: structures as Array<'unstructured' | 'block'>, peer: !args.has('no-peer') });
    break;
  }
  default:
    console.error(`bench: unknown benchmark '${name ?? ''}' (choose: matmul, gemm-blocking, block, train, sparsity, fan-in, bsr-backward, csr-update, threads, attention)`);
    process.exit(2);
}
