// fit's option checks (src/train/fit-options.ts) keep their own table of ranges and choices, copied from the
// `sparsecast train` flags (src/cli/commands.ts) so that the library refuses what the CLI refuses. This holds the
// copy to the original: a flag's range changed in one place only would let fit and the CLI disagree.
import { describe, expect, it } from 'vitest';
import { FIT_RULES } from '../src/train/fit-options.ts';
import { TRAIN } from '../src/cli/commands.ts';
import type { FlagSpec } from '../src/cli/flags.ts';

/** fit's top-level option → its train flag, where the CLI has one. */
const TOP_FLAGS: Record<string, string> = {
  seed: 'seed', epochs: 'train_epochs', patience: 'patience', batchSize: 'batch_size', learningRate: 'learning_rate',
  lradj: 'lradj', maxTrainBatches: 'max_train_batches', valBatches: 'val_batches', checkpointEvery: 'checkpoint_every',
};
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

type Rule = Record<string, unknown>;
const pairs: Array<[string, Rule, string]> = [
  ...Object.entries(TOP_FLAGS).map(([k, f]) => [k, (FIT_RULES.top as Record<string, Rule>)[k]!, f] as [string, Rule, string]),
  ...Object.entries(FIT_RULES.config as Record<string, Rule>).filter(([, r]) => !('type' in r)).map(([k, r]) => [`config.${k}`, r, snake(k)] as [string, Rule, string]),
  ...Object.entries(FIT_RULES.sparse as Record<string, Rule>).filter(([, r]) => !('type' in r)).map(([k, r]) => [`sparse.${k}`, r, r.flag as string] as [string, Rule, string]),
];

describe('fit option rules = sparsecast train flag ranges', () => {
  const flags = new Map<string, FlagSpec>(TRAIN.flags.map((f) => [f.name, f]));
  for (const [option, rule, flag] of pairs) {
    it(`${option} ↔ --${flag}`, () => {
      const spec = flags.get(flag);
      expect(spec, `no --${flag} flag on sparsecast train`).toBeDefined();
      if ('choices' in rule) {
        expect([...(rule.choices as string[])].sort()).toEqual([...spec!.choices!].sort());
        return;
      }
      const norm = (r: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean }) => ({
        min: r.min, max: r.max, minOpen: r.minOpen ?? false, maxOpen: r.maxOpen ?? false,
      });
      expect(norm(rule as never), `range of ${option} vs --${flag}`).toEqual(norm(spec!));
      expect(rule.integer === true, `integer ${option} vs --${flag} (${spec!.type})`).toBe(spec!.type === 'integer');
    });
  }
});
