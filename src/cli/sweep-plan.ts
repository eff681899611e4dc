/**
 * What `sparsecast sweep` runs: the grid's combinations and the train flags every run gets. Shared by the
 * door check (src/cli/commands.ts parses every run's flags with train's table before the first run starts) and
 * the sweep itself, so the runs checked are the runs started.
 */
import type { ParsedArgs } from './args.ts';
import type { CommandSpec } from './flags.ts';
import { flagsMethodIgnores } from './method-flags.ts';

/**
 * One run's train arguments: the sweep's fixed flags, less the sparse flags this run's method does not read
 * (`--method dense,pals --lambda 1.1`: the dense runs get no --lambda, which train would refuse), then its grid
 * values as `--name=value`. A grid key the run's method does not read stays, so train refuses it: varying a
 * value the run ignores would only repeat the run. `pass` is in passThroughArgs' form: `--name=value` and bare
 * `--switch` words.
 */
export function runTrainArgs(pass: readonly string[], combo: Record<string, string>): { argv: string[]; dropped: string[] } {
  const flagName = (w: string) => w.slice(2, w.includes('=') ? w.indexOf('=') : undefined);
  const methodWord = [...pass].reverse().find((w) => flagName(w) === 'method');
  const method = combo.method ?? (methodWord?.includes('=') ? methodWord.slice(methodWord.indexOf('=') + 1) : 'dense');
  const dropped = flagsMethodIgnores(method, pass.filter((w) => w.startsWith('--')).map(flagName));
  const argv = [...pass.filter((w) => !dropped.includes(flagName(w))), ...Object.entries(combo).map(([k, v]) => `--${k}=${v}`)];
  return { argv, dropped };
}

/** `--grid` words (`lambda=1.05,1.1`), already checked, as name → values in the order given. */
export function gridFromWords(words: readonly string[]): Map<string, string[]> {
  const grid = new Map<string, string[]>();
  for (const w of words) {
    const eq = w.indexOf('=');
    grid.set(w.slice(0, eq).replace(/^-+/, ''), w.slice(eq + 1).split(',').filter((v) => v !== ''));
  }
  return grid;
}

/** Every combination, the first key varying slowest (the reference's run.py order). */
export function gridCombinations(grid: Map<string, string[]>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [k, vs] of grid) out = out.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
  return out;
}

/**
 * The train flags given to the sweep, as train arguments (`--name=value`, so a value starting with `-` stays a
 * value). Only names in train's table pass, and not those the sweep itself owns (`--out` is the sweep's folder).
 */
export function passThroughArgs(args: ParsedArgs, train: CommandSpec, own: ReadonlySet<string> = new Set(['grid', 'select', 'jobs', 'out'])): string[] {
  const names = new Set(train.flags.map((f) => f.name));
  const out: string[] = [];
  for (const [k, v] of args.flags) if (names.has(k) && !own.has(k)) out.push(`--${k}=${v}`);
  for (const s of args.switches) if (names.has(s) && !own.has(s)) out.push(`--${s}`);
  return out;
}
