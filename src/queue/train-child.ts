/**
 * One queued run as a `sparsecast train` child process. Training in a child keeps the worker's event loop free
 * for BullMQ's lock renewal however long a step takes, and the way the child ends tells the worker what to do:
 *   - exit 0 with a result line: done;
 *   - exit 0 with `"interrupted": true`, exit 130 / 143, or killed by a signal: stopped from outside (Ctrl-C,
 *     SIGTERM forwarded by the worker, the OOM killer); the checkpoint stays and the run can continue elsewhere;
 *   - exit 75 (EX_TEMPFAIL): its folder is busy with another train (a worker presumed dead still running it):
 *     retried later, like a stopped run;
 *   - any other exit code: the run itself failed (NaN loss, a data file that does not parse) and would fail again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UpdateRecord } from '../sparse/controller.ts';

export type ChildOutcome =
  | { kind: 'done'; result: Record<string, unknown> }
  | { kind: 'stopped'; how: string; stderrTail: string }
  | { kind: 'failed'; how: string; stderrTail: string };

const TAIL = 4000;

export interface TrainChild {
  child: ChildProcess;
  outcome: Promise<ChildOutcome>;
}

/**
 * `entry`: how to start this CLI (node flags such as a TS loader, then the script); `argv`: the run's train flags;
 * the child trains into `out`, continuing from its checkpoint when there is one.
 */
export function startTrain(entry: string[], argv: string[], out: string, threads: number | undefined): TrainChild & { resumed: boolean } {
  const resumed = existsSync(join(out, 'checkpoint.safetensors'));
  const args = [...entry, 'train', ...argv, '--out', out, ...(threads ? ['--threads', String(threads)] : []), ...(resumed ? ['--resume'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-TAIL);
  });
  const outcome = new Promise<ChildOutcome>((resolve) => {
    child.on('error', (err) => resolve({ kind: 'failed', how: `could not start (${err.message})`, stderrTail: stderr }));
    child.on('close', (code, signal) => {
      const tail = stderr.trim();
      if (signal) return resolve({ kind: 'stopped', how: `killed by ${signal}`, stderrTail: tail });
      // 130 / 143: stopped by a signal after saving; 75: its folder was busy (another train there) — try again later.
      if (code === 130 || code === 143 || code === 75) return resolve({ kind: 'stopped', how: `exit ${code}`, stderrTail: tail });
      if (code !== 0) return resolve({ kind: 'failed', how: `exit ${code}`, stderrTail: tail });
      let result: Record<string, unknown>;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
      } catch {
        return resolve({ kind: 'failed', how: 'exit 0 without a JSON result line', stderrTail: tail });
      }
      if (result.interrupted) return resolve({ kind: 'stopped', how: 'interrupted (checkpoint saved)', stderrTail: tail });
      resolve({ kind: 'done', result });
    });
  });
  return { child, outcome, resumed };
}

/**
 * The run's sparsity trajectory (sparsity.jsonl). A resumed run re-appends the updates made after its last
 * checkpoint — the very same lines, resume being bit-identical — so a line seen before is skipped.
 */
export function readTrajectory(out: string): UpdateRecord[] {
  const path = join(out, 'sparsity.jsonl');
  if (!existsSync(path)) return [];
  const lines = new Set(readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()));
  return [...lines].map((l) => JSON.parse(l) as UpdateRecord);
}
