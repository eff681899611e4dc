// The distributed sweep with the real parts: a redis-server of its own (free port, temp dir, append-only file),
// BullMQ, and `sparsecast worker` processes training in `sparsecast train` children.
//   - a queued sweep (axis list × grid) through two workers, one SIGKILLed mid-run: every run arrives once, the
//     killed run resumes from its checkpoint on the other worker, and every result equals the local sweep's;
//     enqueueing twice adds nothing; --status names the workers; --collect exits 1 while runs are unfinished;
//   - SIGTERM on a worker checkpoints and gives the job back (not a failed attempt); a Redis restart mid-run loses
//     nothing and the sweep completes;
//   - a run whose data does not parse fails once, with its error, and is not retried; --wait and --collect say so.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './shared/cli.ts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../src/queue/connection.ts';
import type { RunJobResult } from '../src/queue/jobs.ts';

const CLI = [BIN]; // the real binary (test/shared/cli.ts)
// Two epochs of 8 batches with a PALS decision every 4 steps (γ changes the result), a checkpoint every 2 steps.
const TRAIN = [
  '--data', 'data/ETTh1.csv', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2',
  '--e_layers', '1', '--d_ff', '32', '--train_epochs', '2', '--max_train_batches', '8', '--checkpoint_every', '2',
  '--method', 'pals', '--update_freq', '4', '--val_batches', '2', '--no_epoch_test',
];
const COMPARED = ['mse', 'mae', 'sparsity', 'masked_sparsity', 'best_val', 'nnz', 'epochs_run'] as const;

const dir = mkdtempSync(join(tmpdir(), 'sc-queue-'));
let port = 0;
let url = '';
let redis: ChildProcess | undefined;
const workers: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function startRedis(): Promise<void> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not installed: run bash scripts/setup-system.sh');
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
  await waitFor('redis-server', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 10_000);
}

async function stopRedis(): Promise<void> {
  const r = redis!;
  const exited = new Promise((res) => r.once('exit', res));
  r.kill('SIGTERM'); // a clean shutdown: the append-only file is flushed
  await exited;
}

/** The CLI, without blocking this process's event loop (workers and timers keep going meanwhile). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Worker {
  proc: ChildProcess;
  log: () => string;
  exit: Promise<number | null>;
}

function startWorker(artifacts: string, name?: string, extra: string[] = []): Worker {
  const proc = spawn(process.execPath, [...CLI, 'worker', '--queue', url, '--artifacts', artifacts, '--lock_ms', '2000', ...(name ? ['--name', name] : []), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  workers.push(proc);
  return { proc, log: () => log, exit: new Promise((res) => proc.on('exit', (code, signal) => res(code ?? (signal ? -1 : null)))) };
}

/** The worker whose train child holds the lock of a folder under `artifacts`, once a checkpoint is there. */
function checkpointedRun(artifacts: string, workerPid: number): string | undefined {
  if (!existsSync(artifacts)) return undefined;
  for (const f of readdirSync(artifacts)) {
    if (!f.endsWith('.lock')) continue;
    try {
      const lock = JSON.parse(readFileSync(join(artifacts, f), 'utf8')) as { workerPid: number; childPid?: number };
      const run = join(artifacts, f.slice(0, -'.lock'.length));
      if (lock.workerPid === workerPid && lock.childPid && existsSync(join(run, 'checkpoint.safetensors'))) return run;
    } catch {
      // being written
    }
  }
  return undefined;
}

