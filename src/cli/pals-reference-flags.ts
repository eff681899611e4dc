/**
 * The PALS reference's run.py (a Time-Series-Library fork: its scripts_sparse/*.sh lines) spells the sparse
 * settings its own way, and a line copied from those scripts runs here as written:
 * - flag names (REFERENCE_NAMES, on the flags' `altNames`): --loss_freedom_factor is λ (--lambda),
 *   --prune_rate_factor γ (--gamma), --update-frequency ΔT, --init-density, --final-density, --prune-rate ζ
 *   (--zeta), --sparse-init (--density_init);
 * - values: --method PALS / GraNet, --sparse-init ERK, --model ns_Transformer (on the flags' `aliases`);
 * - --sparse: the reference trains sparse only with it: `--method PALS` alone trains dense there, and --sparse
 *   alone trains its default method, GraNet. Both are read as the reference reads them, saying so where this CLI
 *   would otherwise have read them differently;
 * - --prune magnitude and --redistribution none: the only pruning and redistribution PALS and GraNet use here.
 */
import type { ParsedArgs } from './args.ts';
import type { FlagSpec } from './flags.ts';

/** The reference's names of flags this CLI has under another name (underscores or dashes alike). */
export const REFERENCE_NAMES: Readonly<Record<string, readonly string[]>> = {
  lambda: ['loss_freedom_factor'],
  gamma: ['prune_rate_factor'],
  update_freq: ['update-frequency'],
  init_density: ['init-density'],
  final_density: ['final-density'],
  zeta: ['prune-rate'],
  density_init: ['sparse-init'],
};

/** The reference's spellings of values. */
export const REFERENCE_VALUES = {
  method: { PALS: 'pals', GraNet: 'granet' },
  density_init: { ERK: 'erk' },
  model: { ns_Transformer: 'NSTransformer' },
} as const;

export const REFERENCE_FLAGS: readonly FlagSpec[] = [
  { name: 'sparse', type: 'switch', help: "the PALS reference's: sparse training on (there a --method trains dense without it; alone it trains GraNet)" },
  { name: 'prune', type: 'string', metavar: 'magnitude', help: "the PALS reference's: magnitude, the pruning its PALS and GraNet use" },
  { name: 'redistribution', type: 'string', metavar: 'none', help: "the PALS reference's: none, as its PALS and GraNet run" },
];

/**
 * Resolve --sparse as the reference does, and refuse what it would run differently. Returns a warning when the
 * line's meaning here had to be chosen (undefined otherwise); throws the message of a contradiction.
 */
export function referenceSparse(args: ParsedArgs, fail: (message: string) => never): string | undefined {
  const prune = args.flags.get('prune');
  if (prune !== undefined && prune !== 'magnitude') fail(`--prune ${prune}: PALS and GraNet prune by magnitude here, as the reference's do (give --prune magnitude, or leave it out)`);
  const redistribution = args.flags.get('redistribution');
  if (redistribution !== undefined && redistribution !== 'none') fail(`--redistribution ${redistribution}: PALS and GraNet redistribute nothing here, as the reference's do (give --redistribution none, or leave it out)`);
  const method = args.flags.get('method');
  if (args.switches.has('sparse')) {
    if (method === 'dense') fail('--sparse with --method dense: give one (--sparse trains a sparse method, as in the PALS reference)');
    if (method === undefined) {
      args.flags.set('method', 'granet');
      return "--sparse without --method trains the reference's default method, GraNet (--method granet); give --method pals for PALS";
    }
    return undefined;
  }
  const typed = args.spelled?.get('method');
  if (method !== undefined && method !== 'dense' && typed !== undefined) {
    // `--method PALS` is the reference's spelling, and there it trains dense without --sparse.
    fail(`${typed} without --sparse: the PALS reference trains dense then; add --sparse for ${method}, or give --method dense`);
  }
  return undefined;
}
