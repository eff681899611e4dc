/**
 * The queue side of `sparsecast sweep` (any sweep command line with --queue):
 *
 *   sweep <train flags> --grid k=v1,v2 … [--data A,B --pred_len 96,192 --seed … --method … --model …]
 *         [--select loss|sparsity] --queue URL --name NAME [--wait [--out DIR]]
 *       enqueue one BullMQ flow: a job per run (children) and the selection (the parent, started by BullMQ once
 *       every run is done). Job ids come from the name and each run's config hash, so enqueueing again adds nothing.
 *   sweep --queue URL --name NAME --status              progress per run and what each worker is running
 *   sweep --queue URL --name NAME --collect --out DIR [--select …] [--wait]
 *       sweep.md + sweep.jsonl (as the local sweep writes them) and each run's sparsity trajectory; exits 1 saying
 *       how many runs are unfinished until all are done. --wait polls (every --poll_ms, default 2000) until they
 *       are, or until a run has failed for good, which it names.
 */
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FlowProducer, Queue } from 'bullmq';
import { checkReachable, QUEUE_NAME, redisOptions, safeUrl } from '../queue/connection.ts';
import { checkSweepName, parentJobId, planRuns } from '../queue/run-plan.ts';
import { runName } from './sweep-axes.ts';
import { RUN_JOB, SELECT_JOB, describeConfig, type RunJobData, type SelectJobData } from '../queue/jobs.ts';
import { countsLine, failedLines, readSweep, type SweepState } from '../queue/sweep-state.ts';
import { selectRun, writeSweepTable, type RunRow } from './sweep-command.ts';
import type { ParsedArgs } from './args.ts';
import { parseCommandArgs } from './flags.ts';
import { SWEEP_OWN_NAMES, TRAIN, TRAIN_ELSEWHERE } from './commands.ts';
import { gridFromWords, passThroughArgs } from './sweep-plan.ts';
import { specFromArgs } from './train-command.ts';
import { makeDir } from '../io/make-dir.ts';

/** Times a run killed from outside (not by its own error, not by its worker's death) is tried again. */
const RUN_ATTEMPTS = 3;

interface QueueSweepArgs {
  queue: string;
  name: string;
  status: boolean;
  collect: boolean;
  wait: boolean;
  out: string | undefined;
  select: 'loss' | 'sparsity' | undefined;
  pollMs: number;
  grid: Map<string, string[]>;
  /** Train flags, axis lists still comma-joined. */
  pass: string[];
}

/** The queued sweep's settings from the sweep's parsed flags (src/cli/commands.ts SWEEP checked their combinations). */
function queueSweepArgs(args: ParsedArgs): QueueSweepArgs {
  const r: QueueSweepArgs = {
    queue: args.flags.get('queue')!,
    name: args.flags.get('name')!,
    status: args.switches.has('status'),
    collect: args.switches.has('collect'),
    wait: args.switches.has('wait'),
    out: args.flags.get('out'),
    select: args.flags.get('select') as 'loss' | 'sparsity' | undefined,
    pollMs: Number(args.flags.get('poll_ms') ?? 2000),
    grid: gridFromWords(args.repeated?.get('grid') ?? []),
    pass: passThroughArgs(args, TRAIN, SWEEP_OWN_NAMES),
  };
  redisOptions(r.queue); // a malformed URL fails here, before anything connects
  checkSweepName(r.name);
  return r;
}

export async function sweepQueueCommand(args: ParsedArgs): Promise<void> {
  const a = queueSweepArgs(args);
  const where = safeUrl(a.queue);
  await checkReachable(a.queue);
  const queue = new Queue(QUEUE_NAME, { connection: redisOptions(a.queue) });
  queue.on('error', () => {}); // failures surface through the awaited calls, with the URL in their message
  try {
    if (a.status) return await printStatus(queue, a.name, where);
    const enqueue = !a.collect && !a.status && (a.grid.size > 0 || a.pass.length > 0);
    if (enqueue) await enqueueSweep(a, where);
    if (a.wait) await waitForSweep(queue, a.name, where, a.pollMs);
    if (a.collect || (a.wait && a.out)) await collectSweep(queue, a, where);
    if (!enqueue && !a.wait && !a.collect) throw new Error('sparsecast sweep: with --queue, give train flags and --grid to enqueue, or --status, --collect or --wait');
  } finally {
    await queue.close();
  }
}

