/**
 * `sparsecast bench sparsity [--json] [--preset small|full|all] [--runs N] [--svg PATH] [--backend wasm|js] [--threads N]
 *   [--densities 1,0.5,…] [--shapes MxNxK,…] [--pass forward|backward]`
 * and `sparsecast bench sparsity --train [--preset small|full] [--density 0.1] [--batch 32]`: the sparsity
 * study of bench/sparsity.ts (which only needs the engine, so it is bundled with the CLI). The other benches
 * compare against peers from dev dependencies: run them from a checkout with `npm run bench -- <name>`.
 */
import { initBackend } from './backends.ts';

export async function benchCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name !== 'sparsity') {
    throw new Error(`sparsecast bench: only 'sparsity' is bundled with the CLI; run '${name ?? '<name>'}' from a checkout with \`npm run bench -- ${name ?? '<name>'}\``);
  }
  const flag = (f: string) => {
    const i = rest.indexOf(f);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const num = (f: string) => (flag(f) !== undefined ? Number(flag(f)) : undefined);
  const backend = flag('--backend') ?? 'wasm';
  const threads = num('--threads') ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`sparsecast bench: --threads must be an integer ≥ 1, got ${flag('--threads')}`);
  if (backend !== 'wasm') await initBackend('wasm', { threads });
  await initBackend(backend, { threads });
  const json = rest.includes('--json');
  const { benchSparsity, benchSparseTraining } = await import('../../bench/sparsity.ts');
  if (rest.includes('--train')) {
    await benchSparseTraining({ json, backend, runs: num('--runs'), density: num('--density'), preset: flag('--preset') as 'small' | 'full' | undefined, batch: num('--batch') });
    return;
  }
  const pass = flag('--pass');
  if (pass !== undefined && pass !== 'forward' && pass !== 'backward') throw new Error(`sparsecast bench: --pass must be forward or backward, got ${pass}`);
  await benchSparsity({
    json, backend, runs: num('--runs'), preset: flag('--preset'), svg: flag('--svg') ?? 'sparsity.svg',
    densities: flag('--densities')?.split(',').map(Number), shapes: flag('--shapes'), pass,
  });
}
