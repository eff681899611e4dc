/**
 * What a queued sweep stores in BullMQ. A sweep is one flow: a `select` parent whose children are the `run`s;
 * BullMQ starts the parent only when every child has completed, and it picks the run as the local sweep does.
 */
import type { UpdateRecord } from '../sparse/controller.ts';

export const RUN_JOB = 'run';
export const SELECT_JOB = 'select';

export interface RunJobData {
  sweep: string;
  config: Record<string, string>;
  /** Canonical train flags; the worker adds --out <artifacts>/<hash>, --threads and --resume. */
  argv: string[];
  hash: string;
}

export interface RunJobResult {
  /** The train command's JSON result line. */
  result: Record<string, number | string>;
  /** The run's sparsity.jsonl: one record per sparsity update. */
  sparsity: UpdateRecord[];
  hash: string;
  /** Which worker finished it, and whether it continued from a checkpoint left by an earlier attempt. */
  worker: string;
  resumed: boolean;
}

export interface SelectJobData {
  sweep: string;
  select: 'loss' | 'sparsity';
  /** The table's columns: the axes given as lists, then the grid keys. */
  keys: string[];
  runs: { jobId: string; hash: string; config: Record<string, string> }[];
}

export interface SelectJobResult {
  select: 'loss' | 'sparsity';
  config: Record<string, string>;
  result: Record<string, number | string>;
}

/** How a run's config reads in messages: `lambda=1.05 gamma=1.1`. */
export function describeConfig(config: Record<string, string>): string {
  return Object.entries(config).map(([k, v]) => `${k}=${v}`).join(' ') || '(single run)';
}
