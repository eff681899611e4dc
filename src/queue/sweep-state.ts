/**
 * Where a queued sweep stands, read from BullMQ: the parent `select` job lists the runs (job id, config), and each
 * run job's state says done / running / waiting / failed. `--status`, `--collect` and `--wait` all read this.
 */
import type { Job, Queue } from 'bullmq';
import { parentJobId } from './run-plan.ts';
import { describeConfig, type RunJobResult, type SelectJobData } from './jobs.ts';

export type RunPhase = 'done' | 'running' | 'waiting' | 'failed';

export interface RunState {
  jobId: string;
  config: Record<string, string>;
  phase: RunPhase;
  /** BullMQ's own state name (waiting, delayed, prioritized, …). */
  state: string;
  job: Job | undefined;
  result?: RunJobResult;
  failedReason?: string;
}

export interface SweepState {
  name: string;
  data: SelectJobData;
  parentState: string;
  runs: RunState[];
  counts: Record<RunPhase, number>;
}

function phaseOf(state: string): RunPhase {
  if (state === 'completed') return 'done';
  if (state === 'active') return 'running';
  if (state === 'failed') return 'failed';
  return 'waiting'; // waiting, delayed (retry backoff, busy artifacts folder), prioritized, waiting-children
}

export async function readSweep(queue: Queue, name: string, where: string): Promise<SweepState> {
  const parent = await queue.getJob(parentJobId(name));
  if (!parent) throw new Error(`sparsecast sweep: no sweep named '${name}' in the queue at ${where} (enqueue it with --queue … --name ${name} and --grid …)`);
  const data = parent.data as SelectJobData;
  const runs = await Promise.all(
    data.runs.map(async (r): Promise<RunState> => {
      const job = await queue.getJob(r.jobId);
      // A run job that is gone was removed by hand (e.g. `obliterate`): it will never finish.
      const state = job ? await job.getState() : 'missing';
      const phase = state === 'missing' ? 'failed' : phaseOf(state);
      return {
        jobId: r.jobId, config: r.config, phase, state, job,
        ...(phase === 'done' ? { result: job!.returnvalue as RunJobResult } : {}),
        ...(phase === 'failed' ? { failedReason: job ? job.failedReason : `job ${r.jobId} is missing from the queue` } : {}),
      };
    }),
  );
  const counts: Record<RunPhase, number> = { done: 0, running: 0, waiting: 0, failed: 0 };
  for (const r of runs) counts[r.phase]++;
  return { name, data, parentState: await parent.getState(), runs, counts };
}

export function countsLine(s: SweepState): string {
  const c = s.counts;
  return `sweep ${s.name}: ${s.runs.length} runs: ${c.done} done, ${c.running} running, ${c.waiting} waiting, ${c.failed} failed`;
}

export function failedLines(s: SweepState): string[] {
  return s.runs.filter((r) => r.phase === 'failed').map((r) => `  failed: ${r.jobId} (${describeConfig(r.config)}): ${(r.failedReason ?? '').trim()}`);
}