async function enqueueSweep(a: QueueSweepArgs, where: string): Promise<void> {
  const { keys, runs } = planRuns(a.name, a.pass, a.grid);
  // Check the flags here rather than on every worker; a data file this machine cannot see may exist on theirs.
  for (const r of runs) {
    try {
      specFromArgs(parseCommandArgs(TRAIN_ELSEWHERE, r.argv));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`sparsecast sweep: run ${describeConfig(r.config)}: ${(err as Error).message}`);
    }
  }
  for (const data of new Set(runs.map((r) => r.argv[r.argv.indexOf('--data') + 1]!))) {
    if (!existsSync(data)) process.stderr.write(`sweep: note: ${data} is not on this machine; the workers must see it at that path\n`);
  }
  const parent: SelectJobData = { sweep: a.name, select: a.select ?? 'loss', keys, runs: runs.map((r) => ({ jobId: r.jobId, hash: r.hash, config: r.config })) };
  const flow = new FlowProducer({ connection: redisOptions(a.queue) });
  flow.on('error', () => {});
  try {
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(a.queue) });
    const existing = await queue.getJob(parentJobId(a.name)).finally(() => queue.close());
    if (existing) {
      const same = JSON.stringify((existing.data as SelectJobData).runs) === JSON.stringify(parent.runs) && (existing.data as SelectJobData).select === parent.select;
      if (!same) throw new Error(`sparsecast sweep: a different sweep named '${a.name}' is already in the queue at ${where}; pick another --name`);
      process.stderr.write(`sweep: ${a.name} is already enqueued at ${where} (${runs.length} runs); nothing added\n`);
    } else {
      await flow.add({
        name: SELECT_JOB,
        queueName: QUEUE_NAME,
        data: parent,
        opts: { jobId: parentJobId(a.name) },
        children: runs.map((r) => ({
          name: RUN_JOB,
          queueName: QUEUE_NAME,
          data: { sweep: a.name, config: r.config, argv: r.argv, hash: r.hash } satisfies RunJobData,
          opts: { jobId: r.jobId, attempts: RUN_ATTEMPTS, backoff: { type: 'exponential', delay: 5000 }, failParentOnFailure: true },
        })),
      });
      process.stderr.write(`sweep: enqueued ${runs.length} runs as '${a.name}' at ${where}; watch with --status, gather with --collect --out DIR\n`);
    }
    for (const r of runs) console.log(JSON.stringify({ sweep: 'queued', name: a.name, job: r.jobId, hash: r.hash, ...r.config }));
  } finally {
    await flow.close();
  }
}

async function printStatus(queue: Queue, name: string, where: string): Promise<void> {
  const s = await readSweep(queue, name, where);
  const lines = [`${countsLine(s)} (queue at ${where}; selection by ${s.data.select}: ${s.parentState === 'completed' ? 'done' : s.parentState})`];
  for (const r of s.runs) {
    const res = r.result?.result;
    const detail =
      r.phase === 'done' ? `mse ${res?.mse} mae ${res?.mae} sparsity ${res?.sparsity} best_val ${res?.best_val} (by ${r.result?.worker}${r.result?.resumed ? ', resumed' : ''})`
      : r.phase === 'running' ? `on ${r.job?.processedBy ?? '?'} (attempt ${r.job?.attemptsStarted ?? 1})`
      : r.phase === 'failed' ? (r.failedReason ?? '').trim().split('\n')[0]!
      : r.state;
    lines.push(`  ${r.phase.padEnd(8)} ${r.jobId}  ${describeConfig(r.config)}  ${detail}`);
  }
  // Every worker on the queue (any sweep), and the run each is busy with.
  const names = [...new Set((await queue.getWorkers()).map((w) => (w.rawname ?? '').split(':w:')[1] ?? '(unnamed)'))].sort();
  const active = await queue.getActive();
  lines.push(`workers (${names.length}):`);
  for (const w of names) {
    const mine = active.filter((j) => j.processedBy === w);
    lines.push(`  ${w}  ${mine.length ? mine.map((j) => `running ${j.id} (${describeConfig((j.data as RunJobData).config ?? {})})`).join('; ') : 'idle'}`);
  }
  console.log(lines.join('\n'));
}

async function waitForSweep(queue: Queue, name: string, where: string, pollMs: number): Promise<void> {
  let last = '';
  let lastError = '';
  for (;;) {
    let s: SweepState;
    try {
      s = await readSweep(queue, name, where);
      lastError = '';
    } catch (err) {
      // Redis restarting: keep polling. A missing sweep is not transient.
      const msg = (err as Error).message;
      if (msg.includes('no sweep named')) throw err;
      if (msg !== lastError) process.stderr.write(`sweep: cannot read ${name} at ${where} (${msg}); retrying\n`);
      lastError = msg;
      await new Promise((r) => setTimeout(r, pollMs));
      continue;
    }
    const line = countsLine(s);
    if (line !== last) process.stderr.write(`${line}\n`);
    last = line;
    if (s.counts.failed) throw new Error(`${line}; failed for good:\n${failedLines(s).join('\n')}`);
    if (s.counts.done === s.runs.length) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function collectSweep(queue: Queue, a: QueueSweepArgs, where: string): Promise<void> {
  const s = await readSweep(queue, a.name, where);
  const unfinished = s.runs.length - s.counts.done;
  if (unfinished) {
    throw new Error(
      `${countsLine(s)}: ${unfinished} of ${s.runs.length} runs unfinished; nothing written to ${a.out} (--wait blocks until they are done)` +
        (s.counts.failed ? `\n${failedLines(s).join('\n')}` : ''),
    );
  }
  const out = a.out!;
  makeDir(out, 'the --out folder');
  const select = a.select ?? s.data.select;
  const rows: RunRow[] = s.runs.map((r) => ({ config: r.config, result: r.result!.result }));
  for (const [i, r] of s.runs.entries()) {
    console.log(JSON.stringify({ sweep: 'run', ...r.config, ...rows[i]!.result }));
    // Each run's folder, as in a local sweep's --out: the result line and the sparsity trajectory.
    const dir = join(out, runName(r.config));
    makeDir(dir);
    writeFileSync(join(dir, 'result.json'), `${JSON.stringify(rows[i]!.result)}\n`);
    writeFileSync(join(dir, 'sparsity.jsonl'), r.result!.sparsity.map((u) => `${JSON.stringify(u)}\n`).join(''));
  }
  const chosen = selectRun(rows, select);
  console.log(JSON.stringify({ sweep: 'selected', select, ...chosen.config, ...chosen.result }));
  writeSweepTable(out, s.data.keys, rows, chosen, select);
}
