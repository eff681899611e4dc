/**
 * Which sparse-training flags each `--method` reads (src/sparse/methods.ts builds its controller from exactly
 * these). A flag the chosen method does not read would be silently ignored — `--lambda 1.2 --method rigl` trains
 * exactly what `--method rigl` trains — so `sparsecast train` refuses it, naming what the method does read. A
 * sweep's fixed flags are given only to the runs whose method reads them (`--method dense,pals --lambda 1.1`
 * compares dense with PALS at λ 1.1), and the sweep says which runs went without.
 */
const STRUCTURE = ['sparsity_structure', 'block_size', 'fan_in_ablation'] as const;
const DYNAMIC = ['update_freq', 'zeta', 'density_init'] as const;

export const METHOD_FLAGS: Readonly<Record<string, readonly string[]>> = {
  dense: [],
  pals: ['lambda', 'gamma', 's_min', 's_max', 'init_density', 'no_expand', 'growth', 'val_batches', ...DYNAMIC, ...STRUCTURE],
  granet: ['init_density', 'final_density', 'growth', ...DYNAMIC, ...STRUCTURE],
  // RigL grows by gradient and SET at random by definition: no --growth.
  rigl: ['density', ...DYNAMIC, ...STRUCTURE],
  set: ['density', ...DYNAMIC, ...STRUCTURE],
  static: ['density', ...STRUCTURE],
};

/** Every flag some method reads and another does not. */
export const SPARSE_FLAGS: readonly string[] = [...new Set(Object.values(METHOD_FLAGS).flat())];

/** The sparse flags among `given` that `method` does not read. */
export function flagsMethodIgnores(method: string, given: Iterable<string>): string[] {
  const reads = new Set(METHOD_FLAGS[method] ?? SPARSE_FLAGS);
  return [...given].filter((f) => SPARSE_FLAGS.includes(f) && !reads.has(f));
}

export function describeMethodFlags(method: string): string {
  const reads = METHOD_FLAGS[method] ?? [];
  return reads.length ? `it reads ${reads.map((f) => `--${f}`).join(', ')}` : 'it has no masks and reads no sparse flag';
}
