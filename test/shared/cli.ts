/**
 * The CLI harness: every CLI test runs the real binary, `node bin/sparsecast.js …` (the esbuild bundle
 * dist/cli.js, kept fresh by test/setup/cli-bundle.ts), as a child process, and checks what a user sees: the
 * exit code, stdout, stderr and the files written.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const BIN = resolve(REPO, 'bin', 'sparsecast.js');

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
  input?: string;
}

/** Run `sparsecast ARGS` to completion (status, stdout, stderr as text). */
export function runCli(args: string[], opts: CliOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeout ?? 300_000, input: opts.input,
  });
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `sparsecast ARGS` without blocking the test's event loop (several at once with Promise.all). */
export function runCliAsync(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, opts);
  return finished(child);
}

/** Start `sparsecast ARGS` and return the child (signal tests: watch stderr, then kill it). */
export function startCli(args: string[], opts: CliOptions = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  if (opts.timeout) setTimeout(() => child.kill('SIGKILL'), opts.timeout).unref();
  return child;
}

/** Collect a started child's output until it exits. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: string) => (stdout += d));
  child.stderr.on('data', (d: string) => (stderr += d));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr }));
  });
}

/** A Transformer small enough that a CLI test trains it in seconds. */
export const TINY_MODEL = ['--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_ff', '32'];
