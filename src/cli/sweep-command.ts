/**
 * `sparsecast sweep`: the PALS hyper-parameter grid (run.py in the reference) — train every combination in
 * worker processes (up to --jobs at once), then select as the reference does: "loss" takes the lowest
 * validation loss; "sparsity" the highest sparsity, ties broken by validation loss. Prints one JSON line per
 * run, a JSON line for the selection, and writes the table as Markdown (and JSON lines) into --out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { checkResume, fingerprintRun } from './run-fingerprint.ts';
import { specFromArgs } from './train-command.ts';
import { join } from 'node:path';
import { acquireRunLock } from './run-lock.ts';
import { nonFiniteMetrics } from './result-check.ts';
import { numberFlag } from './args.ts';
import { parseCommandArgs } from './flags.ts';
import { SWEEP, SWEEP_OWN_NAMES, TRAIN, TRAIN_RECHECK } from './commands.ts';
import { gridCombinations, gridFromWords, passThroughArgs, runTrainArgs } from './sweep-plan.ts';
import { SIGNAL_EXIT_CODE, watchInterrupts, type InterruptWatch } from './interrupt.ts';
import { reportInterruptedSweep } from './sweep-interrupt.ts';
import { axisListsAsGrid, runName } from './sweep-axes.ts';
import type { ParsedArgs } from './args.ts';
import { makeDir } from '../io/make-dir.ts';

export interface RunRow {
  config: Record<string, string>;
  result: Record<string, number | string>;
}

/** The sweep's plan from its parsed arguments; every run's train flags have passed train's table (SWEEP.finish). */
function sweepPlan(args: ParsedArgs): { grid: Map<string, string[]>; select: 'loss' | 'sparsity'; jobs: number; out: string; pass: string[]; resume: boolean } {
  return {
    resume: args.switches.has('resume'),
    grid: gridFromWords(args.repeated?.get('grid') ?? []),
    select: (args.flags.get('select') ?? 'loss') as 'loss' | 'sparsity',
    jobs: numberFlag(args, 'jobs', 1, true),
    out: args.flags.get('out') ?? 'sweep',
    pass: passThroughArgs(args, TRAIN, SWEEP_OWN_NAMES),
  };
}

/**
 * What `sweep --resume` finds in a run's folder: 'finished' (result.json beside a checkpoint that records these
 * very flags and data: its result is reused), 'stopped' (a checkpoint, no result: the run continues with train
 * --resume, which itself refuses a checkpoint of other flags), or 'new'. A finished run of other flags or data is
 * an error naming the differences, never a silently reused result.
 */
function runFolderState(dir: string, trainArgv: string[]): 'finished' | 'stopped' | 'new' {
  const checkpoint = join(dir, 'checkpoint.safetensors');
  if (!existsSync(checkpoint)) return 'new';
  if (!existsSync(join(dir, 'result.json'))) return 'stopped';
  try {
    checkResume(checkpoint, fingerprintRun(specFromArgs(parseCommandArgs(TRAIN_RECHECK, trainArgv))));
  } catch (e) {
    throw new Error(`sparsecast sweep --resume: ${dir} holds a finished run of other flags or data, so its result cannot stand for this one: ${(e as Error).message.replace(/^sparsecast train --resume: /, '')}`);
  }
  // A run whose test metrics were not finite failed (train exited 1 after writing its line): reused, its null
  // metrics would read as 0 in the table and in the selection.
  const bad = nonFiniteMetrics(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, unknown>);
  if (bad.length) {
    throw new Error(`sparsecast sweep --resume: ${dir} holds a run that failed with a non-finite result (test ${bad.join(', ')}); it cannot be reused, and the same flags would fail again (remove the folder to train it anew)`);
  }
  return 'finished';
}

/** Lowest validation loss; or highest sparsity with validation loss breaking ties (the reference's two modes). */
export function selectRun<T extends { result: Record<string, number | string> }>(rows: T[], mode: 'loss' | 'sparsity'): T {
  const val = (r: T) => Number(r.result.best_val);
  const sp = (r: T) => Number(r.result.sparsity);
  return [...rows].sort((a, b) => (mode === 'loss' ? val(a) - val(b) : sp(b) - sp(a) || val(a) - val(b)))[0]!;
}

