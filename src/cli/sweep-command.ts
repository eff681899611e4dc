/**
 * `sparsecast sweep`: the PALS hyper-parameter grid (run.py in the reference) — train every combination in
 * worker processes (up to --jobs at once), then select as the reference does: "loss" takes the lowest
 * validation loss; "sparsity" the highest sparsity, ties broken by validation loss. Prints one JSON line per
 * run, a JSON line for the selection, and writes the table as Markdown (and JSON lines) into --out.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { axesIntoGrid, runName } from './sweep-axes.ts';

export interface RunRow {
  config: Record<string, string>;
  result: Record<string, number | string>;
}

function parseSweepArgs(argv: string[]): { grid: Map<string, string[]>; select: 'loss' | 'sparsity'; jobs: number; out: string; pass: string[] } {
  const grid = new Map<string, string[]>();
  const pass: string[] = [];
  let select: 'loss' | 'sparsity' = 'loss';
  let jobs = 1;
  let out = 'sweep';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--grid') {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
        const spec = argv[++i]!;
        const eq = spec.indexOf('=');
        if (eq <= 0) throw new Error(`sparsecast sweep: --grid expects name=v1,v2,…, got '${spec}'`);
        const values = spec.slice(eq + 1).split(',').filter(Boolean);
        if (!values.length) throw new Error(`sparsecast sweep: --grid ${spec.slice(0, eq)} has no values`);
        grid.set(spec.slice(0, eq), values);
      }
    } else if (a === '--select') {
      const v = argv[++i];
      if (v !== 'loss' && v !== 'sparsity') throw new Error(`sparsecast sweep: --select must be loss or sparsity, got '${v}'`);
      select = v;
    } else if (a === '--jobs') {
      jobs = Number(argv[++i]);
      if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`sparsecast sweep: --jobs must be a positive integer`);
    } else if (a === '--out') {
      out = argv[++i]!;
    } else {
      pass.push(a);
    }
  }
  if (!grid.size) throw new Error('sparsecast sweep: --grid name=v1,v2 … is required');
  return { grid, select, jobs, out, pass };
}

export function combinations(grid: Map<string, string[]>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [k, vs] of grid) out = out.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
  return out;
}

/** Lowest validation loss; or highest sparsity with validation loss breaking ties (the reference's two modes). */
export function selectRun<T extends { result: Record<string, number | string> }>(rows: T[], mode: 'loss' | 'sparsity'): T {
  const val = (r: T) => Number(r.result.best_val);
  const sp = (r: T) => Number(r.result.sparsity);
  return [...rows].sort((a, b) => (mode === 'loss' ? val(a) - val(b) : sp(b) - sp(a) || val(a) - val(b)))[0]!;
}

function runOne(entry: string[], args: string[]): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`sweep: run ${args.join(' ')} failed (exit ${code}):\n${stderr.slice(-2000)}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

/** `entry`: how to start this same CLI in a child (node flags such as a TS loader, then the script). */
export async function sweepCommand(argv: string[], entry: string[] = [...process.execArgv, process.argv[1]!]): Promise<void> {
  // With --queue the runs go to Redis for `sparsecast worker`s (src/cli/sweep-queue.ts) instead of local children.
  if (argv.some((a) => a === '--queue' || a.startsWith('--queue='))) return (await import('./sweep-queue.ts')).sweepQueueCommand(argv);
  const parsed = parseSweepArgs(argv);
  const { select, jobs, out } = parsed;
  const { grid, pass } = axesIntoGrid(parsed.pass, parsed.grid); // --data A,B, --seed 2020,2021, … as grid keys
  mkdirSync(out, { recursive: true });
  const configs = combinations(grid);
  const rows: RunRow[] = new Array(configs.length);
  let next = 0;
  const worker = async () => {
    while (next < configs.length) {
      const i = next++;
      const c = configs[i]!;
      const name = runName(c);
      const args = [...pass, ...Object.entries(c).flatMap(([k, v]) => [`--${k}`, v]), '--out', join(out, name)];
      process.stderr.write(`sweep: starting ${name}\n`);
      rows[i] = { config: c, result: await runOne(entry, args) };
      console.log(JSON.stringify({ sweep: 'run', ...c, ...rows[i]!.result }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, configs.length) }, worker));
  const chosen = selectRun(rows, select);
  console.log(JSON.stringify({ sweep: 'selected', select, ...chosen.config, ...chosen.result }));
  writeSweepTable(out, [...grid.keys()], rows, chosen, select);
}

/** sweep.md (one row per run, the selected one marked) and sweep.jsonl (config and result merged, one per run). */
export function writeSweepTable(out: string, keys: string[], rows: RunRow[], chosen: RunRow | undefined, select: 'loss' | 'sparsity'): void {
  const md = [
    `| ${keys.join(' | ')} | val loss | test MSE | test MAE | sparsity | selected |`,
    `|${' --- |'.repeat(keys.length + 5)}`,
    ...rows.map((r) => `| ${keys.map((k) => r.config[k]).join(' | ')} | ${Number(r.result.best_val).toFixed(4)} | ${Number(r.result.mse).toFixed(4)} | ${Number(r.result.mae).toFixed(4)} | ${Number(r.result.sparsity).toFixed(4)} | ${r === chosen ? `**${select}**` : ''} |`),
  ].join('\n');
  writeFileSync(join(out, 'sweep.md'), `${md}\n`);
  writeFileSync(join(out, 'sweep.jsonl'), rows.map((r) => JSON.stringify({ ...r.config, ...r.result })).join('\n') + '\n');
}
