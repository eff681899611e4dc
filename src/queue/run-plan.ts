/**
 * A queued sweep's runs, decided once on the machine that enqueues them: the axis lists (src/cli/sweep-axes.ts)
 * and the --grid keys expand into one train argv per combination, exactly as in the local sweep. Each run gets
 *   - a config hash: a stable digest of its canonical train flags (sorted, later duplicates winning as they do in
 *     `sparsecast train`; --out, --resume and --threads left out since they do not change the result). It names
 *     the run's artifacts folder, so a retried job — on any machine — finds the checkpoint the killed one left;
 *   - a job id from the sweep name and that hash, so enqueueing the same sweep again adds nothing.
 */
import { createHash } from 'node:crypto';
import { parseCommandArgs } from '../cli/flags.ts';
import { TRAIN_ELSEWHERE } from '../cli/commands.ts';
import { gridCombinations, runTrainArgs } from '../cli/sweep-plan.ts';
import { runName } from '../cli/sweep-axes.ts';

/** Flags that say where or how fast a run goes, not what it computes: kept out of the hash and the job's argv. */
const NOT_HASHED = new Set(['out', 'resume', 'threads']);

export interface PlannedRun {
  /** The values that vary across the sweep (axes given as lists, then grid keys), as the table's columns. */
  config: Record<string, string>;
  /** Canonical train argv (without --out / --resume / --threads, which the worker adds). */
  argv: string[];
  hash: string;
  jobId: string;
}

/** Sweep names become job ids: BullMQ forbids ':' there, and integers are taken for its own ids. */
export function checkSweepName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) || /^\d+$/.test(name)) {
    throw new Error(`sparsecast sweep: --name must be letters, digits, '.', '_' or '-' (not only digits), got '${name}'`);
  }
}

export function parentJobId(sweep: string): string {
  return `sweep.${sweep}`;
}

/** The canonical form of a train argv: flags sorted by name, the last of a repeated flag, switches as bare flags. */
export function canonicalTrainArgv(argv: string[]): string[] {
  // Train's own table and rules (the data file may live only on the workers' machines).
  const parsed = parseCommandArgs(TRAIN_ELSEWHERE, argv);
  const flags = [...parsed.flags].filter(([k]) => !NOT_HASHED.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const switches = [...parsed.switches].filter((k) => !NOT_HASHED.has(k)).sort();
  return [...flags.flatMap(([k, v]) => [`--${k}`, v]), ...switches.map((k) => `--${k}`)];
}

export function configHash(canonicalArgv: string[]): string {
  return createHash('sha256').update(JSON.stringify(canonicalArgv)).digest('hex').slice(0, 16);
}

/**
 * `pass`: the train flags every run gets; `grid`: the varying keys and values (axis lists already turned into
 * leading grid keys by src/cli/sweep-axes.ts, as in the local sweep).
 */
export function planRuns(sweep: string, pass: string[], grid: Map<string, string[]>): { keys: string[]; runs: PlannedRun[] } {
  const rest = pass;
  const all = grid;
  const seen = new Map<string, string>();
  const runs = gridCombinations(all).map((config) => {
    // The same run arguments as the local sweep (sparse flags the run's method does not read left out).
    const argv = canonicalTrainArgv(runTrainArgs(rest, config).argv);
    const hash = configHash(argv);
    const dup = seen.get(hash);
    if (dup) throw new Error(`sparsecast sweep: runs ${dup} and ${runName(config)} have the same train flags`);
    seen.set(hash, runName(config));
    return { config, argv, hash, jobId: `${sweep}.${hash}` };
  });
  return { keys: [...all.keys()], runs };
}