/**
 * One train run in a child; resolves to its JSON result, or how the sweep's interrupt stopped it:
 * 'interrupted' (it saved its checkpoint and exited 130 / 143) or 'killed' (the signal's default action: it
 * was still starting, before its handler). Children run in their own process group (detached), so a
 * terminal's Ctrl-C reaches only the sweep, which passes exactly one signal on: two (the terminal's and ours)
 * would make a run exit without saving.
 */
function runOne(entry: string[], args: string[], running: Set<ChildProcess>, interrupt: InterruptWatch): Promise<Record<string, number | string> | 'interrupted' | 'killed'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (interrupt.signal && code === SIGNAL_EXIT_CODE[interrupt.signal]) resolve('interrupted');
      else if (interrupt.signal && signal === interrupt.signal) resolve('killed');
      else if (code !== 0) reject(new Error(`sweep: run ${args.join(' ')} failed (exit ${code}):\n${stderr.slice(-2000)}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

/** `entry`: how to start this same CLI in a child (node flags such as a TS loader, then the script). */
export async function sweepCommand(argv: string[], entry: string[] = [...process.execArgv, process.argv[1]!]): Promise<void> {
  // --data A,B, --seed 2020,2021, … become grid keys, so each value is checked with its flag's own rules.
  const args = parseCommandArgs(SWEEP, axisListsAsGrid(argv));
  // With --queue the runs go to Redis for `sparsecast worker`s (src/cli/sweep-queue.ts) instead of local children.
  if (args.flags.has('queue')) return (await import('./sweep-queue.ts')).sweepQueueCommand(args);
  const { grid, select, jobs, out, pass, resume } = sweepPlan(args);
  makeDir(out, 'the --out folder');
  // One sweep per folder (each run's own subfolder is locked by its train process).
  const lock = acquireRunLock(out, `sparsecast sweep ${argv.join(' ')}`);
  try {
    await sweepInto(out, grid, select, jobs, pass, entry, resume);
  } finally {
    lock.release();
  }
}

async function sweepInto(out: string, grid: Map<string, string[]>, select: 'loss' | 'sparsity', jobs: number, pass: string[], entry: string[], resume: boolean): Promise<void> {
  const configs = gridCombinations(grid);
  const rows: RunRow[] = new Array(configs.length);
  const running = new Set<ChildProcess>();
  const stopped: { name: string; args: string[] }[] = [];
  const notStarted: string[] = [];
  // First signal: no new runs; each running one gets it once, saves its checkpoint and exits. Second: pass it
  // on too (the runs exit at once) and exit.
  const interrupt = watchInterrupts({
    onFirst: (sig) => {
      process.stderr.write(`sweep: ${sig}: passing it to the ${running.size} running run(s), which save their checkpoints; no new run starts (${sig} again exits at once)\n`);
      for (const c of running) c.kill(sig);
    },
    onSecond: (sig) => {
      for (const c of running) c.kill(sig);
    },
  });
  let next = 0;
  const worker = async () => {
    while (next < configs.length && !interrupt.signal) {
      const i = next++;
      const c = configs[i]!;
      const name = runName(c);
      const { argv, dropped } = runTrainArgs(pass, c);
      const dir = join(out, name);
      const state = resume ? runFolderState(dir, [...argv, `--out=${dir}`]) : 'new';
      if (state === 'finished') {
        rows[i] = { config: c, result: JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, number | string> };
        process.stderr.write(`sweep: ${name} finished before (same flags and data); its result is reused\n`);
        console.log(JSON.stringify({ sweep: 'run', ...c, ...rows[i]!.result }));
        continue;
      }
      const args = [...argv, `--out=${dir}`, ...(state === 'stopped' ? ['--resume'] : [])];
      process.stderr.write(`sweep: ${state === 'stopped' ? 'continuing' : 'starting'} ${name}${dropped.length ? ` (without ${dropped.map((f) => `--${f}`).join(', ')}, which its method does not read)` : ''}\n`);
      const result = await runOne(entry, args, running, interrupt);
      if (result === 'interrupted') stopped.push({ name, args });
      if (result === 'interrupted' || result === 'killed') {
        if (result === 'killed') notStarted.push(name);
        continue;
      }
      rows[i] = { config: c, result };
      console.log(JSON.stringify({ sweep: 'run', ...c, ...rows[i]!.result }));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, configs.length) }, worker));
  } finally {
    interrupt.dispose();
  }
  if (interrupt.signal) {
    for (const c of configs.slice(next)) notStarted.push(runName(c));
    return reportInterruptedSweep(interrupt.signal, entry, stopped, rows.filter(Boolean).length, notStarted);
  }
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
