/**
 * A sweep worker: a BullMQ Worker on the shared queue whose processor trains each `run` job in a `sparsecast
 * train` child (src/queue/train-child.ts) into <artifacts>/<config hash>, and answers each `select` job (a
 * sweep's parent, started by BullMQ once all its runs completed) with the reference's selection.
 *
 * Faults map onto BullMQ's own mechanisms:
 *   - a run that fails (the child exits 1) throws UnrecoverableError: failed once, with the stderr tail as the
 *     reason, never retried; its parent fails with it (failParentOnFailure), so `sweep --wait` can stop;
 *   - a child killed from outside throws a plain Error: retried (the job's attempts), resuming from the checkpoint;
 *   - this worker dying: its job lock expires after lockDuration and another worker's stalled check puts the job
 *     back to wait; the retry resumes from the checkpoint in the shared artifacts folder;
 *   - stop() (SIGINT / SIGTERM): the children get SIGTERM (train checkpoints and exits), each job is moved back to
 *     wait with job.moveToWait + WaitingError — not counted as a failed attempt — and the worker closes.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { QUEUE_NAME, redisOptions, safeUrl } from './connection.ts';
import { ArtifactsLock } from './artifacts-lock.ts';
import { readTrajectory, startTrain } from './train-child.ts';
import { RUN_JOB, SELECT_JOB, describeConfig, type RunJobData, type RunJobResult, type SelectJobData, type SelectJobResult } from './jobs.ts';
import { selectRun } from '../cli/sweep-command.ts';
import { makeDir } from '../io/make-dir.ts';

export interface WorkerOptions {
  url: string;
  concurrency: number;
  threads?: number;
  artifacts: string;
  /** BullMQ lockDuration and stalledInterval: how soon a dead worker's job goes to another worker. */
  lockMs: number;
  name: string;
  /** How to start this CLI in a child (node flags such as a TS loader, then the script). */
  entry: string[];
  log: (line: string) => void;
}

export function defaultWorkerName(): string {
  return `${hostname()}:${process.pid}`;
}

export class SweepWorker {
  readonly worker: Worker;
  private readonly children = new Set<ChildProcess>();
  private stopping = false;

  constructor(private readonly o: WorkerOptions) {
    makeDir(o.artifacts, 'the --artifacts folder');
    this.worker = new Worker(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: { ...redisOptions(o.url), maxRetriesPerRequest: null },
      concurrency: o.concurrency,
      name: o.name,
      lockDuration: o.lockMs,
      stalledInterval: o.lockMs,
      // A job is handed over at most this often because its worker vanished before it counts as failed.
      maxStalledCount: 5,
      autorun: false,
    });
    let lastError = '';
    // Redis going away is expected (restarts); ioredis reconnects. Say so once per distinct message.
    this.worker.on('error', (err) => {
      if (err.message !== lastError) o.log(`worker ${o.name}: queue error at ${safeUrl(o.url)}: ${err.message}`);
      lastError = err.message;
    });
  }

  /** Resolves when the worker has closed (after stop()). */
  run(): Promise<void> {
    this.o.log(`worker ${this.o.name}: waiting for jobs on ${safeUrl(this.o.url)} (queue '${QUEUE_NAME}', concurrency ${this.o.concurrency}, artifacts ${resolve(this.o.artifacts)})`);
    return this.worker.run();
  }

  /** Stop taking jobs, let each running train checkpoint and exit, give its job back to the queue, close. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.children) c.kill('SIGTERM');
    await this.worker.close();
  }

  /** Second Ctrl-C: no checkpoint, no goodbye; the job locks expire and other workers take the jobs. */
  kill(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }

  private async process(job: Job, token?: string): Promise<RunJobResult | SelectJobResult> {
    if (job.name === SELECT_JOB) return this.select(job as Job<SelectJobData>);
    if (job.name !== RUN_JOB) throw new UnrecoverableError(`worker ${this.o.name}: job ${job.id} has an unknown name '${job.name}'`);
    return this.train(job as Job<RunJobData>, token);
  }

  private async select(job: Job<SelectJobData>): Promise<SelectJobResult> {
    const values = (await job.getChildrenValues()) as Record<string, RunJobResult>;
    // Keys are the children's Redis keys, `<prefix>:<queue>:<job id>`.
    const byId = new Map(Object.entries(values).map(([key, v]) => [key.slice(key.lastIndexOf(':') + 1), v]));
    const rows = job.data.runs.map((r) => {
      const v = byId.get(r.jobId);
      if (!v) throw new UnrecoverableError(`sweep ${job.data.sweep}: run ${r.jobId} (${describeConfig(r.config)}) has no result`);
      return { config: r.config, result: v.result };
    });
    const chosen = selectRun(rows, job.data.select);
    return { select: job.data.select, config: chosen.config, result: chosen.result };
  }

  private async train(job: Job<RunJobData>, token?: string): Promise<RunJobResult> {
    const { sweep, config, argv, hash } = job.data;
    const what = `job ${job.id} (sweep ${sweep}, ${describeConfig(config)})`;
    const out = join(this.o.artifacts, hash);
    const lock = ArtifactsLock.acquire(out, String(job.id), 3 * this.o.lockMs);
    if ('busy' in lock) {
      // Another process trains this folder: try again later rather than train it twice at once.
      this.o.log(`worker ${this.o.name}: ${what} postponed: ${lock.busy}`);
      await job.moveToDelayed(Date.now() + Math.min(this.o.lockMs, 5000), token);
      throw new DelayedError();
    }
    try {
      if (this.stopping) return await this.giveBack(job, token, what, 'the worker is stopping');
      const run = startTrain(this.o.entry, argv, out, this.o.threads);
      this.children.add(run.child);
      lock.held.started(run.child.pid, Math.max(1000, this.o.lockMs / 2));
      this.o.log(`worker ${this.o.name}: ${what} ${run.resumed ? 'resumed from the checkpoint in' : 'started in'} ${out}`);
      const outcome = await run.outcome;
      this.children.delete(run.child);
      if (outcome.kind === 'done') {
        this.o.log(`worker ${this.o.name}: ${what} done: mse ${outcome.result.mse}, sparsity ${outcome.result.sparsity}`);
        return { result: outcome.result as RunJobResult['result'], sparsity: readTrajectory(out), hash, worker: this.o.name, resumed: run.resumed };
      }
      if (outcome.kind === 'failed') {
        const reason = `${what} failed (${outcome.how}) training into ${out}:\n${outcome.stderrTail.slice(-2000)}`;
        this.o.log(`worker ${this.o.name}: ${reason}`);
        throw new UnrecoverableError(reason);
      }
      if (this.stopping) return await this.giveBack(job, token, what, `train ${outcome.how}`);
      throw new Error(`${what}: train was stopped from outside (${outcome.how}); retrying from the checkpoint in ${out}`);
    } finally {
      lock.held.release();
    }
  }

  /** Back to wait for another worker, without counting an attempt (BullMQ's WaitingError). */
  private async giveBack(job: Job, token: string | undefined, what: string, why: string): Promise<never> {
    await job.moveToWait(token);
    this.o.log(`worker ${this.o.name}: ${what} released to the queue (${why})`);
    throw new WaitingError();
  }
}