function rowsOf(jsonl: string): Record<string, unknown>[] {
  return jsonl.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function pick(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(COMPARED.map((k) => [k, r[k]]));
}

beforeAll(async () => {
  port = await freePort();
  url = `redis://127.0.0.1:${port}/0`;
  await startRedis();
});

// A test that fails midway must not leave its workers taking the next test's jobs.
afterEach(() => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  if (redis && redis.exitCode === null) await stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue', () => {
  // The reference: the same runs, trained by the local sweep (no Redis involved); started now, checked later.
  const localOut = join(dir, 'local');
  let local: Promise<{ status: number | null; stdout: string; stderr: string }>;

  it('a sweep through two workers, one SIGKILLed mid-run: every run once, equal to the local sweep', async () => {
    // The same command line both ways, but for --queue / --name (an axis list, --seed, expands in each).
    const sweep = ['sweep', ...TRAIN, '--seed', '2020,2021', '--grid', 'gamma=1.05,1.3'];
    local = cli([...sweep, '--jobs', '2', '--out', localOut]);
    const enqueue = [...sweep, '--queue', url, '--name', 'grid-a'];
    const e1 = await cli(enqueue);
    expect(e1.status, e1.stderr).toBe(0);
    const queued = rowsOf(e1.stdout);
    expect(queued.map((q) => `${q.seed}/${q.gamma}`)).toEqual(['2020/1.05', '2020/1.3', '2021/1.05', '2021/1.3']);
    // Enqueueing again is idempotent: the same job ids, nothing added.
    const e2 = await cli(enqueue);
    expect(e2.status, e2.stderr).toBe(0);
    expect(rowsOf(e2.stdout).map((q) => q.job)).toEqual(queued.map((q) => q.job));
    expect(e2.stderr).toMatch(/already enqueued.*nothing added/);
    // Other runs under a name in use are refused rather than mixed in.
    const e3 = await cli(['sweep', ...TRAIN, '--seed', '2020,2021', '--grid', 'gamma=1.05,1.2', '--queue', url, '--name', 'grid-a']);
    expect(e3.status).toBe(1);
    expect(e3.stderr).toMatch(/a different sweep named 'grid-a' is already in the queue at redis:\/\/127\.0\.0\.1:\d+\/0/);

    // Nothing is running yet: --collect refuses, saying how many runs are unfinished.
    const early = await cli(['sweep', '--queue', url, '--name', 'grid-a', '--collect', '--out', join(dir, 'early')]);
    expect(early.status).toBe(1);
    expect(early.stderr).toMatch(/4 of 4 runs unfinished/);
    expect(existsSync(join(dir, 'early', 'sweep.md'))).toBe(false);

    const artifacts = join(dir, 'artifacts');
    const a = startWorker(artifacts, 'worker-a');
    const b = startWorker(artifacts); // default name: host:pid
    // Kill worker A once its run has a checkpoint (its train child keeps running, orphaned).
    const killedRun = await waitFor('a checkpoint from worker A', () => checkpointedRun(artifacts, a.proc.pid!), 90_000, 50);
    const status = await cli(['sweep', '--queue', url, '--name', 'grid-a', '--status']);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/sweep grid-a: 4 runs: \d done, [12] running, \d waiting, 0 failed/);
    expect(status.stdout).toMatch(/workers \(2\):/);
    expect(status.stdout).toMatch(/worker-a {2}running grid-a\./);
    expect(status.stdout).toContain(`${hostname()}:${b.proc.pid}`);
    a.proc.kill('SIGKILL');

    const collected = await cli(['sweep', '--queue', url, '--name', 'grid-a', '--collect', '--wait', '--poll_ms', '500', '--out', join(dir, 'queued')]);
    expect(collected.status, collected.stderr + b.log()).toBe(0);
    expect(b.log()).toMatch(/resumed from the checkpoint in/);

    // The killed run finished on B, continuing from A's checkpoint; nothing ran twice to completion.
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port } });
    try {
      const results = await Promise.all(queued.map(async (r) => (await q.getJob(String(r.job)))!));
      const killed = results.find((j) => killedRun.endsWith((j.data as { hash: string }).hash))!;
      expect((killed.returnvalue as RunJobResult).resumed).toBe(true);
      expect((killed.returnvalue as RunJobResult).worker).toBe(`${hostname()}:${b.proc.pid}`);
      // One attempt each (BullMQ counts the one that completed); the stall and the postponement counted none.
      for (const j of results) expect(j.attemptsMade, `${j.id}: ${j.failedReason}\n${a.log()}\n${b.log()}`).toBe(1);
      // The sparsity trajectory comes back with the result, once per update even across the resume.
      const traj = (killed.returnvalue as RunJobResult).sparsity;
      expect(traj.length).toBeGreaterThan(2);
      expect(new Set(traj.map((u) => u.step)).size).toBe(traj.length);
      // The flow's parent ran after its four children and picked the run the collected table marks.
      const parent = await waitFor('the selection job', async () => {
        const j = (await q.getJob('sweep.grid-a'))!;
        return (await j.getState()) === 'completed' && j;
      }, 30_000);
      const selected = rowsOf(collected.stdout).find((r) => r.sweep === 'selected')!;
      expect(parent.returnvalue.config).toEqual({ seed: selected.seed, gamma: selected.gamma });
    } finally {
      await q.close();
    }

    const l = await local;
    expect(l.status, l.stderr).toBe(0);
    const want = rowsOf(readFileSync(join(localOut, 'sweep.jsonl'), 'utf8'));
    const got = rowsOf(readFileSync(join(dir, 'queued', 'sweep.jsonl'), 'utf8'));
    // Same shape as the local sweep's table: config and result merged, one line per run, each run once.
    expect(got).toHaveLength(4);
    expect(got.map((r) => `${r.seed}/${r.gamma}`)).toEqual(want.map((r) => `${r.seed}/${r.gamma}`));
    expect(Object.keys(got[0]!).sort()).toEqual(Object.keys(want[0]!).sort());
    for (let i = 0; i < 4; i++) expect(pick(got[i]!), `run ${i}`).toEqual(pick(want[i]!));
    expect(new Set(got.map((r) => r.mse)).size).toBeGreaterThan(1); // the grid does change the result
    const md = readFileSync(join(dir, 'queued', 'sweep.md'), 'utf8');
    expect(md.split('\n').filter((line) => line.startsWith('| 20'))).toHaveLength(4);
    expect(md).toEqual(readFileSync(join(localOut, 'sweep.md'), 'utf8'));
    expect(readFileSync(join(dir, 'queued', 'seed2020_gamma1.3', 'sparsity.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(2);
    // Each run's folder holds its result line, as a local sweep's run folder does: the run's own line, in the table.
    for (const r of got) {
      const result = JSON.parse(readFileSync(join(dir, 'queued', `seed${r.seed}_gamma${r.gamma}`, 'result.json'), 'utf8')) as Record<string, unknown>;
      expect(result.mse).toBe(r.mse);
      expect(result.sparsity).toBe(r.sparsity);
    }

    b.proc.kill('SIGTERM');
    expect(await b.exit).toBe(143);
  }, 240_000);

  it('SIGTERM and Ctrl-C give the job back (exit 143 / 130); a Redis restart mid-run loses nothing', async () => {
    // A fresh artifacts folder: the same run as the local sweep's seed 2021, γ 1.3, trained again from scratch.
    const artifacts = join(dir, 'artifacts-2');
    const e = await cli(['sweep', ...TRAIN, '--seed', '2021', '--grid', 'gamma=1.3', '--queue', url, '--name', 'term']);
    expect(e.status, e.stderr).toBe(0);
    const c = startWorker(artifacts, 'worker-c');
    const run = await waitFor('a checkpoint from worker C', () => checkpointedRun(artifacts, c.proc.pid!), 90_000, 50);
    c.proc.kill('SIGTERM');
    expect(await c.exit).toBe(143);
    expect(c.log()).toMatch(/released to the queue/);
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port } });
    q.on('error', () => {});
    const jobId = String(rowsOf(e.stdout)[0]!.job);
    try {
      const job = (await q.getJob(jobId))!;
      expect(await job.getState()).toBe('waiting');
      expect(job.attemptsMade).toBe(0);

      // Ctrl-C does the same and exits 130: a worker that resumed the run and wrote a checkpoint of its own.
      const before = statSync(join(run, 'checkpoint.safetensors')).mtimeMs;
      const c2 = startWorker(artifacts, 'worker-c2');
      await waitFor('a new checkpoint from worker C2', () => checkpointedRun(artifacts, c2.proc.pid!) && statSync(join(run, 'checkpoint.safetensors')).mtimeMs !== before, 90_000, 50);
      c2.proc.kill('SIGINT');
      expect(await c2.exit).toBe(130);
      expect(c2.log()).toMatch(/resumed from the checkpoint[\s\S]*released to the queue/);
      const again = (await q.getJob(jobId))!;
      expect(await again.getState()).toBe('waiting');
      expect(again.attemptsMade).toBe(0);
    } finally {
      await q.close();
    }

    const d = startWorker(artifacts, 'worker-d');
    await waitFor('worker D resuming', () => /resumed from the checkpoint/.test(d.log()), 60_000);
    await stopRedis();
    await sleep(500);
    await startRedis();
    const collected = await cli(['sweep', '--queue', url, '--name', 'term', '--collect', '--wait', '--poll_ms', '500', '--out', join(dir, 'term')]);
    expect(collected.status, collected.stderr + d.log()).toBe(0);
    const got = rowsOf(readFileSync(join(dir, 'term', 'sweep.jsonl'), 'utf8'));
    const want = rowsOf(readFileSync(join(localOut, 'sweep.jsonl'), 'utf8')).find((r) => r.seed === '2021' && r.gamma === '1.3')!;
    expect(got).toHaveLength(1);
    expect(pick(got[0]!)).toEqual(pick(want));
    d.proc.kill('SIGTERM');
    expect(await d.exit).toBe(143);
  }, 180_000);

  it('--concurrency 2: one worker trains two runs at once', async () => {
    const e = await cli(['sweep', ...TRAIN, '--seed', '2022', '--grid', 'gamma=1.05,1.2', '--queue', url, '--name', 'conc']);
    expect(e.status, e.stderr).toBe(0);
    const w = startWorker(join(dir, 'artifacts-conc'), 'worker-conc', ['--concurrency', '2']);
    const collected = await cli(['sweep', '--queue', url, '--name', 'conc', '--collect', '--wait', '--poll_ms', '500', '--out', join(dir, 'conc')]);
    expect(collected.status, collected.stderr + w.log()).toBe(0);
    expect(rowsOf(readFileSync(join(dir, 'conc', 'sweep.jsonl'), 'utf8'))).toHaveLength(2);
    // Both started before either finished.
    const events = w.log().split('\n').filter((l) => / started in | done: /.test(l)).map((l) => (l.includes(' started in ') ? 'start' : 'done'));
    expect(events).toEqual(['start', 'start', 'done', 'done']);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(143);
  }, 120_000);

  it('a run that fails fails once, with its error, and is not retried', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'date,a,b\nnot,a,table\n');
    const e = await cli(['sweep', ...TRAIN, '--data', bad, '--grid', 'lambda=1.1', '--queue', url, '--name', 'broken']);
    expect(e.status, e.stderr).toBe(0);
    const w = startWorker(join(dir, 'artifacts-3'), 'worker-e');
    const waited = await cli(['sweep', '--queue', url, '--name', 'broken', '--wait', '--poll_ms', '300']);
    expect(waited.status).toBe(1);
    expect(waited.stderr).toMatch(/1 failed/);
    expect(waited.stderr).toMatch(/failed: broken\.\w+ \(lambda=1\.1\): job broken\.\w+ \(sweep broken, lambda=1\.1\) failed \(exit 1\)/);
    expect(waited.stderr).toMatch(/OT|column/); // the train command's own error
    const status = await cli(['sweep', '--queue', url, '--name', 'broken', '--status']);
    expect(status.stdout).toMatch(/1 runs: 0 done, 0 running, 0 waiting, 1 failed/);
    expect(status.stdout).toMatch(/failed {3}broken\.\w+ {2}lambda=1\.1 {2}job broken\.\w+ \(sweep broken, lambda=1\.1\) failed \(exit 1\)/);
    const collected = await cli(['sweep', '--queue', url, '--name', 'broken', '--collect', '--out', join(dir, 'broken')]);
    expect(collected.status).toBe(1);
    expect(collected.stderr).toMatch(/1 of 1 runs unfinished/);
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port } });
    try {
      const job = (await q.getJob(String(rowsOf(e.stdout)[0]!.job)))!;
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1); // UnrecoverableError: no retries left to use
      expect(job.attemptsStarted).toBe(1);
    } finally {
      await q.close();
    }
    expect(w.log().match(/started in/g)).toHaveLength(1);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(143);
  }, 120_000);
});
