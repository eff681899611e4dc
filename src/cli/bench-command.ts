/**
 * `sparsecast bench sparsity [--json] [--preset small|full|all] [--runs N] [--svg PATH] [--backend wasm|js] [--threads N]
 *   [--densities 1,0.5,…] [--shapes MxNxK,…] [--pass forward|backward]`
 * and `sparsecast bench sparsity --train [--preset small|full] [--density 0.1] [--batch 32] [--structure unstructured|fan_in|block]`: the sparsity
 * study of bench/sparsity.ts (which only needs the engine, so it is bundled with the CLI). The other benches
 * compare against peers from dev dependencies: run them from a checkout with `npm run bench -- <name>`.
 */
import { initBackend } from './backends.ts';
import { numberFlag } from './args.ts';
import { parseCommandArgs } from './flags.ts';
import { BENCH } from './commands.ts';

export async function benchCommand(argv: string[]): Promise<void> {
  // The study name, every flag and its value, and which flags each mode reads are checked by BENCH's table.
  const args = parseCommandArgs(BENCH, argv);
  const flag = (f: string) => args.flags.get(f);
  const num = (f: string) => (args.flags.has(f) ? numberFlag(args, f, 0) : undefined);
  const backend = flag('backend') ?? 'wasm';
  const threads = num('threads') ?? 1;
  if (backend !== 'wasm') await initBackend('wasm', { threads });
  await initBackend(backend, { threads });
  const json = args.switches.has('json');
  const { benchSparsity, benchSparseTraining } = await import('../../bench/sparsity.ts');
  if (args.switches.has('train')) {
    await benchSparseTraining({ json, backend, runs: num('runs'), density: num('density'), preset: flag('preset') as 'small' | 'full' | undefined, batch: num('batch'),
      structure: flag('structure') as 'unstructured' | 'fan_in' | 'block' | undefined,
    });
    return;
  }
  await benchSparsity({
    json, backend, runs: num('runs'), preset: flag('preset'), svg: flag('svg') ?? 'sparsity.svg',
    densities: flag('densities')?.split(/[, ]+/).filter(Boolean).map(Number), shapes: flag('shapes'), pass: flag('pass'),
  });
}
