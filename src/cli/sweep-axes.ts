/**
 * Axis lists in a sweep: `--data A,B --pred_len 96,192 --seed 2020,2021 --method dense,pals --model …` each become
 * one more dimension of the grid, as if given as `--grid data=A,B …`, placed before --grid's own keys in the order
 * they appear. The local and the queued sweep both expand them here, so one command line means the same runs
 * either way. A single value stays a plain train flag (and out of the table's columns).
 */

import { existsSync } from 'node:fs';

/** Train flags that may take a comma list in a sweep, each value becoming its own run. */
export const AXIS_FLAGS = ['data', 'model', 'pred_len', 'method', 'seed'] as const;

/**
 * The sweep's argv with each axis list rewritten as a leading `--grid NAME=V1,V2` word (before --grid's own
 * keys, in the order the axis flags appear), so the flag parser checks every value with the flag's own rules.
 */
export function axisListsAsGrid(argv: readonly string[]): string[] {
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq < 0 ? undefined : eq) : '';
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const value = inline ?? argv[i + 1];
    // A data file whose own name holds a comma ("sales,2024.csv") is one path, not a list: the whole name is
    // tried as a file first (a list of existing files is never itself a file).
    const oneFile = name === 'data' && value !== undefined && existsSync(value);
    if ((AXIS_FLAGS as readonly string[]).includes(name) && value !== undefined && value.includes(',') && !oneFile) {
      words.push(`${name}=${value}`);
      if (inline === undefined) i++;
    } else {
      rest.push(a);
    }
  }
  return words.length ? ['--grid', ...words, ...rest] : rest;
}

/** A run's folder name from its varying values, `<key><value>_…`, with path separators and the like as '-'. */
export function runName(config: Record<string, string>): string {
  return Object.entries(config).map(([k, v]) => `${k}${v}`).join('_').replace(/[^A-Za-z0-9._-]+/g, '-') || 'run';
}
