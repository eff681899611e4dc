/**
 * Axis lists in a sweep: `--data A,B --pred_len 96,192 --seed 2020,2021 --method dense,pals --model …` each become
 * one more dimension of the grid, as if given as `--grid data=A,B …`, placed before --grid's own keys in the order
 * they appear. The local and the queued sweep both expand them here, so one command line means the same runs
 * either way. A single value stays a plain train flag (and out of the table's columns).
 */

/** Train flags that may take a comma list in a sweep, each value becoming its own run. */
export const AXIS_FLAGS = ['data', 'model', 'pred_len', 'method', 'seed'] as const;

export function axesIntoGrid(pass: string[], grid: Map<string, string[]>): { pass: string[]; grid: Map<string, string[]> } {
  const axes = new Map<string, string[]>();
  const rest: string[] = [];
  for (let i = 0; i < pass.length; i++) {
    const a = pass[i]!;
    const eq = a.indexOf('=');
    // `--seed=2020,2021` as well as `--seed 2020,2021`.
    const name = a.startsWith('--') ? a.slice(2, eq < 0 ? undefined : eq) : '';
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const value = inline ?? pass[i + 1];
    if ((AXIS_FLAGS as readonly string[]).includes(name) && value !== undefined && value.includes(',')) {
      if (axes.has(name) || grid.has(name)) throw new Error(`sparsecast sweep: --${name} is given as a list twice (as an axis flag and in --grid, or repeated)`);
      const values = value.split(',').filter(Boolean);
      axes.set(name, values);
      if (inline === undefined) i++;
    } else {
      rest.push(a);
    }
  }
  return { pass: rest, grid: new Map([...axes, ...grid]) };
}

/** A run's folder name from its varying values, `<key><value>_…`, with path separators and the like as '-'. */
export function runName(config: Record<string, string>): string {
  return Object.entries(config).map(([k, v]) => `${k}${v}`).join('_').replace(/[^A-Za-z0-9._-]+/g, '-') || 'run';
}
